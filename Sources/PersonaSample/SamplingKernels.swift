import PersonaTensor

/// Element-wise passes over a vocabulary of logits, written with SIMD16 (auto-vectorisation is
/// fragile here); each has a plain twin in `NaiveSamplingKernels` that the tests use as oracle.
///
/// Measured here (Swift 6.3, release): the generic `pointwiseMax`, `clamped` and `any(mask)`
/// run lane by lane (about 350 µs over 49,152 floats), while `replacing(with:where:)` compiles
/// to vector blends (2 µs); so every max, clamp and test below is written with it.
enum SamplingKernels {
    typealias V = SIMD16<Float>

    /// Lane-wise max through a blend (see above; PersonaTensor's).
    @inline(__always)
    static func lanewiseMax(_ a: V, _ b: V) -> V { PersonaTensor.lanewiseMax(a, b) }

    /// The largest of 64 floats at `offset` (bytes) of `raw`.
    @inline(__always)
    static func blockMaximum(_ raw: UnsafeRawPointer, _ offset: Int) -> Float {
        let a = lanewiseMax(raw.loadUnaligned(fromByteOffset: offset, as: V.self), raw.loadUnaligned(fromByteOffset: offset + 64, as: V.self))
        let b = lanewiseMax(raw.loadUnaligned(fromByteOffset: offset + 128, as: V.self), raw.loadUnaligned(fromByteOffset: offset + 192, as: V.self))
        return lanewiseMax(a, b).max()
    }

