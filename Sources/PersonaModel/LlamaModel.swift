import PersonaCore
import PersonaTensor

/// A Llama-family model ready to run: configuration, immutable weights (referencing the
/// mapped file, in its stored formats), and the thread count of its kernels.
///
/// One forward pass runs at a time per model: scratch buffers are reused between calls
/// (allocated once for the largest shape seen), so share a model across threads only with
/// your own serialisation.
public final class LlamaModel {
    public let config: LlamaConfig
    public let weights: LlamaWeights
    /// Threads the kernels split work across (Dispatch); BLAS itself runs single-threaded.
    public var threads: Int {
        didSet { workspace = nil }
    }

    /// θ_i of RoPE, scaling applied ([ropeDimensions / 2]).
    public let inverseFrequencies: [Float]
    private var rope: RopeTable
    private var workspace: ForwardWorkspace?

    /// - ropeFrequencyFactors: GGUF `rope_freqs.weight` (Llama 3.1 scaling as llama.cpp stores it).
    public init(config: LlamaConfig, weights: LlamaWeights, threads: Int = 2, ropeFrequencyFactors: [Float]? = nil) throws {
        try weights.validate(against: config)
        try config.validate(source: "model")
        self.config = config
        self.weights = weights
        self.threads = max(1, threads)
        self.inverseFrequencies = config.inverseFrequencies(frequencyFactors: ropeFrequencyFactors)
        rope = RopeTable(positions: min(config.contextLength, 512), inverseFrequencies: inverseFrequencies)
    }

    /// A model over the tensors of an opened model file (GGUF, or a Hugging Face folder whose
    /// Q/K rows the file permutes to GGUF order). The file stays mapped for the model's life.
    public convenience init(file: ModelFile, threads: Int = 2) throws {
        let weights = try LlamaWeights.load(config: file.config, owner: file) { name in
            guard file.hasTensor(name), let view = try? file.tensor(name) else { return nil }
            return (view.type, view.shape, view.data)
        }
        try self.init(config: file.config, weights: weights, threads: threads, ropeFrequencyFactors: file.ropeFrequencyFactors)
    }

    /// Opens `path` (see `ModelFile.open`).
    public static func load(path: String, threads: Int = 2) throws -> LlamaModel {
        try LlamaModel(file: try ModelFile.open(path: path), threads: threads)
    }

    /// A KV cache for `capacity` positions of this model.
    public func makeCache(capacity: Int) throws -> KVCache { try KVCache(config: config, capacity: capacity) }

    // MARK: Forward

