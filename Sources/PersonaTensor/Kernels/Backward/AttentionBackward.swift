import COpenBLAS
import Foundation

/// Backward of causal scaled-dot-product attention with grouped-query heads, for one sequence.
/// Forward: S = scale · Q_h K_gᵀ (g = h / (heads / kvHeads)), masked where key j > query i or
/// key j is padding, P = softmax(S) per row, O_h = P V_g. The probabilities are recomputed
/// here from Q and K (cheap next to the projections) so the forward keeps no [T, T] tensors.
///   dV_g += Pᵀ dO_h        dP = dO_h V_gᵀ        dS = P ⊙ (dP − rowsum(P ⊙ dP))
///   dQ_h += scale · dS K_g  dK_g += scale · dSᵀ Q_h
/// The heads of one group add into the same dK_g and dV_g. Gradients accumulate.
public func attentionBackward(q: UnsafePointer<Float>,            // [T, heads, headDim] after RoPE
                              k: UnsafePointer<Float>,            // [T, kvHeads, headDim] after RoPE
                              v: UnsafePointer<Float>,            // [T, kvHeads, headDim]
                              dOut: UnsafePointer<Float>,         // [T, heads, headDim]
                              dQ: UnsafeMutablePointer<Float>,    // [T, heads, headDim] accumulated
                              dK: UnsafeMutablePointer<Float>,    // [T, kvHeads, headDim] accumulated
                              dV: UnsafeMutablePointer<Float>,    // [T, kvHeads, headDim] accumulated
                              keyMask: UnsafePointer<UInt8>?,     // [T] 1 = a real token, nil = all real
                              scratch: UnsafeMutablePointer<Float>, // [2, T, T]
                              length T: Int, heads: Int, kvHeads: Int, headDim: Int) {
    attentionBackward(q: q, k: k, v: v, dOut: dOut, dQ: dQ, dK: dK, dV: dV, keyMask: keyMask, scratch: scratch,
                      length: T, heads: heads, kvHeads: kvHeads, headDim: headDim,
                      qRowStride: heads * headDim, kvRowStride: kvHeads * headDim)
}

/// The same over a slice of heads: `q`/`dOut`/`dQ` point at the first of `heads` query heads
/// and `k`/`v`/`dK`/`dV` at the first of their `kvHeads` key/value heads, with rows
/// `qRowStride` and `kvRowStride` floats apart. One query-head group per call lets callers
/// run groups on separate threads (each group owns its dK, dV). Without `accumulate` the
/// gradients are overwritten (the first product into each block uses beta = 0), so callers
/// need not zero them first.
public func attentionBackward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                              dOut: UnsafePointer<Float>, dQ: UnsafeMutablePointer<Float>,
                              dK: UnsafeMutablePointer<Float>, dV: UnsafeMutablePointer<Float>,
                              keyMask: UnsafePointer<UInt8>?, scratch: UnsafeMutablePointer<Float>,
                              length T: Int, heads: Int, kvHeads: Int, headDim: Int,
                              qRowStride: Int, kvRowStride: Int, accumulate: Bool = true) {
    let groupSize = heads / kvHeads
    let scale = 1 / Float(headDim).squareRoot()
    let qStride = Int32(qRowStride), kvStride = Int32(kvRowStride)
    let probabilities = scratch          // [T, T]
    let dScores = scratch + T * T        // [T, T]
    let n = Int32(T), hd = Int32(headDim)
    for h in 0..<heads {
        let g = h / groupSize
        let qh = q + h * headDim, kg = k + g * headDim, vg = v + g * headDim
        let dOh = dOut + h * headDim
        let top = causalSplit(T), rest = Int32(T - top), topRows = Int32(top)
        let dQh = dQ + h * headDim, dKg = dK + g * headDim, dVg = dV + g * headDim
        // The two products into each gradient cover disjoint rows (before and from `top`), so
        // overwriting needs beta = 0 on both: always for dQ_h, on the group's first head for dK_g, dV_g.
        let qBeta: Float = accumulate ? 1 : 0, kvBeta: Float = accumulate || h % groupSize > 0 ? 1 : 0
        // S = scale · Q_h K_gᵀ and P = softmax(S), over the causal blocks only.
        causalProducts(a: qh, aStride: qRowStride, b: kg, bStride: kvRowStride, alpha: scale, into: probabilities, length: T, headDim: headDim)
        attentionSoftmaxRows(probabilities, keyMask: keyMask, length: T)
        // dV_g += Pᵀ dO_h: keys before `top` see every query, the others only queries from `top` on.
        if top > 0 {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, topRows, hd, n, 1, probabilities, n, dOh, qStride, kvBeta, dVg, kvStride)
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rest, hd, rest, 1, probabilities + top * T + top, n,
                    dOh + top * qRowStride, qStride, kvBeta, dVg + top * kvRowStride, kvStride)
        // dP = dO_h V_gᵀ over the same blocks, then dS row by row.
        causalProducts(a: dOh, aStride: qRowStride, b: vg, bStride: kvRowStride, alpha: 1, into: dScores, length: T, headDim: headDim)
        for i in 0..<T {
            softmaxRowBackward(p: probabilities + i * T, d: dScores + i * T, visible: i + 1, count: T)
        }
        // dQ_h += scale · dS K_g: queries before `top` only reach keys before `top`.
        if top > 0 {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, topRows, hd, topRows, scale, dScores, n, kg, kvStride, qBeta, dQh, qStride)
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rest, hd, n, scale, dScores + top * T, n, kg, kvStride,
                    qBeta, dQh + top * qRowStride, qStride)
        // dK_g += scale · dSᵀ Q_h: keys before `top` from every query, the others from queries from `top` on.
        if top > 0 {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, topRows, hd, n, scale, dScores, n, qh, qStride, kvBeta, dKg, kvStride)
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rest, hd, rest, scale, dScores + top * T + top, n,
                    qh + top * qRowStride, qStride, kvBeta, dKg + top * kvRowStride, kvStride)
    }
}

