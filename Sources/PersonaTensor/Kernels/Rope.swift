import Foundation

/// Cosines and sines of rotary position embedding, precomputed for positions
/// `0..<positions` from the inverse frequencies θ_i (i < dimensions / 2; base^(−2i/dims) with
/// any scaling already applied, as the model's configuration computes them). The angle
/// p·θ_i is rounded to float32 as transformers computes it, then cos/sin are taken exactly.
public final class RopeTable: @unchecked Sendable {
    public let positions: Int
    /// Rotated dimensions of each head (the first `dimensions` of `headDim`; even).
    public let dimensions: Int
    let cosines: FloatBuffer  // [positions, dimensions / 2]
    let sines: FloatBuffer    // [positions, dimensions / 2]

    public init(positions: Int, inverseFrequencies: [Float]) {
        self.positions = positions
        let half = inverseFrequencies.count
        dimensions = 2 * half
        cosines = FloatBuffer(count: positions * half)
        sines = FloatBuffer(count: positions * half)
        for i in 0..<half {
            for p in 0..<positions {
                let angle = Double(Float(p) * inverseFrequencies[i])
                cosines.pointer[p * half + i] = Float(cos(angle))
                sines.pointer[p * half + i] = Float(sin(angle))
            }
        }
    }
}

/// Rotates adjacent pairs (x[2i], x[2i+1]) of the first `table.dimensions` dimensions of
/// every head in place: ggml's "normal" (interleaved) RoPE, which matches Hugging Face's
/// rotate-half RoPE once Q/K rows are permuted as GGUF converters store them.
/// x: [rows, heads, headDim]; positions: [rows], each < table.positions.
public func ropeForward(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int,
                        positions: UnsafePointer<Int32>, table: RopeTable) {
    let half = table.dimensions / 2
    for t in 0..<rows {
        let p = Int(positions[t])
        let c = table.cosines.pointer + p * half, s = table.sines.pointer + p * half
        for h in 0..<heads {
            let v = x + (t * heads + h) * headDim
            for i in 0..<half {
                let a = v[2 * i], b = v[2 * i + 1]
                v[2 * i] = a * c[i] - b * s[i]
                v[2 * i + 1] = a * s[i] + b * c[i]
            }
        }
    }
}

/// The naive twin of `ropeForward`: angles computed on the spot in Double.
public func ropeForwardNaive(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int,
                             positions: UnsafePointer<Int32>, inverseFrequencies: [Float]) {
    for t in 0..<rows {
        for h in 0..<heads {
            let v = x + (t * heads + h) * headDim
            for i in 0..<inverseFrequencies.count {
                let angle = Double(positions[t]) * Double(inverseFrequencies[i])
                let a = Double(v[2 * i]), b = Double(v[2 * i + 1])
                v[2 * i] = Float(a * cos(angle) - b * sin(angle))
                v[2 * i + 1] = Float(a * sin(angle) + b * cos(angle))
            }
        }
    }
}