    /// Runs the model over `batch`.
    /// - cache: B must be 1 and the batch unpadded; the tokens continue the cached sequence
    ///   and are appended to it (prefill, or one token at a time for decoding).
    /// - logits: which logits to return; nll: whether to return per-token losses (computed
    ///   through a vocabulary-tiled head, never materialising [T, vocab]).
    /// - captures: activations to copy out (TransformerLens names), nil for none.
    /// - adapter: adds to each projection's output (LoRA).
    /// - keepActivations: keep every block's activations in the result (backward pass).
    public func forward(_ batch: TokenBatch, cache: KVCache? = nil, logits: LogitRows = .last, nll: Bool = false,
                        captures: ForwardCaptures? = nil, adapter: ProjectionAdapter? = nil,
                        keepActivations: Bool = false) throws -> ForwardResult {
        let c = config
        let B = batch.batchSize, T = batch.length, rows = B * T
        guard B > 0, T > 0, batch.tokens.count == rows else {
            throw ModelError.badInput("forward: \(batch.tokens.count) tokens do not make a batch of \(B) × \(T)")
        }
        if let mask = batch.mask, mask.count != rows {
            throw ModelError.badInput("forward: mask of \(mask.count) entries for a batch of \(B) × \(T)")
        }
        for (i, id) in batch.tokens.enumerated() where id < 0 || Int(id) >= c.vocabSize {
            throw ModelError.tokenOutOfRange(id: Int(id), position: i % T, vocabSize: c.vocabSize)
        }
        let past: Int
        if let cache {
            guard B == 1, batch.mask == nil else {
                throw ModelError.badInput("forward: a KV cache holds one unpadded sequence, not a batch of \(B)")
            }
            try cache.ensureRoom(for: T)
            past = cache.count
        } else {
            past = 0
        }
        let S = past + T  // keys each query can see at most
        guard S <= c.contextLength else {
            throw ModelError.contextFull(needed: S, capacity: c.contextLength, limit: "model's context")
        }
        ensureRope(positions: S)
        let ws = workspace(rows: rows, keys: S)
        BLASThreads.set(1)
        ComputePool.limitThreads(to: threads)

        // Positions and key masks.
        let positions = ws.positions.baseAddress!  // [rows]
        let keyValid = ws.keyValid.baseAddress!    // [B, T]
        for b in 0..<B {
            var seen = 0
            for t in 0..<T {
                let real = batch.isReal(b, t)
                keyValid[b * T + t] = real
                positions[b * T + t] = Int32(past + (real ? seen : max(seen - 1, 0)))
                if real { seen += 1 }
            }
        }

        // Embedding.
        let D = c.dModel, qWidth = c.nHeads * c.headDim, kvWidth = c.nKVHeads * c.headDim
        let x = ws.residual.pointer  // [rows, D]
        for i in 0..<rows { weights.embedding.row(Int(batch.tokens[i]), into: x + i * D) }
        captures.map { if $0.wants("hook_embed") { $0.store("hook_embed", shape: [B, T, D], from: x) } }

        var kept: [LayerActivations] = []
        let eps = Float(c.rmsNormEps)
        for (l, layer) in weights.layers.enumerated() {
            let act = keepActivations ? LayerActivations(rows: rows, config: c) : ws.activations
            let wantsPattern = captures?.wants("attn.hook_pattern", layer: l) ?? false
            if keepActivations || wantsPattern {
                act.probabilities = FloatBuffer(count: B * c.nHeads * T * S)
            } else {
                act.probabilities = nil
            }
            if keepActivations { act.input.pointer.update(from: x, count: rows * D) }
            if let captures, captures.wants("hook_resid_pre", layer: l) {
                captures.store("blocks.\(l).hook_resid_pre", shape: [B, T, D], from: x)
            }

            // Attention.
            rmsnormForward(x, weight: layer.attentionNorm.pointer, rows: rows, d: D, eps: eps,
                           into: act.attentionNormed.pointer, inverseRMS: act.attentionInverseRMS.pointer)
            project(act.attentionNormed.pointer, rows: rows, layer: l, [
                (.q, layer.q, act.q.pointer, false), (.k, layer.k, act.k.pointer, false), (.v, layer.v, act.v.pointer, false),
            ], adapter: adapter, ws: ws)
            ropeForward(act.q.pointer, rows: rows, heads: c.nHeads, headDim: c.headDim, positions: positions, table: rope)
            ropeForward(act.k.pointer, rows: rows, heads: c.nKVHeads, headDim: c.headDim, positions: positions, table: rope)
            let shape = AttentionShape(queries: T, keys: S, heads: c.nHeads, kvHeads: c.nKVHeads, headDim: c.headDim)
            if let cache {
                cache.store(layer: l, keys: act.k.pointer, values: act.v.pointer, n: T)
                attentionForward(q: act.q.pointer, k: cache.keys[l].pointer, v: cache.values[l].pointer, shape: shape,
                                 into: act.attentionOutput.pointer, probabilities: act.probabilities?.pointer,
                                 scratch: ws.attention)
            } else {
                for b in 0..<B {
                    attentionForward(q: act.q.pointer + b * T * qWidth, k: act.k.pointer + b * T * kvWidth,
                                     v: act.v.pointer + b * T * kvWidth, shape: shape,
                                     keyValid: batch.mask == nil ? nil : UnsafePointer<Bool>(keyValid + b * T),
                                     into: act.attentionOutput.pointer + b * T * qWidth,
                                     probabilities: act.probabilities.map { $0.pointer + b * c.nHeads * T * S },
                                     scratch: ws.attention)
                }
            }
            if wantsPattern, let captures, let p = act.probabilities {
                captures.store("blocks.\(l).attn.hook_pattern", shape: [B, c.nHeads, T, S], from: p.pointer)
            }
            project(act.attentionOutput.pointer, rows: rows, layer: l, [(.o, layer.o, x, true)], adapter: adapter, ws: ws)
            if keepActivations { act.mid.pointer.update(from: x, count: rows * D) }
            if let captures, captures.wants("hook_resid_mid", layer: l) {
                captures.store("blocks.\(l).hook_resid_mid", shape: [B, T, D], from: x)
            }

            // MLP.
            rmsnormForward(x, weight: layer.ffnNorm.pointer, rows: rows, d: D, eps: eps,
                           into: act.ffnNormed.pointer, inverseRMS: act.ffnInverseRMS.pointer)
            project(act.ffnNormed.pointer, rows: rows, layer: l, [
                (.gate, layer.gate, act.gate.pointer, false), (.up, layer.up, act.up.pointer, false),
            ], adapter: adapter, ws: ws)
            swigluForward(gate: act.gate.pointer, up: act.up.pointer, count: rows * c.dFF, into: act.hidden.pointer)
            project(act.hidden.pointer, rows: rows, layer: l, [(.down, layer.down, x, true)], adapter: adapter, ws: ws)

            if let captures {
                if captures.wants("hook_resid_post", layer: l) {
                    captures.store("blocks.\(l).hook_resid_post", shape: [B, T, D], from: x)
                }
                if captures.lensTopK > 0 { captures.lens.append(logitLens(x, rows: rows, topK: captures.lensTopK, ws: ws)) }
            }
            if keepActivations { kept.append(act) }
        }
        cache?.advance(by: T)

        // Final norm and head.
        var result = ForwardResult(logits: [], nll: [], activations: kept, finalResidual: nil)
        if keepActivations {
            let copy = FloatBuffer(count: rows * D)
            copy.pointer.update(from: x, count: rows * D)
            result.finalResidual = copy
        }
        let normed = ws.normed.pointer  // [rows, D]
        rmsnormForward(x, weight: weights.outputNorm.pointer, rows: rows, d: D, eps: eps, into: normed)
        if let captures, captures.wants("ln_final.hook_normalized") {
            captures.store("ln_final.hook_normalized", shape: [B, T, D], from: normed)
        }
        if nll && T > 1 {
            let targets = ws.targets.baseAddress!  // [rows]
            for b in 0..<B {
                for t in 0..<T {
                    let scored = t + 1 < T && batch.isReal(b, t) && batch.isReal(b, t + 1)
                    targets[b * T + t] = scored ? batch.tokens[b * T + t + 1] : -1
                }
            }
            let losses = ws.losses.pointer  // [rows]
            linearCrossEntropyForward(normed, rows: rows, weight: weights.output, targets: targets, into: losses,
                                      scratch: ws.crossEntropy)
            result.nll.reserveCapacity(B * (T - 1))
            for b in 0..<B { for t in 0..<(T - 1) { result.nll.append(losses[b * T + t]) } }
        }
        switch logits {
        case .none:
            break
        case .all:
            result.logits = headLogits(normed, rows: rows, ws: ws)
        case .last:
            let gathered = ws.lastRows.pointer  // [B, D]
            for b in 0..<B {
                var last = T - 1
                while last > 0 && !batch.isReal(b, last) { last -= 1 }
                (gathered + b * D).update(from: normed + (b * T + last) * D, count: D)
            }
            result.logits = headLogits(gathered, rows: B, ws: ws)
        }
        return result
    }

