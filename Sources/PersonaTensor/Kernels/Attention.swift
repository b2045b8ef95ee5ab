import Foundation

/// The shape of one attention call: `queries` new positions of one sequence attending to
/// `keys` cached-or-new positions, grouped-query heads.
public struct AttentionShape: Sendable {
    public var queries: Int        // T
    public var keys: Int           // S (≥ T): past positions then the T new ones
    public var heads: Int          // nHeads
    public var kvHeads: Int        // nKVHeads; query head h reads kv head h / (heads / kvHeads)
    public var headDim: Int

    public init(queries: Int, keys: Int, heads: Int, kvHeads: Int, headDim: Int) {
        self.queries = queries; self.keys = keys; self.heads = heads; self.kvHeads = kvHeads; self.headDim = headDim
    }

    /// Key index of query 0: queries sit at the end of the key range.
    public var offset: Int { keys - queries }
}

/// Per-thread score rows for `attentionForward`, sized for the largest call of a run.
public final class AttentionScratch: @unchecked Sendable {
    let scores: [FloatBuffer]  // per thread: [T, S]
    public let capacity: Int

    public init(threads: Int, capacity: Int) {
        self.capacity = capacity
        scores = (0..<workParts(threads: max(1, threads))).map { _ in FloatBuffer(count: capacity) }
    }

    public var threads: Int { scores.count }
}

/// Causal scaled dot-product attention of one sequence, all heads:
/// `out[t, h] = Σ_s softmax_s(q[t,h]·k[s,g] / √headDim) · v[s,g]`, g = h / (heads / kvHeads),
/// over keys s ≤ offset + t whose `keyValid[s]` is true (padding is masked). A query with no
/// valid key gets zero output and zero probabilities.
/// q: [T, heads, headDim]; k, v: [S, kvHeads, headDim]; out: [T, heads, headDim];
/// probabilities (kept when given, for captures and the backward pass): [heads, T, S].
public func attentionForward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                             shape: AttentionShape, keyValid: UnsafePointer<Bool>? = nil,
                             into out: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>? = nil,
                             scratch: AttentionScratch) {
    let T = shape.queries, S = shape.keys, H = shape.heads, hd = shape.headDim
    let group = H / shape.kvHeads
    let qStride = H * hd, kvStride = shape.kvHeads * hd
    let scale = 1 / Float(hd).squareRoot()
    precondition(probabilities != nil || T * S <= scratch.capacity, "attention scratch too small")
    nonisolated(unsafe) let q = q, k = k, v = v, out = out, probabilities = probabilities, keyValid = keyValid
    // A few µs of work is not worth a hand-off, even to the compute pool's awake workers.
    let threads = T * S * H * hd < 16_384 ? 1 : scratch.threads
    parallelParts(H, threads: threads) { part, headRange in
        for h in headRange {
            let g = h / group
            let p = probabilities.map { $0 + h * T * S } ?? scratch.scores[part].pointer  // [T, S]
            if T == 1 {
                let qh = q + h * hd
                for s in 0..<S { p[s] = dot(qh, k + s * kvStride + g * hd, hd) * scale }
            } else {
                sgemm(transposeB: true, m: T, n: S, k: hd, alpha: scale, a: q + h * hd, lda: qStride,
                      b: k + g * hd, ldb: kvStride, c: p, ldc: S)
            }
            for t in 0..<T {
                if keyValid == nil {
                    // Sixteen lanes with vectorExp: with scalar expf per key, decoding spent a
                    // tenth of its step here.
                    softmaxRow(p + t * S, visible: min(shape.offset + t + 1, S), count: S, keyMask: nil)
                } else {
                    softmaxMasked(p + t * S, count: S, visible: shape.offset + t + 1, keyValid: keyValid)
                }
            }
            if T == 1 {
                weightedSum(p, count: S, values: v + g * hd, stride: kvStride, width: hd, into: out + h * hd)
            } else {
                sgemm(m: T, n: hd, k: S, a: p, lda: S, b: v + g * hd, ldb: kvStride, c: out + h * hd, ldc: qStride)
            }
        }
    }
}

