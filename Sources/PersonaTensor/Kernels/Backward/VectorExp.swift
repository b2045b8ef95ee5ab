/// e^x on sixteen lanes: Cephes' expf (range reduction by ln 2 split in two constants, a
/// degree-6 polynomial, 2^n from the exponent bits). Relative error about 2e-7 over the range
/// softmax needs (x ≤ 0); inputs below −87.3 give about 1e-38 instead of 0.
/// Foundation's scalar expf is a call per element, which dominated the chunked cross-entropy.
@inlinable @inline(__always)
public func vectorExp(_ input: SIMD16<Float>) -> SIMD16<Float> {
    // Blends and the 1.5·2²³ rounding trick stay in vector registers; the generic
    // `clamped`, `pointwiseMin/Max` and `rounded(.down)` go lane by lane (see `lanewiseMax`).
    var x = lanewiseMax(lanewiseMin(input, SIMD16(repeating: 88.37626)), SIMD16(repeating: -87.33654))
    let n = (x * 1.44269504088896341 + 12_582_912) - 12_582_912   // round to nearest
    x = x - n * 0.693359375 + n * 2.12194440e-4
    var y = SIMD16<Float>(repeating: 1.9875691500e-4)
    y = y * x + 1.3981999507e-3
    y = y * x + 8.3334519073e-3
    y = y * x + 4.1665795894e-2
    y = y * x + 1.6666665459e-1
    y = y * x + 5.0000001201e-1
    y = y * (x * x) + x + 1
    // n is an integer-valued float in [−127, 128]: adding 1.5·2²³ puts it in the low mantissa
    // bits, which avoids the generic (slow) float-to-integer SIMD conversion.
    let integer = unsafeBitCast(n + 12_582_912, to: SIMD16<Int32>.self) &- 0x4B40_0000
    let exponent = (integer &+ 127) &<< 23
    return y * unsafeBitCast(exponent, to: SIMD16<Float>.self)
}

/// Scalar twin of `vectorExp` (same polynomial), for tails and as a test oracle.
@inlinable
public func vectorExpScalar(_ input: Float) -> Float {
    vectorExp(SIMD16(repeating: input))[0]
}

/// Lane-wise max through a blend. The standard library's generic `pointwiseMax` runs lane by
/// lane through the stack here (Swift 6.3, release): 7.8 ns per float against 0.05 for this,
/// measured over 1,024-float rows.
@inlinable @inline(__always)
public func lanewiseMax(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a.replacing(with: b, where: b .> a) }

/// Lane-wise min through a blend (see `lanewiseMax`).
@inlinable @inline(__always)
public func lanewiseMin(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a.replacing(with: b, where: b .< a) }
