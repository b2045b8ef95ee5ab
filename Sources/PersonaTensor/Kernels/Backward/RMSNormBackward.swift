/// Backward of RMSNorm, y = x · r · w with r = 1 / sqrt(mean(x²) + eps) per row:
///   dX_i = r · w_i · dY_i − x_i · r³ / d · Σ_j w_j · dY_j · x_j
///   dWeight_i = Σ_rows dY_i · x_i · r
/// Both gradients accumulate (the caller zeroes them).
public func rmsnormBackward(x: UnsafePointer<Float>,              // [T, d] input of the forward
                            weight: UnsafePointer<Float>,         // [d]
                            dY: UnsafePointer<Float>,             // [T, d]
                            dX: UnsafeMutablePointer<Float>,      // [T, d] accumulated
                            dWeight: UnsafeMutablePointer<Float>?, // [d] accumulated, nil when frozen
                            rows: Int, dim: Int, eps: Float) {
    for t in 0..<rows {
        let xr = x + t * dim, gr = dY + t * dim, dxr = dX + t * dim
        var sumSquares: Float = 0
        var dot: Float = 0
        for i in 0..<dim {
            sumSquares += xr[i] * xr[i]
            dot += weight[i] * gr[i] * xr[i]
        }
        let r = 1 / (sumSquares / Float(dim) + eps).squareRoot()
        let correction = r * r * r / Float(dim) * dot
        for i in 0..<dim {
            dxr[i] += r * weight[i] * gr[i] - xr[i] * correction
        }
        if let dWeight {
            for i in 0..<dim { dWeight[i] += gr[i] * xr[i] * r }
        }
    }
}
