/// Backward of RMSNorm, y = x · r · w with r = 1 / sqrt(mean(x²) + eps) per row:
///   dX_i = r · w_i · dY_i − x_i · r³ / d · Σ_j w_j · dY_j · x_j
///   dWeight_i = Σ_rows dY_i · x_i · r
/// Both gradients accumulate (the caller zeroes them). With a frozen weight (dWeight nil) the
/// rows are independent and split across `threads`.
public func rmsnormBackward(x: UnsafePointer<Float>,              // [T, d] input of the forward
                            weight: UnsafePointer<Float>,         // [d]
                            dY: UnsafePointer<Float>,             // [T, d]
                            dX: UnsafeMutablePointer<Float>,      // [T, d] accumulated
                            dWeight: UnsafeMutablePointer<Float>?, // [d] accumulated, nil when frozen
                            rows: Int, dim: Int, eps: Float, threads: Int = 1) {
    if dWeight == nil && threads > 1 {
        nonisolated(unsafe) let x = x, weight = weight, dY = dY, dX = dX
        parallelRanges(rows, threads: threads) { range in
            rmsnormBackward(x: x + range.lowerBound * dim, weight: weight, dY: dY + range.lowerBound * dim,
                            dX: dX + range.lowerBound * dim, dWeight: nil, rows: range.count, dim: dim, eps: eps)
        }
        return
    }
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
