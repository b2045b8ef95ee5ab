import COpenBLAS

/// Backward of a frozen linear map y = x Wᵀ (W: [out, in]): dX += dY W.
/// W is dequantized `tileRows` rows at a time into `tile`, so a quantized matrix is never
/// whole in float32; each tile adds dY[:, rows] · W[rows, :] with one sgemm.
public func linearBackward(dY: UnsafePointer<Float>,           // [T, out]
                           weight: some FrozenMatrix,          // [out, in]
                           dX: UnsafeMutablePointer<Float>,    // [T, in] accumulated
                           rows T: Int,
                           tile: UnsafeMutablePointer<Float>,  // [tileRows, in]
                           tileRows: Int) {
    let outDim = weight.rows, inDim = weight.columns
    var start = 0
    while start < outDim {
        let count = min(tileRows, outDim - start)
        weight.dequantizeRows(start..<(start + count), into: tile)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(T), Int32(inDim), Int32(count),
                    1, dY + start, Int32(outDim), tile, Int32(inDim), 1, dX, Int32(inDim))
        start += count
    }
}

/// Backward of a dense linear map y = x Wᵀ with W already float32: dX += dY W.
public func linearBackward(dY: UnsafePointer<Float>,           // [T, out]
                           weight: UnsafePointer<Float>,       // [out, in]
                           dX: UnsafeMutablePointer<Float>,    // [T, in] accumulated
                           rows T: Int, inDim: Int, outDim: Int) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(T), Int32(inDim), Int32(outDim),
                1, dY, Int32(outDim), weight, Int32(inDim), 1, dX, Int32(inDim))
}

/// Backward of the LoRA branch y += s · B (A x) (A: [r, in], B: [out, r]), given the forward's
/// ax = A x ([T, r]):
///   dB += s · dYᵀ ax      d(ax) = s · dY B      dA += d(ax)ᵀ x      dX += d(ax) A
/// `dAx` is scratch [T, r]. Gradients accumulate.
public func loraBackward(x: UnsafePointer<Float>,             // [T, in] input of the projection
                         ax: UnsafePointer<Float>,            // [T, r]
                         dY: UnsafePointer<Float>,            // [T, out]
                         a: UnsafePointer<Float>,             // [r, in]
                         b: UnsafePointer<Float>,             // [out, r]
                         scale: Float,
                         dA: UnsafeMutablePointer<Float>,     // [r, in] accumulated
                         dB: UnsafeMutablePointer<Float>,     // [out, r] accumulated
                         dX: UnsafeMutablePointer<Float>?,    // [T, in] accumulated, nil when not needed
                         dAx: UnsafeMutablePointer<Float>,    // [T, r] scratch
                         rows T: Int, inDim: Int, outDim: Int, rank: Int) {
    let t = Int32(T), i = Int32(inDim), o = Int32(outDim), r = Int32(rank)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o, r, t, scale, dY, o, ax, r, 1, dB, r)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, r, o, scale, dY, o, b, r, 0, dAx, r)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, i, t, 1, dAx, r, x, i, 1, dA, i)
    if let dX {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, i, r, 1, dAx, r, a, i, 1, dX, i)
    }
}
