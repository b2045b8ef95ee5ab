import COpenBLAS
import Dispatch
import Foundation
import PersonaCore
import PersonaTensor

/// Forward and backward of a Llama model with LoRA on its projections, over one batch.
/// Gradients flow to the LoRA matrices only; the base stays frozen (and quantized: every
/// product with a base weight dequantizes a tile of it into packed panels for `packedProduct`).
///
/// Shapes: N = B·T rows (all sequences of the batch stacked), d hidden, kv = kvHeads·headDim,
/// ff intermediate, r rank. Attention runs per sequence. Activations are allocated once for
/// `maxRows` rows; with `recompute`, only each block's input is kept and the block is run
/// again during the backward pass (gradient checkpointing: about a third more work, a
/// fraction of the memory).
public final class TrainingGraph {
    public let model: FrozenLlama
    public let maxRows: Int
    public let maxLength: Int
    public let recompute: Bool
    public var threads: Int

    /// Activations of one block kept for the backward pass.
    final class BlockActivations {
        let q: ActivationBuffer      // [N, d] after RoPE
        let k: ActivationBuffer      // [N, kv] after RoPE
        let v: ActivationBuffer      // [N, kv]
        let attention: ActivationBuffer // [N, d] attention output (input of o)
        let mid: ActivationBuffer    // [N, d] residual after attention
        let gate: ActivationBuffer   // [N, ff] gate pre-activation
        let up: ActivationBuffer     // [N, ff]
        let ax: ActivationBuffer     // [N, 7r]: A x of target i in columns i·r..<(i+1)·r
        /// [B·kvHeads, G·T, T] attention probabilities of each (sequence, key/value head), kept
        /// so that the backward pass need not recompute the scores and their softmax.
        let probabilities: ActivationBuffer
        init(rows n: Int, shape: ModelShape, rank: Int, maxLength: Int) {
            q = ActivationBuffer(n * shape.hidden); k = ActivationBuffer(n * shape.kvDim); v = ActivationBuffer(n * shape.kvDim)
            attention = ActivationBuffer(n * shape.hidden); mid = ActivationBuffer(n * shape.hidden)
            gate = ActivationBuffer(n * shape.intermediate); up = ActivationBuffer(n * shape.intermediate)
            ax = ActivationBuffer(n * LoRATarget.allCases.count * rank)
            probabilities = ActivationBuffer(n / max(1, maxLength) * shape.heads * maxLength * maxLength)
        }
    }

    private let shape: ModelShape
    private var rank: Int
    private var blockInputs: [ActivationBuffer]      // (L + 1) × [N, d]; the last is the final residual
    private var activations: [BlockActivations] // L, or 1 shared with recompute
    private let normed: ActivationBuffer     // [N, max(d, ff)]
    private let hidden2: ActivationBuffer    // [N, ff] silu(gate)·up
    private let projection: ActivationBuffer // [N, d]
    private let tile: ActivationBuffer       // packed panels of a frozen matrix (FrozenProductPlan)
    private let packScratch: ActivationBuffer // [threads, 16, max(d, ff)]
    private let dropoutMask: ActivationBuffer // [N, max(d, ff)]
    private let dropped: ActivationBuffer    // [N, max(d, ff)]
    // Backward
    private let dResidual: ActivationBuffer  // [N, d]
    private let dMid: ActivationBuffer       // [N, d]
    private let dNormed: ActivationBuffer    // [N, d]
    private let dWide: ActivationBuffer      // [N, ff]
    private let dGate: ActivationBuffer      // [N, ff]
    private let dUp: ActivationBuffer        // [N, ff]
    private let dQ: ActivationBuffer, dK: ActivationBuffer, dV: ActivationBuffer, dAttention: ActivationBuffer
    private let dAx: ActivationBuffer        // [N, 7r], columns as BlockActivations.ax
    private let aStack: ActivationBuffer     // [3r, d] the A of projections sharing an input, stacked
    private let dAStack: ActivationBuffer    // [3r, d] their gradient
    private let dDropped: ActivationBuffer   // [N, max(d, ff)]
    private let attentionScratch: [ActivationBuffer] // per (sequence, key/value head): groupedAttentionScratch
    private let finalHidden: ActivationBuffer  // [N, d]
    private let compactHidden: ActivationBuffer // [N, d]
    private let compactGradient: ActivationBuffer // [N, d]
    private let head: LMHeadCrossEntropy
    private var ropeCos: [Float] = [], ropeSin: [Float] = [] // [maxLength, headDim/2]

    /// A seed for LoRA dropout masks, drawn by the trainer per step (masks are regenerated
    /// from it in the backward pass instead of stored).
    public var dropoutSeed: UInt64 = 0

