import COpenBLAS

/// Causal attention of one sequence for one query-head group (G query heads sharing one
/// key/value head), forward and backward, with the G heads stacked into every product:
/// the per-head products of `attentionBackward` are small (100–200 rows × 64) and ran at
/// about 60% of the large products' rate; stacked, each has G times the rows (S, dP, dQ)
/// or G times the inner dimension (dV, dK), and there are a third as many calls.
///
/// Stacked row order: the queries before `causalSplit(T)` of each head, then the rest of each
/// head, so that the causal blocks stay two rectangles:
///   row ρ < G·top:  head ρ / top, query ρ % top            (keys 0..<top)
///   row ρ ≥ G·top:  head (ρ − G·top) / rest, query top + (ρ − G·top) % rest   (keys 0..<T)
/// Scratch: [2, G·T, T] scores and [3, G·T, headDim] stacked rows (`groupedAttentionScratch`).
public func groupedAttentionScratch(length T: Int, groupSize G: Int, headDim: Int) -> Int {
    2 * G * T * T + 3 * G * T * headDim
}

/// out_h = softmax(scale · Q_h Kᵀ, causal, padded keys masked) V for the G heads of one group
/// (q, out: [T, G, headDim] rows `qRowStride` apart; k, v: [T, headDim] rows `kvRowStride`
/// apart). `out` is overwritten. With `keep` ([G·T, T]), the probabilities are left there
/// for the backward pass instead of in the scratch.
public func groupedAttentionForward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                    out: UnsafeMutablePointer<Float>, keyMask: UnsafePointer<UInt8>?,
                                    scratch: UnsafeMutablePointer<Float>, length T: Int, groupSize G: Int, headDim: Int,
                                    qRowStride: Int, kvRowStride: Int, keep: UnsafeMutablePointer<Float>? = nil) {
    let layout = StackedHeads(length: T, groupSize: G, headDim: headDim)
    let probabilities = keep ?? scratch, stackedQ = scratch + 2 * G * T * T, stackedOut = stackedQ + G * T * headDim
    layout.gather(q, rowStride: qRowStride, into: stackedQ)
    layout.scores(stackedQ, kvRowStride: kvRowStride, keys: k, alpha: 1 / Float(headDim).squareRoot(), into: probabilities)
    layout.softmax(probabilities, keyMask: keyMask)
    // O = P V: stacked rows before G·top weigh the values before `top` only.
    let top = layout.top, hd = Int32(headDim), t = Int32(T)
    if top > 0 {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(G * top), hd, Int32(top), 1, probabilities, t,
                    v, Int32(kvRowStride), 0, stackedOut, hd)
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(G * layout.rest), hd, t, 1, probabilities + G * top * T, t,
                v, Int32(kvRowStride), 0, stackedOut + G * top * headDim, hd)
    layout.scatter(stackedOut, into: out, rowStride: qRowStride, accumulate: false)
}

/// Backward of `groupedAttentionForward` (P recomputed from Q and K, or the forward's `kept`):
///   dV += Σ_h P_hᵀ dO_h    dP_h = dO_h Vᵀ    dS_h = P_h ⊙ (dP_h − rowsum(P_h ⊙ dP_h))
///   dQ_h += scale · dS_h K    dK += scale · Σ_h dS_hᵀ Q_h
/// Gradients accumulate, or are overwritten without `accumulate`.
public func groupedAttentionBackward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                     dOut: UnsafePointer<Float>, dQ: UnsafeMutablePointer<Float>,
                                     dK: UnsafeMutablePointer<Float>, dV: UnsafeMutablePointer<Float>,
                                     keyMask: UnsafePointer<UInt8>?, scratch: UnsafeMutablePointer<Float>,
                                     length T: Int, groupSize G: Int, headDim: Int,
                                     qRowStride: Int, kvRowStride: Int, accumulate: Bool = true,
                                     kept: UnsafePointer<Float>? = nil) {
    let layout = StackedHeads(length: T, groupSize: G, headDim: headDim)
    let scale = 1 / Float(headDim).squareRoot()
    let probabilities = kept ?? UnsafePointer(scratch), dScores = scratch + G * T * T
    let stackedQ = scratch + 2 * G * T * T, stackedDOut = stackedQ + G * T * headDim, stackedDQ = stackedDOut + G * T * headDim
    layout.gather(q, rowStride: qRowStride, into: stackedQ)
    layout.gather(dOut, rowStride: qRowStride, into: stackedDOut)
    if kept == nil {
        layout.scores(stackedQ, kvRowStride: kvRowStride, keys: k, alpha: scale, into: scratch)
        layout.softmax(scratch, keyMask: keyMask)
    }
    let top = layout.top, rest = layout.rest, hd = Int32(headDim), t = Int32(T), kvStride = Int32(kvRowStride)
    let beta: Float = accumulate ? 1 : 0
    let restP = probabilities + G * top * T + top, restD = dScores + G * top * T + top
    // dV: keys before `top` from every stacked row, the others from the rest block only.
    if top > 0 {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(top), hd, Int32(G * T), 1, probabilities, t,
                    stackedDOut, hd, beta, dV, kvStride)
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(rest), hd, Int32(G * rest), 1, restP, t,
                stackedDOut + G * top * headDim, hd, beta, dV + top * kvRowStride, kvStride)
    // dP = dO Vᵀ over the same blocks, then dS row by row.
    layout.scores(stackedDOut, kvRowStride: kvRowStride, keys: v, alpha: 1, into: dScores)
    for row in 0..<(G * T) {
        let (visible, count) = layout.visibleKeys(row)
        softmaxRowBackward(p: probabilities + row * T, d: dScores + row * T, visible: visible, count: count)
    }
    // dQ = scale · dS K, stacked.
    if top > 0 {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(G * top), hd, Int32(top), scale, dScores, t,
                    k, kvStride, 0, stackedDQ, hd)
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(G * rest), hd, t, scale, dScores + G * top * T, t,
                k, kvStride, 0, stackedDQ + G * top * headDim, hd)
    layout.scatter(stackedDQ, into: dQ, rowStride: qRowStride, accumulate: accumulate)
    // dK = scale · dSᵀ Q, blocks as dV.
    if top > 0 {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(top), hd, Int32(G * T), scale, dScores, t,
                    stackedQ, hd, beta, dK, kvStride)
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(rest), hd, Int32(G * rest), scale, restD, t,
                stackedQ + G * top * headDim, hd, beta, dK + top * kvRowStride, kvStride)
}

