import Foundation

/// How rotary frequencies are stretched for long contexts.
public enum RopeFrequencyScaling: Equatable, Sendable {
    /// Every frequency divided by `factor`.
    case linear(factor: Double)
    /// Llama 3.1's piecewise scaling (transformers `_compute_llama3_parameters`): long
    /// wavelengths are divided by `factor`, short ones kept, and the band between the two
    /// interpolated smoothly.
    case llama3(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, originalContextLength: Int)

    func apply(_ frequency: Double) -> Double {
        switch self {
        case .linear(let factor):
            return frequency / factor
        case .llama3(let factor, let low, let high, let original):
            let lowWavelength = Double(original) / low
            let highWavelength = Double(original) / high
            let wavelength = 2 * Double.pi / frequency
            if wavelength < highWavelength { return frequency }
            if wavelength > lowWavelength { return frequency / factor }
            let smooth = (Double(original) / wavelength - low) / (high - low)
            return (1 - smooth) * frequency / factor + smooth * frequency
        }
    }
}

/// Cosines and sines of rotary position embedding, precomputed for positions
/// `0..<positions`: frequency i (of `dimensions / 2`) is base^(−2i / dimensions), optionally
/// scaled. Computed in Double once, so the tables are exact to float rounding.
public final class RopeTable: @unchecked Sendable {
    public let positions: Int
    /// Rotated dimensions of each head (the first `dimensions` of `headDim`; even).
    public let dimensions: Int
    let cosines: FloatBuffer  // [positions, dimensions / 2]
    let sines: FloatBuffer    // [positions, dimensions / 2]

    public init(positions: Int, dimensions: Int, base: Double, scaling: RopeFrequencyScaling? = nil) {
        self.positions = positions
        self.dimensions = dimensions
        let half = dimensions / 2
        cosines = FloatBuffer(count: positions * half)
        sines = FloatBuffer(count: positions * half)
        for i in 0..<half {
            var frequency = 1 / pow(base, Double(2 * i) / Double(dimensions))
            if let scaling { frequency = scaling.apply(frequency) }
            for p in 0..<positions {
                let angle = Double(p) * frequency
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
public func ropeForwardNaive(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int, dimensions: Int,
                             positions: UnsafePointer<Int32>, base: Double, scaling: RopeFrequencyScaling? = nil) {
    for t in 0..<rows {
        for h in 0..<heads {
            let v = x + (t * heads + h) * headDim
            for i in 0..<(dimensions / 2) {
                var frequency = 1 / pow(base, Double(2 * i) / Double(dimensions))
                if let scaling { frequency = scaling.apply(frequency) }
                let angle = Double(positions[t]) * frequency
                let a = Double(v[2 * i]), b = Double(v[2 * i + 1])
                v[2 * i] = Float(a * cos(angle) - b * sin(angle))
                v[2 * i + 1] = Float(a * sin(angle) + b * cos(angle))
            }
        }
    }
}