    /// Whether the graph was made for evaluation only (two residual buffers, no backward buffers).
    public let forwardOnly: Bool

    /// `forwardOnly` graphs evaluate (`tokenLosses`) with a fraction of the memory and cannot
    /// compute gradients.
    public init(model: FrozenLlama, maxSequences: Int, maxLength: Int, rank: Int, recompute: Bool = false, threads: Int = 1,
                forwardOnly: Bool = false) {
        self.forwardOnly = forwardOnly
        let shape = model.shape
        self.model = model
        self.shape = shape
        self.maxLength = maxLength
        self.maxRows = maxSequences * maxLength
        self.rank = rank
        self.recompute = recompute
        self.threads = max(1, threads)
        let n = maxRows, d = shape.hidden, ff = shape.intermediate, wide = max(d, ff)
        blockInputs = (0..<(forwardOnly ? 2 : shape.layers + 1)).map { _ in ActivationBuffer(n * d) }
        let b = forwardOnly ? 1 : n // rows of the backward buffers
        activations = (0..<(recompute || forwardOnly ? 1 : shape.layers)).map { _ in BlockActivations(rows: n, shape: shape, rank: rank, maxLength: maxLength) }
        normed = ActivationBuffer(n * wide); hidden2 = ActivationBuffer(n * ff); projection = ActivationBuffer(n * d)
        tile = ActivationBuffer(max(TrainingGraph.tileFloats, FrozenProductPlan.minimumCapacity(columns: wide)))
        packScratch = ActivationBuffer(FrozenProductPlan.scratchFloats(columns: wide, threads: threads))
        dropoutMask = ActivationBuffer(1); dropped = ActivationBuffer(1); dDropped = ActivationBuffer(1)
        dResidual = ActivationBuffer(b * d); dMid = ActivationBuffer(b * d); dNormed = ActivationBuffer(b * d)
        dWide = ActivationBuffer(b * ff); dGate = ActivationBuffer(b * ff); dUp = ActivationBuffer(b * ff)
        dQ = ActivationBuffer(b * d); dK = ActivationBuffer(b * shape.kvDim); dV = ActivationBuffer(b * shape.kvDim)
        dAttention = ActivationBuffer(b * d); dAx = ActivationBuffer(b * LoRATarget.allCases.count * rank)
        aStack = ActivationBuffer(3 * rank * wide); dAStack = ActivationBuffer(forwardOnly ? 1 : 3 * rank * wide)
        let groupScratch = groupedAttentionScratch(length: maxLength, groupSize: shape.heads / shape.kvHeads, headDim: shape.headDim)
        attentionScratch = (0..<(maxSequences * shape.kvHeads)).map { _ in ActivationBuffer(groupScratch) }
        finalHidden = ActivationBuffer(n * d); compactHidden = ActivationBuffer(n * d); compactGradient = ActivationBuffer(b * d)
        head = LMHeadCrossEntropy(vocab: shape.vocab, dim: d, maxRows: min(n, 1024), chunkRows: 1024)
        buildRopeTable()
        dropoutBuffers = nil
    }

    /// With `profiling` on, seconds spent per part of the step accumulate here (the benchmark's
    /// "where the time goes").
    public var profiling = false
    public private(set) var sectionSeconds: [String: Double] = [:]
    public func resetProfile() { sectionSeconds = [:] }

    @inline(__always)
    private func timed<T>(_ section: String, _ body: () throws -> T) rethrows -> T {
        guard profiling else { return try body() }
        let start = monotonicSeconds()
        defer { sectionSeconds[section, default: 0] += monotonicSeconds() - start }
        return try body()
    }

    /// False during evaluation.
    private var dropoutActive = true
    private var dropoutBuffers: (mask: ActivationBuffer, dropped: ActivationBuffer, dDropped: ActivationBuffer)?

    /// A frozen matrix is packed about 4 MB of float32 at a time: a whole projection of a
    /// small model, so each product is one pass per thread.
    static let tileFloats = 1 << 20

    private var frozenPlan: FrozenProductPlan {
        FrozenProductPlan(tile: tile.pointer, capacity: tile.count, scratch: packScratch.pointer, threads: threads)
    }

    private func buildRopeTable() {
        let pairs = shape.headDim / 2
        ropeCos = [Float](repeating: 0, count: maxLength * pairs)
        ropeSin = ropeCos
        for i in 0..<pairs {
            // Inverse frequencies in float32, as Hugging Face computes them.
            let inverse = 1 / powf(shape.ropeBase, Float(2 * i) / Float(shape.headDim))
            for p in 0..<maxLength {
                let angle = Float(p) * inverse
                ropeCos[p * pairs + i] = cosf(angle); ropeSin[p * pairs + i] = sinf(angle)
            }
        }
    }