/// The stacked row order of a group (see `groupedAttentionScratch`).
struct StackedHeads {
    let T: Int, G: Int, headDim: Int, top: Int, rest: Int

    init(length T: Int, groupSize G: Int, headDim: Int) {
        self.T = T; self.G = G; self.headDim = headDim
        top = causalSplit(T); rest = T - top
    }

    /// The query position of stacked row `row`, as (visible keys, columns the row must define).
    @inline(__always)
    func visibleKeys(_ row: Int) -> (visible: Int, count: Int) {
        row < G * top ? (row % top + 1, top) : (top + (row - G * top) % rest + 1, T)
    }

    /// Where query `i` of head `h` sits in the stack.
    @inline(__always)
    func stackedRow(head h: Int, query i: Int) -> Int {
        i < top ? h * top + i : G * top + h * rest + (i - top)
    }

    /// Rows [T, G, headDim] (rows `rowStride` apart) into the stack [G·T, headDim].
    func gather(_ x: UnsafePointer<Float>, rowStride: Int, into stacked: UnsafeMutablePointer<Float>) {
        for i in 0..<T {
            for h in 0..<G {
                (stacked + stackedRow(head: h, query: i) * headDim).update(from: x + i * rowStride + h * headDim, count: headDim)
            }
        }
    }

    /// The stack back into [T, G, headDim] rows, added or overwriting.
    func scatter(_ stacked: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, rowStride: Int, accumulate: Bool) {
        for i in 0..<T {
            for h in 0..<G {
                let source = stacked + stackedRow(head: h, query: i) * headDim, target = x + i * rowStride + h * headDim
                if accumulate {
                    for j in 0..<headDim { target[j] += source[j] }
                } else {
                    target.update(from: source, count: headDim)
                }
            }
        }
    }

    /// out = alpha · A Kᵀ on the causal blocks (stacked rows before G·top against keys before
    /// `top`, the others against all T keys); out is [G·T, T], blocks outside left unwritten.
    func scores(_ a: UnsafePointer<Float>, kvRowStride: Int, keys: UnsafePointer<Float>, alpha: Float,
                into out: UnsafeMutablePointer<Float>) {
        let hd = Int32(headDim), t = Int32(T), kvStride = Int32(kvRowStride)
        if top > 0 {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(G * top), Int32(top), hd, alpha, a, hd,
                        keys, kvStride, 0, out, t)
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(G * rest), t, hd, alpha, a + G * top * headDim, hd,
                    keys, kvStride, 0, out + G * top * T, t)
    }

    /// Causal masked softmax over every stacked row.
    func softmax(_ scores: UnsafeMutablePointer<Float>, keyMask: UnsafePointer<UInt8>?) {
        let mask = paddingMask(keyMask, length: T)
        for row in 0..<(G * T) {
            let (visible, count) = visibleKeys(row)
            softmaxRow(scores + row * T, visible: visible, count: count, keyMask: mask)
        }
    }
}
