import Foundation

/// `out[t] = x[t] / sqrt(mean(x[t]²) + eps) · weight` for each of `rows` rows of width `d`
/// (Llama's RMSNorm; x: [rows, d], weight: [d], out: [rows, d], out may alias x).
/// The per-row inverse RMS is written to `inverseRMS` [rows] when given: the backward pass
/// needs it.
public func rmsnormForward(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, d: Int, eps: Float,
                           into out: UnsafeMutablePointer<Float>, inverseRMS: UnsafeMutablePointer<Float>? = nil) {
    for t in 0..<rows {
        let xr = x + t * d, o = out + t * d
        var acc = SIMD16<Float>()
        var j = 0
        let raw = UnsafeRawPointer(xr)
        while j + 16 <= d {
            let v = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
            acc.addProduct(v, v)
            j += 16
        }
        var sumSquares = acc.sum()
        while j < d { sumSquares += xr[j] * xr[j]; j += 1 }
        let scale = 1 / (sumSquares / Float(d) + eps).squareRoot()
        inverseRMS?[t] = scale
        for j in 0..<d { o[j] = xr[j] * scale * weight[j] }
    }
}

/// The naive twin of `rmsnormForward` (Double accumulation).
public func rmsnormForwardNaive(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, d: Int, eps: Float,
                                into out: UnsafeMutablePointer<Float>) {
    for t in 0..<rows {
        var s = 0.0
        for j in 0..<d { s += Double(x[t * d + j]) * Double(x[t * d + j]) }
        let scale = 1 / (s / Double(d) + Double(eps)).squareRoot()
        for j in 0..<d { out[t * d + j] = Float(Double(x[t * d + j]) * scale * Double(weight[j])) }
    }
}