    /// Logits [rows, vocab] of final-normed rows.
    func headLogits(_ normed: UnsafePointer<Float>, rows: Int, ws: ForwardWorkspace) -> [Float] {
        let vocab = config.vocabSize
        return [Float](unsafeUninitializedCapacity: rows * vocab) { buffer, initialized in
            guard let out = buffer.baseAddress else { initialized = 0; return }
            if rows == 1 {
                matvec(weights.output, x: normed, into: out, scratch: ws.matvec)
            } else {
                matmul(normed, rows: rows, weight: weights.output, into: out, scratch: ws.matmul)
            }
            initialized = rows * vocab
        }
    }

    /// The logit lens of one residual [rows, D]: final norm, head, top-k per row.
    func logitLens(_ x: UnsafePointer<Float>, rows: Int, topK k: Int, ws: ForwardWorkspace) -> [[LensEntry]] {
        let D = config.dModel, vocab = config.vocabSize
        let normed = FloatBuffer(count: D)
        var out: [[LensEntry]] = []
        let logits = FloatBuffer(count: vocab)
        for r in 0..<rows {
            rmsnormForward(x + r * D, weight: weights.outputNorm.pointer, rows: 1, d: D, eps: Float(config.rmsNormEps),
                           into: normed.pointer)
            matvec(weights.output, x: normed.pointer, into: logits.pointer, scratch: ws.matvec)
            out.append(topK(logits.pointer, count: vocab, k: k).map { LensEntry(id: $0.index, logit: $0.value) })
        }
        return out
    }

