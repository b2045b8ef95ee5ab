import Foundation
import PersonaCore
import PersonaTensor

/// A float32 matrix owned in memory (tests' random models, float bases).
public final class FloatMatrix: FrozenMatrix {
    public let rows: Int
    public let columns: Int
    /// [rows, columns]
    public let values: UnsafeMutableBufferPointer<Float>

    public init(rows: Int, columns: Int) {
        self.rows = rows; self.columns = columns
        values = .allocate(capacity: max(1, rows * columns))
        values.initialize(repeating: 0)
    }

    deinit { values.deallocate() }

    public func dequantizeRows(_ range: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        destination.update(from: values.baseAddress! + range.lowerBound * columns, count: range.count * columns)
    }
}

/// A matrix stored in a GGUF file in any dequantizable ggml type, read through the file's
/// mapping: rows are dequantized tile by tile when a product needs them, so the base stays
/// quantized in memory (QLoRA).
public struct QuantizedMatrix: FrozenMatrix {
    public let rows: Int
    public let columns: Int
    public let type: GGMLType
    public let data: UnsafeRawPointer
    /// Keeps the mapping alive.
    let owner: AnyObject

    public func dequantizeRows(_ range: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        PersonaTensor.dequantizeRows(type, data, rowLength: columns, rows: range, into: destination)
    }
}

/// The frozen weights of one Llama block.
public struct FrozenBlock {
    public var attentionNorm: [Float]   // [d]
    public var q: any FrozenMatrix      // [d, d]   rows in GGUF (interleaved-RoPE) order
    public var k: any FrozenMatrix      // [kv, d]  rows in GGUF order
    public var v: any FrozenMatrix      // [kv, d]
    public var o: any FrozenMatrix      // [d, d]
    public var mlpNorm: [Float]         // [d]
    public var gate: any FrozenMatrix   // [ff, d]
    public var up: any FrozenMatrix     // [ff, d]
    public var down: any FrozenMatrix   // [d, ff]

    public func matrix(_ target: LoRATarget) -> any FrozenMatrix {
        switch target {
        case .q: return q
        case .k: return k
        case .v: return v
        case .o: return o
        case .gate: return gate
        case .up: return up
        case .down: return down
        }
    }
}

/// The frozen base model for training: embeddings (tied to the output head), blocks and the
/// final norm, in GGUF conventions (Q and K rows permuted for interleaved RoPE).
public final class FrozenLlama {
    public let shape: ModelShape
    public let embedding: any FrozenMatrix  // [V, d], also the output head
    public let output: any FrozenMatrix     // [V, d] (the embedding when tied)
    /// Whether the output head is the embedding matrix.
    public let tiedOutput: Bool
    public let blocks: [FrozenBlock]
    public let finalNorm: [Float]           // [d]
    /// Where it came from (a path, or "random").
    public let source: String

    public init(shape: ModelShape, embedding: any FrozenMatrix, output: (any FrozenMatrix)? = nil, blocks: [FrozenBlock],
                finalNorm: [Float], source: String) {
        self.shape = shape; self.embedding = embedding; self.output = output ?? embedding
        self.tiedOutput = output == nil
        self.blocks = blocks; self.finalNorm = finalNorm; self.source = source
    }

