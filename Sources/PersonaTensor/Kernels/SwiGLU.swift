import Foundation

/// `out = silu(gate) · up` elementwise, silu(g) = g / (1 + e^−g) (Llama's MLP activation).
/// gate, up, out: [count]; out may alias either input.
public func swigluForward(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
    for i in 0..<count {
        let g = gate[i]
        out[i] = g / (1 + expf(-g)) * up[i]
    }
}

/// The naive twin of `swigluForward` (Double).
public func swigluForwardNaive(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
    for i in 0..<count {
        let g = Double(gate[i])
        out[i] = Float(g / (1 + exp(-g)) * Double(up[i]))
    }
}
