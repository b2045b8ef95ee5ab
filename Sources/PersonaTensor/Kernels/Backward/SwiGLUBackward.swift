import Foundation

/// Backward of the SwiGLU gate, h = silu(g) · u with silu(g) = g · σ(g):
///   dG = dH · u · σ(g) · (1 + g · (1 − σ(g)))
///   dU = dH · silu(g)
/// Both gradients accumulate.
public func swigluBackward(gate: UnsafePointer<Float>,          // [T, ff] pre-activation g
                           up: UnsafePointer<Float>,            // [T, ff] u
                           dH: UnsafePointer<Float>,            // [T, ff]
                           dGate: UnsafeMutablePointer<Float>,  // [T, ff] accumulated
                           dUp: UnsafeMutablePointer<Float>,    // [T, ff] accumulated
                           count: Int) {
    for i in 0..<count {
        let g = gate[i]
        let sigmoid = 1 / (1 + expf(-g))
        let silu = g * sigmoid
        dGate[i] += dH[i] * up[i] * sigmoid * (1 + g * (1 - sigmoid))
        dUp[i] += dH[i] * silu
    }
}