/// Softmax of row[0..<visible] with invalid keys excluded; entries at and after `visible`
/// (the future) and masked keys become exactly 0.
@inline(__always)
func softmaxMasked(_ row: UnsafeMutablePointer<Float>, count: Int, visible: Int, keyValid: UnsafePointer<Bool>?) {
    let n = min(visible, count)
    var m = -Float.infinity
    for s in 0..<n where keyValid?[s] ?? true { m = max(m, row[s]) }
    if m == -Float.infinity {
        row.update(repeating: 0, count: count)
        return
    }
    var sum: Float = 0
    for s in 0..<n {
        if keyValid?[s] ?? true {
            let e = expf(row[s] - m)
            row[s] = e
            sum += e
        } else {
            row[s] = 0
        }
    }
    let inverse = 1 / sum
    for s in 0..<n { row[s] *= inverse }
    if n < count { (row + n).update(repeating: 0, count: count - n) }
}

/// out[width] = Σ_s p[s] · values[s · stride ..< s · stride + width]: one query's attention
/// output, the output row kept in registers when it is 64 wide (the common head size).
@inline(__always)
func weightedSum(_ p: UnsafePointer<Float>, count: Int, values: UnsafePointer<Float>, stride: Int, width: Int,
                 into out: UnsafeMutablePointer<Float>) {
    if width == 64 {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        for s in 0..<count where p[s] != 0 {
            let row = UnsafeRawPointer(values + s * stride), w = SIMD16<Float>(repeating: p[s])
            a0.addProduct(w, row.loadUnaligned(as: SIMD16<Float>.self))
            a1.addProduct(w, row.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
            a2.addProduct(w, row.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self))
            a3.addProduct(w, row.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self))
        }
        let o = UnsafeMutableRawPointer(out)
        o.storeBytes(of: a0, as: SIMD16<Float>.self)
        o.storeBytes(of: a1, toByteOffset: 64, as: SIMD16<Float>.self)
        o.storeBytes(of: a2, toByteOffset: 128, as: SIMD16<Float>.self)
        o.storeBytes(of: a3, toByteOffset: 192, as: SIMD16<Float>.self)
    } else {
        out.update(repeating: 0, count: width)
        for s in 0..<count where p[s] != 0 { axpy(p[s], values + s * stride, out, width) }
    }
}

@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>()
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i + 16 <= n {
        acc.addProduct(ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self),
                       rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self))
        i += 16
    }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

@inline(__always)
func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] += alpha * x[i] }
}

/// The naive twin of `attentionForward` (Double, explicit loops, same masking rules).
public func attentionForwardNaive(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                  shape: AttentionShape, keyValid: UnsafePointer<Bool>? = nil,
                                  into out: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>? = nil) {
    let T = shape.queries, S = shape.keys, H = shape.heads, hd = shape.headDim, G = shape.kvHeads
    for h in 0..<H {
        let g = h / (H / G)
        for t in 0..<T {
            var scores = [Double](repeating: -.infinity, count: S)
            for s in 0..<S where s <= shape.offset + t && (keyValid?[s] ?? true) {
                var d = 0.0
                for i in 0..<hd { d += Double(q[(t * H + h) * hd + i]) * Double(k[(s * G + g) * hd + i]) }
                scores[s] = d / Double(hd).squareRoot()
            }
            let m = scores.max() ?? -.infinity
            var weights = [Double](repeating: 0, count: S)
            if m > -.infinity {
                let z = scores.reduce(0.0) { $0 + ($1 == -.infinity ? 0 : exp($1 - m)) }
                for s in 0..<S where scores[s] > -.infinity { weights[s] = exp(scores[s] - m) / z }
            }
            for i in 0..<hd {
                var acc = 0.0
                for s in 0..<S { acc += weights[s] * Double(v[(s * G + g) * hd + i]) }
                out[(t * H + h) * hd + i] = Float(acc)
            }
            if let probabilities { for s in 0..<S { probabilities[(h * T + t) * S + s] = Float(weights[s]) } }
        }
    }
}
