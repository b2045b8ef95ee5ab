import PersonaTensor

/// A float32 vector of weights (norm gains) that does not own its storage; `owner` keeps it alive.
public struct WeightVector: @unchecked Sendable {
    public let name: String
    public let pointer: UnsafePointer<Float>
    public let count: Int
    public let owner: AnyObject?

    public init(name: String, pointer: UnsafePointer<Float>, count: Int, owner: AnyObject?) {
        self.name = name; self.pointer = pointer; self.count = count; self.owner = owner
    }

    public static func owning(name: String, _ buffer: FloatBuffer) -> WeightVector {
        WeightVector(name: name, pointer: UnsafePointer(buffer.pointer), count: buffer.count, owner: buffer)
    }
}

/// The seven projections of a block that carry a weight matrix (and that LoRA adapts).
public enum Projection: String, CaseIterable, Sendable {
    case q, k, v, o, gate, up, down
}

/// One transformer block's weights. Matrices are out × in (GGUF `blk.N.*`); the rows of
/// `q` and `k` are in GGUF's permuted order for interleaved RoPE.
public struct LayerWeights: Sendable {
    public var attentionNorm: WeightVector  // [dModel]
    public var q: WeightMatrix              // [nHeads·headDim, dModel]
    public var k: WeightMatrix              // [nKVHeads·headDim, dModel]
    public var v: WeightMatrix              // [nKVHeads·headDim, dModel]
    public var o: WeightMatrix              // [dModel, nHeads·headDim]
    public var ffnNorm: WeightVector        // [dModel]
    public var gate: WeightMatrix           // [dFF, dModel]
    public var up: WeightMatrix             // [dFF, dModel]
    public var down: WeightMatrix           // [dModel, dFF]

    public init(attentionNorm: WeightVector, q: WeightMatrix, k: WeightMatrix, v: WeightMatrix, o: WeightMatrix,
                ffnNorm: WeightVector, gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix) {
        self.attentionNorm = attentionNorm; self.q = q; self.k = k; self.v = v; self.o = o
        self.ffnNorm = ffnNorm; self.gate = gate; self.up = up; self.down = down
    }

    public func matrix(_ p: Projection) -> WeightMatrix {
        switch p {
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

/// All weights of a Llama model, immutable after load.
public struct LlamaWeights: Sendable {
    public var embedding: WeightMatrix      // [vocab, dModel]
    public var layers: [LayerWeights]
    public var outputNorm: WeightVector     // [dModel]
    /// [vocab, dModel]; the embedding itself when the head is tied.
    public var output: WeightMatrix

    public init(embedding: WeightMatrix, layers: [LayerWeights], outputNorm: WeightVector, output: WeightMatrix) {
        self.embedding = embedding; self.layers = layers; self.outputNorm = outputNorm; self.output = output
    }

    /// Checks every shape against `config`, naming the first tensor that does not fit.
    public func validate(against c: LlamaConfig) throws {
        func check(_ w: WeightMatrix, _ rows: Int, _ columns: Int) throws {
            guard w.rows == rows, w.columns == columns else {
                throw ModelError.badWeight(tensor: w.name, expected: "\(rows) × \(columns)", actual: "\(w.rows) × \(w.columns)")
            }
            switch w.storage {
            case .f32: break
            default:
                guard columns % 32 == 0 else {
                    throw ModelError.badWeight(tensor: w.name, expected: "a row length divisible by the block size 32", actual: "\(columns)")
                }
            }
        }
        func check(_ v: WeightVector, _ n: Int) throws {
            guard v.count == n else { throw ModelError.badWeight(tensor: v.name, expected: "\(n) values", actual: "\(v.count)") }
        }
        guard layers.count == c.nLayers else {
            throw ModelError.badWeight(tensor: "blk.*", expected: "\(c.nLayers) blocks", actual: "\(layers.count)")
        }
        try check(embedding, c.vocabSize, c.dModel)
        try check(output, c.vocabSize, c.dModel)
        try check(outputNorm, c.dModel)
        for l in layers {
            try check(l.attentionNorm, c.dModel)
            try check(l.ffnNorm, c.dModel)
            try check(l.q, c.nHeads * c.headDim, c.dModel)
            try check(l.k, c.nKVHeads * c.headDim, c.dModel)
            try check(l.v, c.nKVHeads * c.headDim, c.dModel)
            try check(l.o, c.dModel, c.nHeads * c.headDim)
            try check(l.gate, c.dFF, c.dModel)
            try check(l.up, c.dFF, c.dModel)
            try check(l.down, c.dModel, c.dFF)
        }
    }

    /// Number of weights (the tied head counted once).
    public var parameterCount: Int {
        var n = embedding.rows * embedding.columns + outputNorm.count
        if output.name != embedding.name { n += output.rows * output.columns }
        for l in layers {
            n += l.attentionNorm.count + l.ffnNorm.count
            for p in Projection.allCases { n += l.matrix(p).rows * l.matrix(p).columns }
        }
        return n
    }

    /// Bytes of all weights in their storage formats (the tied head counted once).
    public var storedBytes: Int {
        var n = embedding.rows * embedding.rowBytes + 4 * outputNorm.count
        if output.name != embedding.name { n += output.rows * output.rowBytes }
        for l in layers {
            n += 4 * (l.attentionNorm.count + l.ffnNorm.count)
            for p in Projection.allCases { n += l.matrix(p).rows * l.matrix(p).rowBytes }
        }
        return n
    }

    /// Storage formats and how many matrices use each (`Q4_1 ×210`).
    public var formatCounts: [(format: String, count: Int)] {
        var counts: [String: Int] = [:]
        var order: [String] = []
        var all = [embedding]
        if output.name != embedding.name { all.append(output) }
        for l in layers { for p in Projection.allCases { all.append(l.matrix(p)) } }
        for w in all {
            if counts[w.formatName] == nil { order.append(w.formatName) }
            counts[w.formatName, default: 0] += 1
        }
        counts["F32", default: 0] += 0
        return order.map { ($0, counts[$0] ?? 0) }
    }
}