    /// Opens a GGUF Llama model; every tensor is checked for presence, type and shape.
    public static func load(gguf path: String) throws -> FrozenLlama {
        let file = try GGUFFile(path: path)
        let arch = file.string("general.architecture") ?? "llama"
        func int(_ key: String) throws -> Int {
            guard let v = file.int("\(arch).\(key)"), v > 0, v < 1 << 24 else {
                throw TrainError.badFile(path: path, reason: "metadata \(arch).\(key) is missing or out of range")
            }
            return v
        }
        let layers = try int("block_count"), hidden = try int("embedding_length")
        let heads = try int("attention.head_count")
        let kvHeads = file.int("\(arch).attention.head_count_kv") ?? heads
        let ff = try int("feed_forward_length")
        let ropeBase = Float(file.double("\(arch).rope.freq_base") ?? 10_000)
        let eps = Float(file.double("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5)
        guard heads > 0, hidden % heads == 0, kvHeads > 0, heads % kvHeads == 0, (hidden / heads) % 2 == 0 else {
            throw TrainError.badFile(path: path, reason: "heads \(heads)/\(kvHeads) do not divide hidden size \(hidden)")
        }
        guard let embd = file.tensor(named: "token_embd.weight"), embd.shape.count == 2, embd.shape[0] == hidden else {
            throw TrainError.badFile(path: path, reason: "token_embd.weight is missing or not [\(hidden), vocab]")
        }
        let shape = ModelShape(layers: layers, hidden: hidden, heads: heads, kvHeads: kvHeads, intermediate: ff,
                               vocab: embd.shape[1], ropeBase: ropeBase, normEpsilon: eps)
        func matrix(_ name: String, rows: Int, columns: Int) throws -> any FrozenMatrix {
            guard let t = file.tensor(named: name) else { throw TrainError.badFile(path: path, reason: "tensor \(name) is missing") }
            guard t.shape == [columns, rows] || (rows == 1 && t.shape == [columns]) else {
                throw TrainError.badFile(path: path, reason: "tensor \(name) has shape \(t.shape); expected [\(columns), \(rows)]")
            }
            guard t.type.isDequantizable, columns % t.type.blockSize == 0 else {
                throw TrainError.badFile(path: path, reason: "tensor \(name) has type \(t.type), which cannot be dequantized")
            }
            let data = file.data(for: t)
            guard let base = data.baseAddress, data.count >= rowByteCount(t.type, rowLength: columns) * rows else {
                throw TrainError.badFile(path: path, reason: "tensor \(name) data is shorter than its shape")
            }
            return QuantizedMatrix(rows: rows, columns: columns, type: t.type, data: base, owner: file)
        }
        func vector(_ name: String, count: Int) throws -> [Float] {
            let m = try matrix(name, rows: 1, columns: count)
            var v = [Float](repeating: 0, count: count)
            v.withUnsafeMutableBufferPointer { m.dequantizeRows(0..<1, into: $0.baseAddress!) }
            return v
        }
        let kv = shape.kvDim
        var blocks: [FrozenBlock] = []
        for l in 0..<layers {
            let p = "blk.\(l)."
            blocks.append(FrozenBlock(
                attentionNorm: try vector(p + "attn_norm.weight", count: hidden),
                q: try matrix(p + "attn_q.weight", rows: hidden, columns: hidden),
                k: try matrix(p + "attn_k.weight", rows: kv, columns: hidden),
                v: try matrix(p + "attn_v.weight", rows: kv, columns: hidden),
                o: try matrix(p + "attn_output.weight", rows: hidden, columns: hidden),
                mlpNorm: try vector(p + "ffn_norm.weight", count: hidden),
                gate: try matrix(p + "ffn_gate.weight", rows: ff, columns: hidden),
                up: try matrix(p + "ffn_up.weight", rows: ff, columns: hidden),
                down: try matrix(p + "ffn_down.weight", rows: hidden, columns: ff)))
        }
        let embedding = try matrix("token_embd.weight", rows: shape.vocab, columns: hidden)
        let output = file.tensor(named: "output.weight") == nil ? nil : try matrix("output.weight", rows: shape.vocab, columns: hidden)
        return FrozenLlama(shape: shape, embedding: embedding, output: output, blocks: blocks,
                           finalNorm: try vector("output_norm.weight", count: hidden), source: path)
    }

    /// A random model for tests and benchmarks of shape paths (weights N(0, 0.02²)·scale,
    /// norms near 1).
    public static func random(shape: ModelShape, rng: inout SeededGenerator, scale: Float = 1) -> FrozenLlama {
        func matrix(_ rows: Int, _ columns: Int, std: Float) -> FloatMatrix {
            let m = FloatMatrix(rows: rows, columns: columns)
            for i in 0..<(rows * columns) { m.values[i] = Float(rng.nextGaussian()) * std * scale }
            return m
        }
        func norm() -> [Float] { (0..<shape.hidden).map { _ in 1 + 0.1 * Float(rng.nextGaussian()) } }
        let d = shape.hidden, kv = shape.kvDim, ff = shape.intermediate
        let wStd = 1 / Float(d).squareRoot()
        var blocks: [FrozenBlock] = []
        for _ in 0..<shape.layers {
            blocks.append(FrozenBlock(attentionNorm: norm(), q: matrix(d, d, std: wStd), k: matrix(kv, d, std: wStd),
                                      v: matrix(kv, d, std: wStd), o: matrix(d, d, std: wStd), mlpNorm: norm(),
                                      gate: matrix(ff, d, std: wStd), up: matrix(ff, d, std: wStd),
                                      down: matrix(d, ff, std: 1 / Float(ff).squareRoot())))
        }
        let embedding = matrix(shape.vocab, d, std: 1)
        return FrozenLlama(shape: shape, embedding: embedding, blocks: blocks, finalNorm: norm(), source: "random")
    }
}

import PersonaModel

extension FrozenLlama {
    /// The frozen base of a loaded `LlamaModel` (its weights stay as stored: quantized blocks
    /// are dequantized tile by tile when training needs them).
    public convenience init(model: LlamaModel, source: String) throws {
        let c = model.config, w = model.weights
        guard c.headDim * c.nHeads == c.dModel, c.ropeDimensions == c.headDim, c.ropeScaling == RopeScaling.none else {
            throw TrainError.invalid("training supports Llama models with head size × heads = hidden size, full-width RoPE and no RoPE scaling")
        }
        let shape = ModelShape(layers: c.nLayers, hidden: c.dModel, heads: c.nHeads, kvHeads: c.nKVHeads, intermediate: c.dFF,
                               vocab: c.vocabSize, ropeBase: Float(c.ropeTheta), normEpsilon: Float(c.rmsNormEps))
        func vector(_ v: WeightVector) -> [Float] { Array(UnsafeBufferPointer(start: v.pointer, count: v.count)) }
        let blocks = w.layers.map { l in
            FrozenBlock(attentionNorm: vector(l.attentionNorm), q: l.q, k: l.k, v: l.v, o: l.o, mlpNorm: vector(l.ffnNorm),
                        gate: l.gate, up: l.up, down: l.down)
        }
        self.init(shape: shape, embedding: w.embedding, output: c.tiedOutput ? nil : w.output, blocks: blocks, finalNorm: vector(w.outputNorm), source: source)
    }
}