    /// Runs the projections that share input `x` [rows, in]: fused into one matrix–vector
    /// dispatch for a single row (decoding), one tiled sgemm each otherwise; then lets the
    /// adapter add its deltas.
    private func project(_ x: UnsafePointer<Float>, rows: Int, layer: Int,
                         _ jobs: [(Projection, WeightMatrix, UnsafeMutablePointer<Float>, Bool)],
                         adapter: ProjectionAdapter?, ws: ForwardWorkspace) {
        if rows == 1 {
            matvec(jobs.map { MatvecJob($0.1, into: $0.2, accumulate: $0.3) }, x: x, scratch: ws.matvec)
        } else {
            for (_, w, out, accumulate) in jobs {
                matmul(x, rows: rows, weight: w, into: out, accumulate: accumulate, scratch: ws.matmul)
            }
        }
        if let adapter {
            for (p, w, out, _) in jobs { adapter.addDelta(layer: layer, projection: p, x: x, rows: rows, y: out, yStride: w.rows) }
        }
    }

    private func ensureRope(positions: Int) {
        guard positions > rope.positions else { return }
        var n = rope.positions
        while n < positions { n *= 2 }
        rope = RopeTable(positions: min(n, config.contextLength), inverseFrequencies: inverseFrequencies)
    }

    private func workspace(rows: Int, keys: Int) -> ForwardWorkspace {
        if let ws = workspace, ws.rows >= rows, ws.keys >= keys { return ws }
        let grownRows = max(rows, workspace?.rows ?? 0), grownKeys = max(keys, workspace?.keys ?? 0)
        let ws = ForwardWorkspace(config: config, rows: grownRows, keys: grownKeys, threads: threads)
        workspace = ws
        return ws
    }

    /// Releases the scratch buffers (they come back on the next forward pass).
    public func releaseScratch() { workspace = nil }
}

/// Scratch buffers of forward passes, sized for `rows` tokens and `keys` positions.
final class ForwardWorkspace {
    let rows: Int, keys: Int
    let residual: FloatBuffer           // [rows, D]
    let normed: FloatBuffer             // [rows, D]
    let lastRows: FloatBuffer           // [rows, D] gathered rows for the head
    let positions: UnsafeMutableBufferPointer<Int32>  // [rows]
    let keyValid: UnsafeMutableBufferPointer<Bool>    // [rows]
    let targets: UnsafeMutableBufferPointer<Int32>    // [rows]
    let losses: FloatBuffer             // [rows]
    let activations: LayerActivations
    let matmul: MatmulScratch
    let matvec: MatvecScratch
    let attention: AttentionScratch
    /// Made on first use: only passes that compute losses need it.
    lazy var crossEntropy = LinearCrossEntropyScratch(threads: threads, rows: rows, columns: dModel,
                                                      tileRows: rows > 1024 ? 64 : 256)
    private let threads: Int, dModel: Int

    init(config c: LlamaConfig, rows: Int, keys: Int, threads: Int) {
        self.rows = rows; self.keys = keys
        residual = FloatBuffer(count: rows * c.dModel)
        normed = FloatBuffer(count: rows * c.dModel)
        lastRows = FloatBuffer(count: rows * c.dModel)
        positions = .allocate(capacity: rows); positions.initialize(repeating: 0)
        keyValid = .allocate(capacity: rows); keyValid.initialize(repeating: true)
        targets = .allocate(capacity: rows); targets.initialize(repeating: -1)
        losses = FloatBuffer(count: rows)
        activations = LayerActivations(rows: rows, config: c)
        let widest = max(c.dModel, c.dFF, c.nHeads * c.headDim)
        matmul = MatmulScratch(threads: threads, maxColumns: widest)
        matvec = MatvecScratch(threads: threads, maxColumns: widest)
        let queries = rows == 1 ? 1 : min(rows, keys)
        attention = AttentionScratch(threads: threads, capacity: max(queries, 1) * keys)
        self.threads = threads
        dModel = c.dModel
    }

    deinit {
        positions.deallocate(); keyValid.deallocate(); targets.deallocate()
    }
}