    // MARK: Public entry points

    /// Forward and backward over `batch`: adds d(loss)/dθ to `adapter.gradients` where
    /// loss = Σ_counted tokenWeight · NLL (tokenWeight = 1/counted gives the mean).
    /// Returns the weighted loss and each row's NLL (0 where not counted).
    public func lossAndGradients(batch: TrainingBatch, adapter: LoRAAdapter?, tokenWeight: Float? = nil) throws -> (loss: Double, nll: [Float]) {
        guard !forwardOnly else { throw TrainError.invalid("a forward-only graph cannot compute gradients") }
        try check(batch, adapter)
        BLASThreads.set(1)
        ComputePool.limitThreads(to: threads)
        let weight = tokenWeight ?? 1 / Float(max(1, batch.countedTokens))
        forwardBlocks(batch: batch, adapter: adapter, keep: true)
        let n = batch.rows, d = shape.hidden
        // Final norm, then the head over counted rows only.
        rmsnorm(blockInputs[shape.layers].pointer, model.finalNorm, finalHidden.pointer, rows: n)
        let (counted, rowsOfCounted, targets) = compactCounted(batch)
        var nll = [Float](repeating: 0, count: n)
        var compactNLL = [Float](repeating: 0, count: max(1, counted))
        var weights = [Float](repeating: weight, count: max(1, counted))
        compactGradient.zero(counted * d)
        var loss = 0.0
        if counted > 0 {
            loss = timed("output head + cross-entropy") {
                head.forwardBackward(hidden: compactHidden.pointer, embedding: model.output, targets: targets,
                                     weights: &weights, dHidden: compactGradient.pointer, nll: &compactNLL,
                                     rows: counted, threads: threads)
            }
        }
        for (c, row) in rowsOfCounted.enumerated() { nll[row] = compactNLL[c] }
        // d(final residual) = rmsnorm backward of the scattered head gradient.
        dMid.zero(n * d)
        for (c, row) in rowsOfCounted.enumerated() {
            (dMid.pointer + row * d).update(from: compactGradient.pointer + c * d, count: d)
        }
        dResidual.zero(n * d)
        rmsnormBackward(x: blockInputs[shape.layers].pointer, weight: model.finalNorm, dY: dMid.pointer,
                        dX: dResidual.pointer, dWeight: nil, rows: n, dim: d, eps: shape.normEpsilon)
        if let adapter {
            for layer in stride(from: shape.layers - 1, through: 0, by: -1) {
                backwardBlock(layer, batch: batch, adapter: adapter)
            }
        }
        return (loss, nll)
    }

    /// Forward only: each row's NLL of its target (0 where not counted). Dropout is off (an
    /// evaluation) unless `withDropout`, which uses the masks of `dropoutSeed` as training does.
    public func tokenLosses(batch: TrainingBatch, adapter: LoRAAdapter?, withDropout: Bool = false) throws -> [Float] {
        try check(batch, adapter)
        BLASThreads.set(1)
        ComputePool.limitThreads(to: threads)
        dropoutActive = withDropout
        defer { dropoutActive = true }
        forwardBlocks(batch: batch, adapter: adapter, keep: false)
        let n = batch.rows
        rmsnorm(residual(shape.layers).pointer, model.finalNorm, finalHidden.pointer, rows: n)
        let (counted, rowsOfCounted, targets) = compactCounted(batch)
        var compactNLL = [Float](repeating: 0, count: max(1, counted))
        if counted > 0 {
            head.forward(hidden: compactHidden.pointer, embedding: model.output, targets: targets, nll: &compactNLL,
                         rows: counted, threads: threads)
        }
        var nll = [Float](repeating: 0, count: n)
        for (c, row) in rowsOfCounted.enumerated() { nll[row] = compactNLL[c] }
        return nll
    }

    private func check(_ batch: TrainingBatch, _ adapter: LoRAAdapter?) throws {
        guard batch.rows <= maxRows, batch.length <= maxLength, batch.sequences * shape.kvHeads <= attentionScratch.count else {
            throw TrainError.invalid("batch of \(batch.sequences) × \(batch.length) exceeds the graph's \(attentionScratch.count / shape.kvHeads) × \(maxLength)")
        }
        for t in batch.tokens where t < 0 || Int(t) >= shape.vocab {
            throw TrainError.invalid("token id \(t) is outside the model's vocabulary of \(shape.vocab)")
        }
        if let adapter {
            guard adapter.shape == shape else { throw TrainError.invalid("adapter '\(adapter.name)' was made for another model shape") }
            guard adapter.config.rank <= rank else { throw TrainError.invalid("adapter rank \(adapter.config.rank) exceeds the graph's \(rank)") }
        }
    }