/// Causal, padding-masked softmax in place over the rows of scores [T, T]; entries above the
/// diagonal and at padded keys become 0. A row with no visible key (a padded query with every
/// earlier key padded) becomes all zeros rather than NaN.
public func attentionSoftmaxRows(_ scores: UnsafeMutablePointer<Float>, keyMask: UnsafePointer<UInt8>?, length T: Int) {
    let mask = paddingMask(keyMask, length: T)
    for i in 0..<T { softmaxRow(scores + i * T, visible: i + 1, count: T, keyMask: mask) }
}

/// `keyMask`, or nil where it has no padded key: a sequence without padding needs no mask,
/// and checking it key by key on every row ran as scalar code and cost as much as the exponentials.
@inline(__always)
func paddingMask(_ keyMask: UnsafePointer<UInt8>?, length T: Int) -> UnsafePointer<UInt8>? {
    guard let keyMask, (0..<T).contains(where: { keyMask[$0] == 0 }) else { return nil }
    return keyMask
}

/// Masked softmax in place over one row of scores whose first `visible` keys are visible;
/// the row up to `count` beyond them becomes 0, and so does a row with no visible key.
@inline(__always)
func softmaxRow(_ row: UnsafeMutablePointer<Float>, visible: Int, count: Int, keyMask mask: UnsafePointer<UInt8>?) {
    // Padded keys become −∞ before the maximum, so they never set it.
    if let mask {
        for k in 0..<visible where mask[k] == 0 { row[k] = -.infinity }
    }
    let maximum = rowMaximum(row, count: visible)
    if maximum == -.infinity {
        row.update(repeating: 0, count: max(count, visible))
        return
    }
    var sum = exponentiateInPlace(row, count: visible, shift: maximum)
    // vectorExp clamps −∞ to about 1e-38; padded keys get an exact 0.
    if let mask {
        for k in 0..<visible where mask[k] == 0 { sum -= row[k]; row[k] = 0 }
    }
    scaleInPlace(row, count: visible, by: 1 / sum)
    if visible < count { (row + visible).update(repeating: 0, count: count - visible) }
}

/// dS = P ⊙ (dP − Σ_j P·dP) over one row's visible prefix, in place in `d`; the future
/// (j ≥ visible) becomes 0. Sixteen lanes at a time: this row loop ran as scalar code.
@inline(__always)
func softmaxRowBackward(p: UnsafePointer<Float>, d: UnsafeMutablePointer<Float>, visible: Int, count: Int) {
    let rp = UnsafeRawPointer(p), rd = UnsafeMutableRawPointer(d)
    let rowDot = dot(p, d, visible)
    let shift = SIMD16<Float>(repeating: rowDot)
    var j = 0
    while j + 16 <= visible {
        let pv = rp.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
        let dv = rd.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
        rd.storeBytes(of: pv * (dv - shift), toByteOffset: j * 4, as: SIMD16<Float>.self)
        j += 16
    }
    while j < visible { d[j] = p[j] * (d[j] - rowDot); j += 1 }
    if visible < count { (d + visible).update(repeating: 0, count: count - visible) }
}

/// Where causal products split their queries: rows before it only need keys before it, so
/// the [T, T] products skip the upper-right quarter (3/4 of the work of a full product).
@inlinable
public func causalSplit(_ T: Int) -> Int { T >= 2 ? T / 2 : 0 }

/// out[T, T] = alpha · A Bᵀ (A, B: [T, headDim] rows `aStride`/`bStride` apart) on the causal
/// blocks only: rows before `causalSplit(T)` get columns before it and leave the rest
/// unwritten (causal softmax and its backward never read above the diagonal).
public func causalProducts(a: UnsafePointer<Float>, aStride: Int, b: UnsafePointer<Float>, bStride: Int, alpha: Float,
                           into out: UnsafeMutablePointer<Float>, length T: Int, headDim: Int) {
    let top = causalSplit(T), n = Int32(T), hd = Int32(headDim)
    if top > 0 {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(top), Int32(top), hd, alpha, a, Int32(aStride),
                    b, Int32(bStride), 0, out, n)
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T - top), n, hd, alpha, a + top * aStride, Int32(aStride),
                b, Int32(bStride), 0, out + top * T, n)
}