    /// e^x for 16 lanes: Cephes' expf reduction and polynomial (about 1 ulp over the range
    /// that matters); exactly 0 below -87 (and for -inf, the removed tokens).
    @inline(__always)
    static func exp(_ x: V) -> V {
        var clamped = x.replacing(with: -87, where: x .< -87)
        clamped.replace(with: 88, where: x .> 88)
        // Adding 1.5·2^23 rounds to the nearest integer and leaves it in the low mantissa bits.
        let shifted = clamped * 1.442_695_040_888_963_4 + 12_582_912.0
        let n = shifted - 12_582_912.0
        var r = clamped - n * 0.693_359_375
        r = r - n * -2.121_944_4e-4
        let rr = r * r
        var p = V(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * rr + r + 1
        let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((integer &+ 127) &<< 23, to: V.self)
        var result = p * scale
        result.replace(with: 0, where: x .< -87)
        return result
    }

    static func fill(_ x: UnsafeMutableBufferPointer<Float>, with value: Float) {
        guard let base = x.baseAddress else { return }
        base.update(repeating: value, count: x.count)
    }

    /// The largest value (-inf for an empty buffer).
    static func maximum(_ x: UnsafeBufferPointer<Float>) -> Float {
        let n = x.count
        var i = 0
        var best = V(repeating: -.infinity)
        guard let base = x.baseAddress else { return -.infinity }
        let raw = UnsafeRawPointer(base)
        while i + 16 <= n {
            best = lanewiseMax(best, raw.loadUnaligned(fromByteOffset: i * 4, as: V.self))
            i += 16
        }
        var m = best.max()
        while i < n { m = Swift.max(m, x[i]); i += 1 }
        return m
    }

    /// The first index holding the largest value (ties: lowest id), or 0 when empty.
    static func argmax(_ x: UnsafeBufferPointer<Float>) -> Int {
        let m = maximum(x)
        var i = 0
        // Skip whole blocks that do not hold the maximum.
        if let base = x.baseAddress {
            let raw = UnsafeRawPointer(base)
            while i + 64 <= x.count && blockMaximum(raw, i * 4) < m { i += 64 }
        }
        while i < x.count { if x[i] == m { return i }; i += 1 }
        return 0
    }

    /// Σ e^(x − shift), optionally storing each term in `out` ([n]).
    static func sumExp(_ x: UnsafeBufferPointer<Float>, shift: Float, storingInto out: UnsafeMutableBufferPointer<Float>? = nil) -> Float {
        let n = x.count
        guard let base = x.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        let outRaw = out.flatMap { $0.baseAddress }.map(UnsafeMutableRawPointer.init)
        let s = V(repeating: shift)
        var acc = V(repeating: 0)
        var i = 0
        while i + 16 <= n {
            let e = exp(raw.loadUnaligned(fromByteOffset: i * 4, as: V.self) - s)
            if let outRaw { outRaw.storeBytes(of: e, toByteOffset: i * 4, as: V.self) }
            acc += e
            i += 16
        }
        var total = acc.sum()
        while i < n {
            var lane = V(repeating: -.infinity)
            lane[0] = x[i] - shift
            let e = exp(lane)[0]
            out?[i] = e
            total += e
            i += 1
        }
        return total
    }

    /// Σ e^(x − shift)·(x − shift): with the sum of exponentials, this gives the entropy.
    static func sumExpTimesValue(_ x: UnsafeBufferPointer<Float>, shift: Float) -> (sumExp: Float, sumExpTimesValue: Float) {
        let n = x.count
        guard let base = x.baseAddress else { return (0, 0) }
        let raw = UnsafeRawPointer(base)
        let s = V(repeating: shift)
        var accE = V(repeating: 0), accEV = V(repeating: 0)
        var i = 0
        while i + 16 <= n {
            let d = raw.loadUnaligned(fromByteOffset: i * 4, as: V.self) - s
            let e = exp(d)
            accE += e
            // 0·(-inf) would be NaN: removed tokens contribute nothing.
            accEV += (e * d).replacing(with: 0, where: e .== 0)
            i += 16
        }
        var totalE = accE.sum(), totalEV = accEV.sum()
        while i < n {
            var lane = V(repeating: -.infinity)
            lane[0] = x[i] - shift
            let e = exp(lane)[0]
            totalE += e
            if e > 0 { totalEV += e * (x[i] - shift) }
            i += 1
        }
        return (totalE, totalEV)
    }

    /// x *= factor
    static func scale(_ x: UnsafeMutableBufferPointer<Float>, by factor: Float) {
        let n = x.count
        guard let base = x.baseAddress else { return }
        let raw = UnsafeMutableRawPointer(base)
        let f = V(repeating: factor)
        var i = 0
        while i + 16 <= n {
            raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: i * 4, as: V.self) * f, toByteOffset: i * 4, as: V.self)
            i += 16
        }
        while i < n { x[i] *= factor; i += 1 }
    }

    /// The index where the running sum of `weights` first exceeds `target` (the last
    /// positive weight when rounding leaves the target beyond the total).
    static func cumulativeIndex(_ weights: UnsafeBufferPointer<Float>, target: Float) -> Int {
        let n = weights.count
        guard let base = weights.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        var running: Float = 0
        var i = 0
        while i + 16 <= n {
            let chunk = raw.loadUnaligned(fromByteOffset: i * 4, as: V.self).sum()
            if running + chunk > target { break }
            running += chunk
            i += 16
        }
        var lastPositive = -1
        while i < n {
            let w = weights[i]
            if w > 0 {
                running += w
                lastPositive = i
                if running > target { return i }
            }
            i += 1
        }
        if lastPositive >= 0 { return lastPositive }
        for j in stride(from: n - 1, through: 0, by: -1) where weights[j] > 0 { return j }
        return 0
    }
}

/// Plain twins of the SIMD kernels, the oracle of their tests.
enum NaiveSamplingKernels {
    static func maximum(_ x: [Float]) -> Float { x.max() ?? -.infinity }
    static func sumExp(_ x: [Float], shift: Float) -> Double { x.reduce(0.0) { $0 + _exp(Double($1 - shift)) } }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _expf(_ x: Float) -> Float { Glibc.expf(x) }
@inline(__always) func _logf(_ x: Float) -> Float { Glibc.logf(x) }
@inline(__always) func _powf(_ x: Float, _ y: Float) -> Float { Glibc.powf(x, y) }
@inline(__always) func _pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#else
import Darwin
@inline(__always) func _exp(_ x: Double) -> Double { Darwin.exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) func _expf(_ x: Float) -> Float { Darwin.expf(x) }
@inline(__always) func _logf(_ x: Float) -> Float { Darwin.logf(x) }
@inline(__always) func _powf(_ x: Float, _ y: Float) -> Float { Darwin.powf(x, y) }
@inline(__always) func _pow(_ x: Double, _ y: Double) -> Double { Darwin.pow(x, y) }
#endif