    /// The residual stream entering block `i` (i = layers: the final one); forward-only graphs
    /// alternate between two buffers.
    private func residual(_ i: Int) -> ActivationBuffer { forwardOnly ? blockInputs[i % 2] : blockInputs[i] }

    private func compactCounted(_ batch: TrainingBatch) -> (Int, [Int], [Int32]) {
        let d = shape.hidden
        var rows: [Int] = [], targets: [Int32] = []
        for i in 0..<batch.rows where batch.targets[i] >= 0 {
            (compactHidden.pointer + rows.count * d).update(from: finalHidden.pointer + i * d, count: d)
            rows.append(i); targets.append(batch.targets[i])
        }
        return (rows.count, rows, targets)
    }

    // MARK: Forward

    private func forwardBlocks(batch: TrainingBatch, adapter: LoRAAdapter?, keep: Bool) {
        let n = batch.rows, d = shape.hidden
        let x0 = residual(0).pointer
        for i in 0..<n {
            let token = Int(batch.tokens[i])
            model.embedding.dequantizeRows(token..<(token + 1), into: x0 + i * d)
        }
        for layer in 0..<shape.layers {
            let acts = activations[keep && !recompute ? layer : 0]
            forwardBlock(layer, batch: batch, adapter: adapter, acts: acts,
                         input: residual(layer).pointer, output: residual(layer + 1).pointer)
        }
    }

    private func forwardBlock(_ layer: Int, batch: TrainingBatch, adapter: LoRAAdapter?, acts: BlockActivations,
                              input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let n = batch.rows
        let w = model.blocks[layer]
        rmsnorm(input, w.attentionNorm, normed.pointer, rows: n)
        frozenForward(w.q, normed.pointer, acts.q.pointer, rows: n)
        frozenForward(w.k, normed.pointer, acts.k.pointer, rows: n)
        frozenForward(w.v, normed.pointer, acts.v.pointer, rows: n)
        loraForward([.q, .k, .v], layer, x: normed.pointer, outputs: [acts.q.pointer, acts.k.pointer, acts.v.pointer], acts, adapter, rows: n)
        rope(acts.q.pointer, heads: shape.heads, batch: batch, inverse: false)
        rope(acts.k.pointer, heads: shape.kvHeads, batch: batch, inverse: false)
        timed("attention forward") { attentionForward(acts, batch: batch) }
        // mid = input + o(attention): BLAS adds onto the copied residual.
        frozenForward(w.o, acts.attention.pointer, acts.mid.pointer, adding: input, rows: n)
        loraForward([.o], layer, x: acts.attention.pointer, outputs: [acts.mid.pointer], acts, adapter, rows: n)
        rmsnorm(acts.mid.pointer, w.mlpNorm, normed.pointer, rows: n)
        frozenForward(w.gate, normed.pointer, acts.gate.pointer, rows: n)
        frozenForward(w.up, normed.pointer, acts.up.pointer, rows: n)
        loraForward([.gate, .up], layer, x: normed.pointer, outputs: [acts.gate.pointer, acts.up.pointer], acts, adapter, rows: n)
        swiglu(acts, rows: n)
        frozenForward(w.down, hidden2.pointer, output, adding: acts.mid.pointer, rows: n)
        loraForward([.down], layer, x: hidden2.pointer, outputs: [output], acts, adapter, rows: n)
    }

    /// y = [residual +] x Wᵀ for a frozen W (tiled).
    private func frozenForward(_ weight: any FrozenMatrix, _ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                               adding residual: UnsafePointer<Float>? = nil, rows n: Int) {
        timed("frozen matmul forward (incl. dequantize)") {
            frozenLinearForward(x, rows: n, weight: weight, into: y, adding: residual, plan: frozenPlan)
        }
    }

