import PersonaCore
import PersonaTensor

/// Storage format of the matrices of a random model (tests of every kernel path).
public enum RandomWeightFormat: Sendable {
    case f32, q8_0, q4_1
}

extension LlamaWeights {
    /// A Llama with Gaussian weights (std `scale`) and norm gains near 1, drawn from `rng`:
    /// the tiny model of fast tests. Quantized formats quantize the same draws, so a
    /// `.q4_1` model and its `.f32` twin differ only by rounding.
    public static func random(config c: LlamaConfig, format: RandomWeightFormat = .f32, scale: Float = 0.08,
                              using rng: inout SeededGenerator) -> LlamaWeights {
        func matrix(_ name: String, _ rows: Int, _ columns: Int) -> WeightMatrix {
            let values = FloatBuffer(count: rows * columns)
            for i in 0..<values.count { values.pointer[i] = Float(rng.nextGaussian()) * scale }
            return quantized(name: name, rows: rows, columns: columns, values: values, format: format)
        }
        func gains(_ name: String) -> WeightVector {
            let b = FloatBuffer(count: c.dModel)
            for i in 0..<b.count { b.pointer[i] = 1 + Float(rng.nextGaussian()) * 0.1 }
            return .owning(name: name, b)
        }
        let embedding = matrix("token_embd.weight", c.vocabSize, c.dModel)
        var layers: [LayerWeights] = []
        for l in 0..<c.nLayers {
            let p = "blk.\(l)."
            layers.append(LayerWeights(
                attentionNorm: gains(p + "attn_norm.weight"),
                q: matrix(p + "attn_q.weight", c.nHeads * c.headDim, c.dModel),
                k: matrix(p + "attn_k.weight", c.nKVHeads * c.headDim, c.dModel),
                v: matrix(p + "attn_v.weight", c.nKVHeads * c.headDim, c.dModel),
                o: matrix(p + "attn_output.weight", c.dModel, c.nHeads * c.headDim),
                ffnNorm: gains(p + "ffn_norm.weight"),
                gate: matrix(p + "ffn_gate.weight", c.dFF, c.dModel),
                up: matrix(p + "ffn_up.weight", c.dFF, c.dModel),
                down: matrix(p + "ffn_down.weight", c.dModel, c.dFF)))
        }
        let outputNorm = gains("output_norm.weight")
        let output = c.tiedOutput ? embedding : matrix("output.weight", c.vocabSize, c.dModel)
        return LlamaWeights(embedding: embedding, layers: layers, outputNorm: outputNorm, output: output)
    }
}

/// `values` [rows, columns] stored in `format` (quantized formats need columns % 32 == 0).
public func quantized(name: String, rows: Int, columns: Int, values: FloatBuffer, format: RandomWeightFormat) -> WeightMatrix {
    switch format {
    case .f32:
        return .f32(name: name, rows: rows, columns: columns, values: values)
    case .q8_0:
        let bytes = RawBytes(count: rows * columns / 32 * QuantizedBlocks.q8_0Bytes)
        QuantizedBlocks.quantizeQ8_0(values.pointer, count: rows * columns, into: bytes.pointer)
        return WeightMatrix(name: name, rows: rows, columns: columns, storage: .q8_0(UnsafeRawPointer(bytes.pointer)), owner: bytes)
    case .q4_1:
        let bytes = RawBytes(count: rows * columns / 32 * QuantizedBlocks.q4_1Bytes)
        QuantizedBlocks.quantizeQ4_1(values.pointer, count: rows * columns, into: bytes.pointer)
        return WeightMatrix(name: name, rows: rows, columns: columns, storage: .q4_1(UnsafeRawPointer(bytes.pointer)), owner: bytes)
    }
}

/// Owned raw bytes (quantized fixtures).
public final class RawBytes: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let count: Int
    public init(count: Int) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
    }
    deinit { pointer.deallocate() }
}
