/// Backward of RMSNorm, y = x · r · w with r = 1 / sqrt(mean(x²) + eps) per row:
///   dX_i = r · w_i · dY_i − x_i · r³ / d · Σ_j w_j · dY_j · x_j
///   dWeight_i = Σ_rows dY_i · x_i · r
/// Both gradients accumulate (the caller zeroes them); with `base` ([T, d]), dX = base + the
/// gradient instead (dX not read: a residual's gradient without copying it into dX first).
/// With a frozen weight (dWeight nil) the rows are independent and split across `threads`.
public func rmsnormBackward(x: UnsafePointer<Float>,              // [T, d] input of the forward
                            weight: UnsafePointer<Float>,         // [d]
                            dY: UnsafePointer<Float>,             // [T, d]
                            dX: UnsafeMutablePointer<Float>,      // [T, d] accumulated
                            dWeight: UnsafeMutablePointer<Float>?, // [d] accumulated, nil when frozen
                            rows: Int, dim: Int, eps: Float, threads: Int = 1, base: UnsafePointer<Float>? = nil) {
    if dWeight == nil && threads > 1 {
        nonisolated(unsafe) let x = x, weight = weight, dY = dY, dX = dX, base = base
        parallelRanges(rows, threads: threads) { range in
            rmsnormBackward(x: x + range.lowerBound * dim, weight: weight, dY: dY + range.lowerBound * dim,
                            dX: dX + range.lowerBound * dim, dWeight: nil, rows: range.count, dim: dim, eps: eps,
                            base: base.map { $0 + range.lowerBound * dim })
        }
        return
    }
    // Sixteen lanes at a time: the two sums over a row ran as scalar chains (a float
    // reduction is not vectorised without reassociation).
    let vectorEnd = dim / 16 * 16
    @inline(__always) func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD16<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
    }
    for t in 0..<rows {
        let xr = x + t * dim, gr = dY + t * dim, dxr = dX + t * dim
        let br: UnsafePointer<Float> = base.map { $0 + t * dim } ?? UnsafePointer(dxr)
        var squares = SIMD16<Float>(repeating: 0), dots = SIMD16<Float>(repeating: 0)
        var i = 0
        while i < vectorEnd {
            let xv = load(xr, i)
            squares += xv * xv
            dots += load(weight, i) * load(gr, i) * xv
            i += 16
        }
        var sumSquares = squares.sum(), dot = dots.sum()
        while i < dim {
            sumSquares += xr[i] * xr[i]
            dot += weight[i] * gr[i] * xr[i]
            i += 1
        }
        let r = 1 / (sumSquares / Float(dim) + eps).squareRoot()
        let correction = r * r * r / Float(dim) * dot
        i = 0
        while i < vectorEnd {
            let updated = load(br, i) + r * load(weight, i) * load(gr, i) - load(xr, i) * correction
            UnsafeMutableRawPointer(dxr + i).storeBytes(of: updated, as: SIMD16<Float>.self)
            i += 16
        }
        while i < dim {
            dxr[i] = br[i] + r * weight[i] * gr[i] - xr[i] * correction
            i += 1
        }
        if let dWeight {
            for i in 0..<dim { dWeight[i] += gr[i] * xr[i] * r }
        }
    }
}