    /// y_t += s · B_t (A_t x̃) for each projection t of `group` (projections reading the same x)
    /// that the adapter adapts, x̃ = dropout(x); A_t x̃ is kept in `acts.ax`.
    private func loraForward(_ group: [LoRATarget], _ layer: Int, x: UnsafeMutablePointer<Float>, outputs: [UnsafeMutablePointer<Float>],
                             _ acts: BlockActivations, _ adapter: LoRAAdapter?, rows n: Int) {
        guard let adapter else { return }
        let r = adapter.config.rank, stride = LoRATarget.allCases.count * r, scaling = adapter.config.scaling
        let params = adapter.parameters.baseAddress!
        for part in loraParts(group, layer: layer, adapter: adapter) {
            let slots = part.map { adapter.slot(layer: layer, target: $0)! }
            let inDim = slots[0].inDim, stacked = part.count * r
            let input = part.count == 1 ? dropoutInput(x, layer: layer, target: part[0], rows: n, columns: inDim, adapter: adapter) ?? x : x
            nonisolated(unsafe) let xIn = input, a = stackedA(part, slots, adapter), axOut = acts.ax.pointer + targetIndex(part[0]) * r
            nonisolated(unsafe) let products = zip(part, slots).map { target, slot in
                (column: (targetIndex(target) - targetIndex(part[0])) * r, b: UnsafePointer(params + slot.bOffset),
                 y: outputs[group.firstIndex(of: target)!], outDim: slot.outDim)
            }
            timed("lora forward") {
                parallelRanges(n, threads: threads) { rows in
                    let m = Int32(rows.count), first = rows.lowerBound
                    // A x̃ of every projection of the part in one product, then each projection's B.
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, Int32(stacked), Int32(inDim),
                                1, xIn + first * inDim, Int32(inDim), a, Int32(inDim), 0, axOut + first * stride, Int32(stride))
                    for p in products {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, Int32(p.outDim), Int32(r),
                                    scaling, axOut + first * stride + p.column, Int32(stride), p.b, Int32(r), 1,
                                    p.y + first * p.outDim, Int32(p.outDim))
                    }
                }
            }
        }
    }

    /// How the LoRA products of `group` run: all at once (their A stacked, one pass over the
    /// shared input) when the adapter adapts every projection of the group and no dropout mask
    /// gives each its own input; otherwise one adapted projection at a time.
    private func loraParts(_ group: [LoRATarget], layer: Int, adapter: LoRAAdapter) -> [[LoRATarget]] {
        let adapted = group.filter { adapter.slot(layer: layer, target: $0) != nil }
        let dropout = adapter.config.dropout > 0 && dropoutActive
        if group.count > 1 && adapted.count == group.count && !dropout { return [group] }
        return adapted.map { [$0] }
    }

    /// The A matrices of `part` stacked as [part.count · r, in]: the adapter's own for a single
    /// projection, else copied into `aStack`.
    private func stackedA(_ part: [LoRATarget], _ slots: [LoRAAdapter.Slot], _ adapter: LoRAAdapter) -> UnsafePointer<Float> {
        let params = adapter.parameters.baseAddress!
        guard part.count > 1 else { return UnsafePointer(params + slots[0].aOffset) }
        let size = adapter.config.rank * slots[0].inDim
        for (j, slot) in slots.enumerated() { (aStack.pointer + j * size).update(from: params + slot.aOffset, count: size) }
        return UnsafePointer(aStack.pointer)
    }

    private func targetIndex(_ t: LoRATarget) -> Int { LoRATarget.allCases.firstIndex(of: t) ?? 0 }

    /// With dropout, fills the mask (0 or 1/(1−p)) for (layer, target) from `dropoutSeed` and
    /// returns x ⊙ mask; nil without dropout.
    private func dropoutInput(_ x: UnsafeMutablePointer<Float>, layer: Int, target: LoRATarget, rows n: Int,
                              columns: Int, adapter: LoRAAdapter) -> UnsafeMutablePointer<Float>? {
        let p = adapter.config.dropout
        guard p > 0, dropoutActive else { return nil }
        if dropoutBuffers == nil {
            let wide = max(shape.hidden, shape.intermediate)
            dropoutBuffers = (ActivationBuffer(maxRows * wide), ActivationBuffer(maxRows * wide), ActivationBuffer(maxRows * wide))
        }
        guard let buffers = dropoutBuffers else { return nil }
        var rng = SeededGenerator(seed: dropoutSeed &+ UInt64(layer * 7 + targetIndex(target) + 1) &* 0x9E37_79B9_7F4A_7C15)
        let keep = Float(1 / (1 - p)), threshold = Float(p)
        for i in 0..<(n * columns) {
            let m: Float = rng.nextFloat() < threshold ? 0 : keep
            buffers.mask.pointer[i] = m
            buffers.dropped.pointer[i] = x[i] * m
        }
        return buffers.dropped.pointer
    }

    private func rmsnorm(_ x: UnsafePointer<Float>, _ weight: [Float], _ y: UnsafeMutablePointer<Float>, rows n: Int) {
        let d = shape.hidden, eps = shape.normEpsilon
        let vectorEnd = d / 16 * 16
        weight.withUnsafeBufferPointer { wb in
            nonisolated(unsafe) let w = wb.baseAddress!, x = x, y = y
            parallelRanges(n, threads: threads) { rows in
            for t in rows {
                let xr = x + t * d, yr = y + t * d
                var squares = SIMD16<Float>(repeating: 0)
                var i = 0
                while i < vectorEnd {
                    let v = UnsafeRawPointer(xr + i).loadUnaligned(as: SIMD16<Float>.self)
                    squares += v * v
                    i += 16
                }
                var ss = squares.sum()
                while i < d { ss += xr[i] * xr[i]; i += 1 }
                let r = 1 / (ss / Float(d) + eps).squareRoot()
                i = 0
                while i < vectorEnd {
                    let v = UnsafeRawPointer(xr + i).loadUnaligned(as: SIMD16<Float>.self)
                    let g = UnsafeRawPointer(w + i).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(yr + i).storeBytes(of: v * r * g, as: SIMD16<Float>.self)
                    i += 16
                }
                while i < d { yr[i] = xr[i] * r * w[i]; i += 1 }
            }
            }
        }
    }

    /// Interleaved-pair RoPE in place over [N, heads, headDim]; `inverse` rotates back (backward).
    private func rope(_ x: UnsafeMutablePointer<Float>, heads: Int, batch: TrainingBatch, inverse: Bool) {
        let hd = shape.headDim, pairs = hd / 2
        ropeCos.withUnsafeBufferPointer { cosTable in
            ropeSin.withUnsafeBufferPointer { sinTable in
                nonisolated(unsafe) let cosines = cosTable.baseAddress!, sines = sinTable.baseAddress!, x = x
                batch.positions.withUnsafeBufferPointer { positionBuffer in
                    nonisolated(unsafe) let positions = positionBuffer.baseAddress!
                    parallelRanges(batch.rows, threads: threads) { rows in
                        for row in rows {
                            let p = Int(positions[row])
                            let c = cosines + p * pairs, s = sines + p * pairs
                            for h in 0..<heads {
                                let v = x + (row * heads + h) * hd
                                for i in 0..<pairs {
                                    let x0 = v[2 * i], x1 = v[2 * i + 1]
                                    let sn = inverse ? -s[i] : s[i]
                                    v[2 * i] = x0 * c[i] - x1 * sn
                                    v[2 * i + 1] = x0 * sn + x1 * c[i]
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One work item per (sequence, key/value head group), spread over the threads with BLAS
    /// single-threaded inside: the products are small (T × T × headDim) and BLAS's own
    /// threads cost more than they bring at that size.
    private func forEachAttentionGroup(_ batch: TrainingBatch, _ body: @escaping (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let kvHeads = shape.kvHeads
        let items = batch.sequences * kvHeads
        nonisolated(unsafe) let scratch = attentionScratch.map(\.pointer)
        nonisolated(unsafe) let body = body
        if threads <= 1 {
            for item in 0..<items { body(item / kvHeads, item % kvHeads, scratch[item]) }
            return
        }
        // One part per item, claimed by whichever thread is free.
        parallelParts(items, threads: items) { item, _ in
            body(item / kvHeads, item % kvHeads, scratch[item])
        }
    }

    private func attentionForward(_ acts: BlockActivations, batch: TrainingBatch) {
        let T = batch.length, heads = shape.heads, kvHeads = shape.kvHeads, hd = shape.headDim
        let groupSize = heads / kvHeads
        nonisolated(unsafe) let q = acts.q.pointer, k = acts.k.pointer, v = acts.v.pointer, out = acts.attention.pointer
        let mask = batch.keyMask
        nonisolated(unsafe) let kept = acts.probabilities.pointer
        forEachAttentionGroup(batch) { s, g, scratch in
            let qOffset = s * T * heads * hd + g * groupSize * hd, kvOffset = s * T * kvHeads * hd + g * hd
            mask.withUnsafeBufferPointer { maskBuffer in
                groupedAttentionForward(q: q + qOffset, k: k + kvOffset, v: v + kvOffset, out: out + qOffset,
                                        keyMask: maskBuffer.baseAddress! + s * T, scratch: scratch, length: T,
                                        groupSize: groupSize, headDim: hd, qRowStride: heads * hd, kvRowStride: kvHeads * hd,
                                        keep: kept + (s * kvHeads + g) * groupSize * T * T)
            }
        }
    }

    private func swiglu(_ acts: BlockActivations, rows n: Int) {
        nonisolated(unsafe) let g = acts.gate.pointer, u = acts.up.pointer, h = hidden2.pointer
        parallelRanges(n * shape.intermediate, threads: threads, granularity: 16) { range in
            var i = range.lowerBound
            while i + 16 <= range.upperBound {
                let x = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD16<Float>.self)
                let y = UnsafeRawPointer(u + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(h + i).storeBytes(of: x / (1 + vectorExp(-x)) * y, as: SIMD16<Float>.self)
                i += 16
            }
            while i < range.upperBound {
                let x = g[i]
                h[i] = x / (1 + expf(-x)) * u[i]
                i += 1
            }
        }
    }

    // MARK: Backward

    /// On entry dResidual holds d(loss)/d(block output); on exit d(loss)/d(block input).
    private func backwardBlock(_ layer: Int, batch: TrainingBatch, adapter: LoRAAdapter) {
        let n = batch.rows, d = shape.hidden, ff = shape.intermediate
        let w = model.blocks[layer]
        let input = blockInputs[layer].pointer
        let acts: BlockActivations
        if recompute {
            acts = activations[0]
            forwardBlock(layer, batch: batch, adapter: adapter, acts: acts, input: input, output: projection.pointer)
        } else {
            acts = activations[layer]
        }
        // MLP: x_next = mid + down(silu(gate) · up)
        rmsnorm(acts.mid.pointer, w.mlpNorm, normed.pointer, rows: n)
        swiglu(acts, rows: n)
        frozenBackward(w.down, dY: dResidual.pointer, dX: dWide.pointer, overwrite: true, rows: n)
        loraBackward([.down], layer, x: hidden2.pointer, dYs: [dResidual.pointer], dX: dWide.pointer, acts, adapter, rows: n)
        nonisolated(unsafe) let gate = acts.gate.pointer, up = acts.up.pointer, dH = dWide.pointer, dG = dGate.pointer, dU = dUp.pointer
        parallelRanges(n * ff, threads: threads, granularity: 16) { r in
            swigluBackward(gate: gate + r.lowerBound, up: up + r.lowerBound, dH: dH + r.lowerBound,
                           dGate: dG + r.lowerBound, dUp: dU + r.lowerBound, count: r.count, accumulate: false)
        }
        frozenBackward(w.gate, dY: dGate.pointer, dX: dNormed.pointer, overwrite: true, rows: n)
        frozenBackward(w.up, dY: dUp.pointer, dX: dNormed.pointer, rows: n)
        loraBackward([.gate, .up], layer, x: normed.pointer, dYs: [dGate.pointer, dUp.pointer], dX: dNormed.pointer, acts, adapter, rows: n)
        rmsnormBackward(x: acts.mid.pointer, weight: w.mlpNorm, dY: dNormed.pointer, dX: dMid.pointer, dWeight: nil,
                        rows: n, dim: d, eps: shape.normEpsilon, threads: threads, base: dResidual.pointer)
        // Attention: mid = x + o(attention(rope(q), rope(k), v))
        frozenBackward(w.o, dY: dMid.pointer, dX: dAttention.pointer, overwrite: true, rows: n)
        loraBackward([.o], layer, x: acts.attention.pointer, dYs: [dMid.pointer], dX: dAttention.pointer, acts, adapter, rows: n)
        let T = batch.length, heads = shape.heads, kvHeads = shape.kvHeads, hd = shape.headDim
        timed("attention backward") {
            let groupSize = heads / kvHeads
            nonisolated(unsafe) let q = acts.q.pointer, k = acts.k.pointer, v = acts.v.pointer, dOut = dAttention.pointer
            nonisolated(unsafe) let dq = dQ.pointer, dk = dK.pointer, dv = dV.pointer
            nonisolated(unsafe) let kept = UnsafePointer(acts.probabilities.pointer)
            let mask = batch.keyMask
            forEachAttentionGroup(batch) { s, g, scratch in
                let qOffset = s * T * heads * hd + g * groupSize * hd, kvOffset = s * T * kvHeads * hd + g * hd
                mask.withUnsafeBufferPointer { maskBuffer in
                    groupedAttentionBackward(q: q + qOffset, k: k + kvOffset, v: v + kvOffset, dOut: dOut + qOffset,
                                             dQ: dq + qOffset, dK: dk + kvOffset, dV: dv + kvOffset,
                                             keyMask: maskBuffer.baseAddress! + s * T, scratch: scratch, length: T,
                                             groupSize: groupSize, headDim: hd,
                                             qRowStride: heads * hd, kvRowStride: kvHeads * hd, accumulate: false,
                                             kept: kept + (s * kvHeads + g) * groupSize * T * T)
                }
            }
        }
        rope(dQ.pointer, heads: heads, batch: batch, inverse: true)
        rope(dK.pointer, heads: kvHeads, batch: batch, inverse: true)
        rmsnorm(input, w.attentionNorm, normed.pointer, rows: n)
        // Below the first block is the frozen embedding: no gradient is needed there.
        let needsInput = layer > 0
        if needsInput {
            frozenBackward(w.q, dY: dQ.pointer, dX: dNormed.pointer, overwrite: true, rows: n)
            frozenBackward(w.k, dY: dK.pointer, dX: dNormed.pointer, rows: n)
            frozenBackward(w.v, dY: dV.pointer, dX: dNormed.pointer, rows: n)
        }
        loraBackward([.q, .k, .v], layer, x: normed.pointer, dYs: [dQ.pointer, dK.pointer, dV.pointer],
                     dX: needsInput ? dNormed.pointer : nil, acts, adapter, rows: n)
        guard needsInput else { return }
        rmsnormBackward(x: input, weight: w.attentionNorm, dY: dNormed.pointer, dX: dResidual.pointer, dWeight: nil,
                        rows: n, dim: d, eps: shape.normEpsilon, threads: threads, base: dMid.pointer)
    }

    /// dX += dY W for a frozen W (tiled); with `overwrite`, dX = dY W.
    private func frozenBackward(_ weight: any FrozenMatrix, dY: UnsafeMutablePointer<Float>, dX: UnsafeMutablePointer<Float>,
                                overwrite: Bool = false, rows n: Int) {
        timed("frozen matmul backward (incl. dequantize)") {
            frozenLinearBackward(dY: dY, rows: n, weight: weight, dX: dX, accumulate: !overwrite, plan: frozenPlan)
        }
    }

    /// The LoRA gradients of the projections of `group` (reading the same x; dYs in group order)
    /// and their part of dX:
    ///   dB_t += s · dY_tᵀ (A_t x̃)    d(A_t x̃) = s · dY_t B_t    dA_t += d(A_t x̃)ᵀ x̃    dX += d(A_t x̃) A_t
    /// The last two run once over the stacked A of the group where the forward stacked them.
    private func loraBackward(_ group: [LoRATarget], _ layer: Int, x: UnsafeMutablePointer<Float>, dYs: [UnsafeMutablePointer<Float>],
                              dX: UnsafeMutablePointer<Float>?, _ acts: BlockActivations, _ adapter: LoRAAdapter, rows n: Int) {
        let r = adapter.config.rank, stride = LoRATarget.allCases.count * r, scale = adapter.config.scaling
        let params = adapter.parameters.baseAddress!, grads = adapter.gradients.baseAddress!
        for part in loraParts(group, layer: layer, adapter: adapter) {
            let slots = part.map { adapter.slot(layer: layer, target: $0)! }
            let inDim = slots[0].inDim, first = targetIndex(part[0]) * r, stacked = part.count * r
            if part.count == 1, let dropped = dropoutInput(x, layer: layer, target: part[0], rows: n, columns: inDim, adapter: adapter),
               let buffers = dropoutBuffers {
                // dX += (d(A x̃) A) ⊙ mask.
                let slot = slots[0]
                loraBackwardOutput(ax: acts.ax.pointer + first, axStride: stride, dY: dYs[group.firstIndex(of: part[0])!],
                                   b: params + slot.bOffset, scale: scale, dB: grads + slot.bOffset, dAx: dAx.pointer + first, dAxStride: stride,
                                   rows: n, outDim: slot.outDim, rank: r, threads: threads)
                buffers.dDropped.zero(n * inDim)
                loraBackwardInput(x: dropped, dAx: dAx.pointer + first, dAxStride: stride, a: params + slot.aOffset, dA: grads + slot.aOffset,
                                  dX: dX == nil ? nil : buffers.dDropped.pointer, rows: n, inDim: inDim, rank: r, threads: threads)
                if let dX {
                    for i in 0..<(n * inDim) { dX[i] += buffers.dDropped.pointer[i] * buffers.mask.pointer[i] }
                }
                continue
            }
            timed("lora backward") {
                for (target, slot) in zip(part, slots) {
                    let column = targetIndex(target) * r
                    loraBackwardOutput(ax: acts.ax.pointer + column, axStride: stride, dY: dYs[group.firstIndex(of: target)!],
                                       b: params + slot.bOffset, scale: scale, dB: grads + slot.bOffset,
                                       dAx: dAx.pointer + column, dAxStride: stride, rows: n, outDim: slot.outDim, rank: r, threads: threads)
                }
                if part.count == 1 {
                    loraBackwardInput(x: x, dAx: dAx.pointer + first, dAxStride: stride, a: params + slots[0].aOffset,
                                      dA: grads + slots[0].aOffset, dX: dX, rows: n, inDim: inDim, rank: r, threads: threads)
                } else {
                    let a = stackedA(part, slots, adapter), size = r * inDim
                    dAStack.zero(stacked * inDim)
                    loraBackwardInput(x: x, dAx: dAx.pointer + first, dAxStride: stride, a: a, dA: dAStack.pointer, dX: dX,
                                      rows: n, inDim: inDim, rank: stacked, threads: threads)
                    for (j, slot) in slots.enumerated() {
                        let g = grads + slot.aOffset, d = dAStack.pointer + j * size
                        for i in 0..<size { g[i] += d[i] }
                    }
                }
            }
        }
    }
}
