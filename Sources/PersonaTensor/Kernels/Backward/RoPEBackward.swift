import Foundation

/// Backward of rotary position embedding in ggml's "normal" (interleaved-pair) convention:
/// each pair (x[2i], x[2i+1]) of a head at position p is rotated by p · base^(−2i/headDim).
/// A rotation is orthogonal, so the gradient is rotated back by the same angle:
///   (d0, d1) → (d0·cos + d1·sin, −d0·sin + d1·cos)
/// Works in place on `gradient` ([T, heads, headDim]).
public func ropeBackward(gradient: UnsafeMutablePointer<Float>,  // [T, heads, headDim]
                         positions: UnsafePointer<Int32>,        // [T]
                         rows: Int, heads: Int, headDim: Int, base: Float) {
    let pairs = headDim / 2
    // Frequencies as Hugging Face computes them (float32 inverse frequencies).
    var inverseFrequency = [Float](repeating: 0, count: pairs)
    for i in 0..<pairs { inverseFrequency[i] = 1 / powf(base, Float(2 * i) / Float(headDim)) }
    var cosines = [Float](repeating: 0, count: pairs)
    var sines = [Float](repeating: 0, count: pairs)
    for t in 0..<rows {
        let p = Float(positions[t])
        for i in 0..<pairs {
            let angle = p * inverseFrequency[i]
            cosines[i] = cosf(angle); sines[i] = sinf(angle)
        }
        for h in 0..<heads {
            let g = gradient + (t * heads + h) * headDim
            for i in 0..<pairs {
                let d0 = g[2 * i], d1 = g[2 * i + 1]
                g[2 * i] = d0 * cosines[i] + d1 * sines[i]
                g[2 * i + 1] = -d0 * sines[i] + d1 * cosines[i]
            }
        }
    }
}
