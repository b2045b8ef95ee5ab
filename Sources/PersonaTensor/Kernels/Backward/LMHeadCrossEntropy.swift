import Dispatch
import Foundation

/// The output head and cross-entropy fused and chunked over the vocabulary, forward and
/// backward, without ever holding the [T, V] logits (at 800 tokens × 49,152 that would be
/// 157 MB, and the head is ~45 GFLOP each way: the largest kernel of a training step).
///
/// For each chunk of vocabulary rows E_c ([C, d], dequantized into one tile):
///   logits_c = H E_cᵀ                                  (packedProduct)
///   running max m and Σ exp(l − m) per row, rescaled when m grows (online softmax)
/// and, when gradients are wanted, the softmax-weighted sum of embedding rows in the same pass,
/// the way flash attention accumulates its output:
///   acc ← acc · e^(m_old − m_new) + exp(logits_c − m_new) E_c  (packedProduct)
/// so that at the end Σ_v p_v E_v = acc / Σ and
///   dH_t += w_t · (acc_t / Σ_t − E[target_t]).
/// That is the minimum work: one product for the logits and one for dH per chunk.
public final class LMHeadCrossEntropy {
    public let vocab: Int
    public let dim: Int
    public let maxRows: Int
    public let chunkRows: Int

    /// The running state of one share of the vocabulary. Each thread takes its own share
    /// (no hand-offs inside), and the shares merge at the end like two halves of an
    /// online softmax: measured 1.6× faster than one share with BLAS's own two threads,
    /// whose per-call hand-offs dominate products of this size (800 × 1,024 × 576).
    final class Share {
        let tile: UnsafeMutablePointer<Float>        // [C, d]
        let packedForLogits: UnsafeMutablePointer<Float>  // E_cᵀ as ⌈C/16⌉ panels [d][16]
        let packedForSum: UnsafeMutablePointer<Float>     // E_c as ⌈d/16⌉ panels [C][16]
        let logits: UnsafeMutablePointer<Float>      // [maxRows, C]
        let accumulated: UnsafeMutablePointer<Float> // [maxRows, d]
        let rowMax: UnsafeMutablePointer<Float>      // [maxRows]
        let rowSum: UnsafeMutablePointer<Float>      // [maxRows]
        let targetLogit: UnsafeMutablePointer<Float> // [maxRows]

        init(rows: Int, chunkRows: Int, dim: Int) {
            tile = .allocate(capacity: chunkRows * dim)
            let panels = (chunkRows + packedPanelWidth - 1) / packedPanelWidth * packedPanelWidth
            let dimPanels = (dim + packedPanelWidth - 1) / packedPanelWidth * packedPanelWidth
            packedForLogits = .allocate(capacity: panels * dim)
            packedForSum = .allocate(capacity: chunkRows * dimPanels)
            logits = .allocate(capacity: rows * chunkRows)
            accumulated = .allocate(capacity: rows * dim)
            rowMax = .allocate(capacity: rows)
            rowSum = .allocate(capacity: rows)
            targetLogit = .allocate(capacity: rows)
        }

        deinit {
            tile.deallocate(); packedForLogits.deallocate(); packedForSum.deallocate(); logits.deallocate(); accumulated.deallocate()
            rowMax.deallocate(); rowSum.deallocate(); targetLogit.deallocate()
        }
    }

    private var shares: [Share] = []

    public init(vocab: Int, dim: Int, maxRows: Int, chunkRows: Int = 1024) {
        self.vocab = vocab; self.dim = dim; self.maxRows = max(1, maxRows)
        self.chunkRows = max(16, min(chunkRows, vocab))
    }

    private func shares(_ n: Int) -> [Share] {
        while shares.count < n { shares.append(Share(rows: maxRows, chunkRows: chunkRows, dim: dim)) }
        return Array(shares.prefix(n))
    }

    /// Negative log-likelihood of each row's target (0 for rows with a negative target).
    public func forward(hidden: UnsafePointer<Float>,   // [T, d] after the final norm
                        embedding: some FrozenMatrix,   // [V, d] (tied output head)
                        targets: UnsafePointer<Int32>,  // [T], < 0 = not counted
                        nll: UnsafeMutablePointer<Float>, // [T]
                        rows T: Int, threads: Int = 1) {
        run(hidden: hidden, embedding: embedding, targets: targets, weights: nil, dHidden: nil, nll: nll, rows: T, threads: threads)
    }

    /// Per-row NLL into `nll`, and dHidden += w_t · ∂nll_t/∂H_t. Returns Σ w_t · nll_t.
    @discardableResult
    public func forwardBackward(hidden: UnsafePointer<Float>,        // [T, d]
                                embedding: some FrozenMatrix,        // [V, d]
                                targets: UnsafePointer<Int32>,       // [T]
                                weights: UnsafePointer<Float>,       // [T]
                                dHidden: UnsafeMutablePointer<Float>, // [T, d] accumulated
                                nll: UnsafeMutablePointer<Float>,    // [T]
                                rows T: Int, threads: Int = 1) -> Double {
        run(hidden: hidden, embedding: embedding, targets: targets, weights: weights, dHidden: dHidden, nll: nll, rows: T, threads: threads)
        var total = 0.0
        for t in 0..<T where targets[t] >= 0 { total += Double(weights[t]) * Double(nll[t]) }
        return total
    }

    private func run(hidden: UnsafePointer<Float>, embedding: some FrozenMatrix, targets: UnsafePointer<Int32>,
                     weights: UnsafePointer<Float>?, dHidden: UnsafeMutablePointer<Float>?,
                     nll: UnsafeMutablePointer<Float>, rows totalRows: Int, threads: Int) {
        // Process at most maxRows rows at a time.
        var first = 0
        while first < totalRows {
            let count = min(maxRows, totalRows - first)
            runBlock(hidden: hidden + first * dim, embedding: embedding, targets: targets + first,
                     weights: weights.map { $0 + first }, dHidden: dHidden.map { $0 + first * dim },
                     nll: nll + first, rows: count, threads: threads)
            first += count
        }
    }

