import Foundation

/// Backward of the SwiGLU gate, h = silu(g) · u with silu(g) = g · σ(g):
///   dG = dH · u · σ(g) · (1 + g · (1 − σ(g)))
///   dU = dH · silu(g)
/// Both gradients accumulate, or are overwritten without `accumulate` (no zeroing pass first).
public func swigluBackward(gate: UnsafePointer<Float>,          // [T, ff] pre-activation g
                           up: UnsafePointer<Float>,            // [T, ff] u
                           dH: UnsafePointer<Float>,            // [T, ff]
                           dGate: UnsafeMutablePointer<Float>,  // [T, ff] accumulated
                           dUp: UnsafeMutablePointer<Float>,    // [T, ff] accumulated
                           count: Int, accumulate: Bool = true) {
    var i = 0
    while i + 16 <= count {
        let g = UnsafeRawPointer(gate + i).loadUnaligned(as: SIMD16<Float>.self)
        let u = UnsafeRawPointer(up + i).loadUnaligned(as: SIMD16<Float>.self)
        let d = UnsafeRawPointer(dH + i).loadUnaligned(as: SIMD16<Float>.self)
        let sigmoid = 1 / (1 + vectorExp(-g))
        let dg = UnsafeMutableRawPointer(dGate + i), du = UnsafeMutableRawPointer(dUp + i)
        let oldG = accumulate ? dg.loadUnaligned(as: SIMD16<Float>.self) : .zero
        let oldU = accumulate ? du.loadUnaligned(as: SIMD16<Float>.self) : .zero
        dg.storeBytes(of: oldG + d * u * sigmoid * (1 + g * (1 - sigmoid)), as: SIMD16<Float>.self)
        du.storeBytes(of: oldU + d * g * sigmoid, as: SIMD16<Float>.self)
        i += 16
    }
    while i < count {
        let g = gate[i]
        let sigmoid = 1 / (1 + expf(-g))
        let silu = g * sigmoid
        dGate[i] = (accumulate ? dGate[i] : 0) + dH[i] * up[i] * sigmoid * (1 + g * (1 - sigmoid))
        dUp[i] = (accumulate ? dUp[i] : 0) + dH[i] * silu
        i += 1
    }
}
