
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
/// Scratch: [2, G·T, T] scores, [3, G·T, headDim] stacked rows, and the packed panels of the
/// products' right-hand sides (`packedProduct`): one of K, Kᵀ, V, Vᵀ at a time, and one of the
/// stacked dO or Q (`groupedAttentionScratch`).
public func groupedAttentionScratch(length T: Int, groupSize G: Int, headDim: Int) -> Int {
    let layout = StackedHeads(length: T, groupSize: G, headDim: headDim)
    return 2 * G * T * T + 3 * G * T * headDim + layout.keyPanelFloats + layout.stackedPanelFloats
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
    let keyPanels = stackedOut + G * T * headDim
    layout.gather(q, rowStride: qRowStride, into: stackedQ)
    layout.scores(stackedQ, keys: k, kvRowStride: kvRowStride, alpha: 1 / Float(headDim).squareRoot(),
                  panels: keyPanels, into: probabilities)
    layout.softmax(probabilities, keyMask: keyMask)
    // O = P V: stacked rows before G·top weigh the values before `top` only.
    layout.packRows(v, rowStride: kvRowStride, rows: T, scale: 1, into: keyPanels)
    layout.timesKeyRows(probabilities, panels: keyPanels, into: stackedOut)
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
    let keyPanels = stackedDQ + G * T * headDim, stackedPanels = keyPanels + layout.keyPanelFloats
    layout.gather(q, rowStride: qRowStride, into: stackedQ)
    layout.gather(dOut, rowStride: qRowStride, into: stackedDOut)
    if kept == nil {
        layout.scores(stackedQ, keys: k, kvRowStride: kvRowStride, alpha: scale, panels: keyPanels, into: scratch)
        layout.softmax(scratch, keyMask: keyMask)
    }
    // dV = Σ_h P_hᵀ dO_h: keys before `top` from every stacked row, the others from the rest block only.
    layout.packRows(stackedDOut, rowStride: headDim, rows: G * T, scale: 1, into: stackedPanels)
    layout.transposedTimesStacked(probabilities, panels: stackedPanels, into: dV, rowStride: kvRowStride, accumulate: accumulate)
    // dP = dO Vᵀ over the same blocks, then dS row by row.
    layout.scores(stackedDOut, keys: v, kvRowStride: kvRowStride, alpha: 1, panels: keyPanels, into: dScores)
    for row in 0..<(G * T) {
        let (visible, count) = layout.visibleKeys(row)
        softmaxRowBackward(p: probabilities + row * T, d: dScores + row * T, visible: visible, count: count)
    }
    // dQ = scale · dS K, stacked.
    layout.packRows(k, rowStride: kvRowStride, rows: T, scale: scale, into: keyPanels)
    layout.timesKeyRows(dScores, panels: keyPanels, into: stackedDQ)
    layout.scatter(stackedDQ, into: dQ, rowStride: qRowStride, accumulate: accumulate)
    // dK = scale · Σ_h dS_hᵀ Q_h, blocks as dV.
    layout.packRows(stackedQ, rowStride: headDim, rows: G * T, scale: scale, into: stackedPanels)
    layout.transposedTimesStacked(dScores, panels: stackedPanels, into: dK, rowStride: kvRowStride, accumulate: accumulate)
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

    /// Floats of K's or V's panels, either way round: ⌈T/16⌉ panels of headDim steps, or
    /// ⌈headDim/16⌉ panels of T steps.
    var keyPanelFloats: Int { roundedUp(T) * roundedUp(headDim) }
    /// Floats of the stacked rows' panels: ⌈headDim/16⌉ panels of G·T steps.
    var stackedPanelFloats: Int { G * T * roundedUp(headDim) }

    private func roundedUp(_ n: Int) -> Int { (n + packedPanelWidth - 1) / packedPanelWidth * packedPanelWidth }

    /// out = alpha · A Kᵀ on the causal blocks (stacked rows before G·top against keys before
    /// `top`, the others against all T keys); out is [G·T, T], blocks outside left unwritten.
    /// `panels` receives alpha · Kᵀ packed.
    func scores(_ a: UnsafePointer<Float>, keys: UnsafePointer<Float>, kvRowStride: Int, alpha: Float,
                panels: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let width = packedPanelWidth
        for p in 0..<((T + width - 1) / width) {
            transposeIntoPanel(keys + p * width * kvRowStride, rows: min(width, T - p * width), depth: headDim,
                               sourceStride: kvRowStride, into: panels + p * width * headDim)
        }
        if alpha != 1 { for i in 0..<(roundedUp(T) * headDim) { panels[i] *= alpha } }
        if top > 0 {
            packedProduct(rows: G * top, depth: headDim, columns: top, a: a, lda: headDim, panels: panels, panelStride: width * headDim,
                          c: out, ldc: T, source: nil, ldSource: 0)
        }
        packedProduct(rows: G * rest, depth: headDim, columns: T, a: a + G * top * headDim, lda: headDim, panels: panels,
                      panelStride: width * headDim, c: out + G * top * T, ldc: T, source: nil, ldSource: 0)
    }

    /// scale · x[rows, headDim] (rows `rowStride` apart) as panels of `rows` steps, headDim wide.
    func packRows(_ x: UnsafePointer<Float>, rowStride: Int, rows: Int, scale: Float, into panels: UnsafeMutablePointer<Float>) {
        copyRowsIntoPanels(x, rows: rows, columns: headDim, sourceStride: rowStride, firstDepth: 0,
                           panels: panels, panelStride: rows * packedPanelWidth)
        if scale != 1 { for i in 0..<(rows * roundedUp(headDim)) { panels[i] *= scale } }
    }

    /// out [G·T, headDim] = S · (key rows packed by `packRows`, T of them) on the causal blocks:
    /// stacked rows before G·top use keys before `top` only.
    func timesKeyRows(_ s: UnsafePointer<Float>, panels: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let stride = T * packedPanelWidth
        if top > 0 {
            packedProduct(rows: G * top, depth: top, columns: headDim, a: s, lda: T, panels: panels, panelStride: stride,
                          c: out, ldc: headDim, source: nil, ldSource: 0)
        }
        packedProduct(rows: G * rest, depth: T, columns: headDim, a: s + G * top * T, lda: T, panels: panels, panelStride: stride,
                      c: out + G * top * headDim, ldc: headDim, source: nil, ldSource: 0)
    }

    /// out [T, headDim] (rows `rowStride` apart) (+)= Sᵀ · (stacked rows packed by `packRows`,
    /// G·T of them) on the causal blocks: keys before `top` gather every stacked row, the
    /// others the rest block only.
    func transposedTimesStacked(_ s: UnsafePointer<Float>, panels: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                                rowStride: Int, accumulate: Bool) {
        let stride = G * T * packedPanelWidth
        if top > 0 {
            packedProduct(rows: top, depth: G * T, columns: headDim, a: s, lda: T, transposedA: true,
                          panels: panels, panelStride: stride, c: out, ldc: rowStride,
                          source: accumulate ? UnsafePointer(out) : nil, ldSource: rowStride)
        }
        let restOut = out + top * rowStride
        packedProduct(rows: rest, depth: G * rest, columns: headDim, a: s + G * top * T + top, lda: T, transposedA: true,
                      panels: panels + G * top * packedPanelWidth, panelStride: stride, c: restOut, ldc: rowStride,
                      source: accumulate ? UnsafePointer(restOut) : nil, ldSource: rowStride)
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