    private func runBlock(hidden: UnsafePointer<Float>, embedding: some FrozenMatrix, targets: UnsafePointer<Int32>,
                          weights: UnsafePointer<Float>?, dHidden: UnsafeMutablePointer<Float>?,
                          nll: UnsafeMutablePointer<Float>, rows T: Int, threads: Int) {
        let d = dim, chunks = (vocab + chunkRows - 1) / chunkRows
        let count = max(1, min(threads, chunks))
        let parts = shares(count)
        nonisolated(unsafe) let hidden = hidden, dHidden = dHidden, weights = weights, targets = targets
        let vocab = self.vocab, chunkRows = self.chunkRows
        parallelParts(count, threads: count) { p, _ in
            let share = parts[p]
            let firstChunk = chunks * p / count, endChunk = chunks * (p + 1) / count
            headShare(share, hidden: hidden, embedding: embedding, targets: targets, weights: weights, dHidden: dHidden,
                      rows: T, dim: d, vocabRange: (firstChunk * chunkRows)..<min(vocab, endChunk * chunkRows),
                      chunkRows: chunkRows)
        }

        // Merge the shares: m = max_p m_p, Σ = Σ_p Σ_p e^(m_p − m), acc = Σ_p acc_p e^(m_p − m).
        let first = parts[0]
        for t in 0..<T {
            var m = first.rowMax[t]
            for share in parts.dropFirst() { m = max(m, share.rowMax[t]) }
            var sum: Float = 0, target: Float = 0
            for share in parts {
                let scale = share.rowMax[t] == -.infinity ? 0 : expf(share.rowMax[t] - m)
                sum += share.rowSum[t] * scale
                target += share.targetLogit[t]
                if dHidden != nil {
                    let a = share.accumulated + t * d
                    if share === first {
                        if scale != 1 { for i in 0..<d { a[i] *= scale } }
                    } else {
                        let into = first.accumulated + t * d
                        for i in 0..<d { into[i] += scale * a[i] }
                    }
                }
            }
            guard targets[t] >= 0 && Int(targets[t]) < vocab else { nll[t] = 0; continue }
            nll[t] = m + logf(sum) - target
            if let dHidden, let weights {
                let factor = weights[t] / sum
                let a = first.accumulated + t * d, g = dHidden + t * d
                for i in 0..<d { g[i] += factor * a[i] }
            }
        }
    }
}

/// One thread's share of the vocabulary, `vocabRange`, chunk by chunk (see `LMHeadCrossEntropy`):
/// running max and Σ exp per row, the target's logit when it falls in the share, and with
/// gradients the softmax-weighted sum of embedding rows and −w·E[target].
private func headShare(_ share: LMHeadCrossEntropy.Share, hidden: UnsafePointer<Float>, embedding: some FrozenMatrix,
                       targets: UnsafePointer<Int32>, weights: UnsafePointer<Float>?, dHidden: UnsafeMutablePointer<Float>?,
                       rows T: Int, dim d: Int, vocabRange: Range<Int>, chunkRows: Int) {
    let wantsGradient = dHidden != nil
    let logits = share.logits, tile = share.tile, rowMax = share.rowMax, rowSum = share.rowSum
    for t in 0..<T { rowMax[t] = -.infinity; rowSum[t] = 0; share.targetLogit[t] = 0 }
    if wantsGradient { share.accumulated.initialize(repeating: 0, count: T * d) }
    var start = vocabRange.lowerBound
    while start < vocabRange.upperBound {
        let c = min(chunkRows, vocabRange.upperBound - start)
        embedding.dequantizeRows(start..<(start + c), into: tile)
        let width = packedPanelWidth
        for p in 0..<((c + width - 1) / width) {
            transposeIntoPanel(tile + p * width * d, rows: min(width, c - p * width), depth: d,
                               into: share.packedForLogits + p * width * d)
        }
        packedProduct(rows: T, depth: d, columns: c, a: hidden, lda: d, panels: share.packedForLogits, panelStride: width * d,
                      c: logits, ldc: c, source: nil, ldSource: 0)
        if wantsGradient {
            copyRowsIntoPanels(tile, rows: c, columns: d, firstDepth: 0, panels: share.packedForSum, panelStride: c * width)
        }
        for t in 0..<T {
            let row = logits + t * c
            let target = Int(targets[t])
            let chunkMax = rowMaximum(row, count: c)
            let oldMax = rowMax[t]
            let newMax = max(oldMax, chunkMax)
            let rescale = oldMax == -.infinity ? 0 : expf(oldMax - newMax)
            if target >= start && target < start + c {
                share.targetLogit[t] = row[target - start]
                if let dHidden, let weights {
                    let w = weights[t], e = tile + (target - start) * d, g = dHidden + t * d
                    for i in 0..<d { g[i] -= w * e[i] }
                }
            }
            let chunkSum = exponentiateInPlace(row, count: c, shift: newMax)
            rowSum[t] = rowSum[t] * rescale + chunkSum
            rowMax[t] = newMax
            if wantsGradient && rescale != 1 {
                let a = share.accumulated + t * d
                for i in 0..<d { a[i] *= rescale }
            }
        }
        if wantsGradient {
            // acc += exp(logits − m) E_c
            packedProduct(rows: T, depth: c, columns: d, a: logits, lda: c, panels: share.packedForSum, panelStride: c * packedPanelWidth,
                          c: share.accumulated, ldc: d, source: share.accumulated, ldSource: d)
        }
        start += c
    }
}
