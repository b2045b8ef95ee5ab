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
/// `dAx` is scratch [T, r]. Gradients accumulate. With several threads, products over the
/// T rows split by rows, and the two reductions over T (dB, dA) split by their outputs, so
/// no two threads write the same gradient (BLAS single-threaded inside).
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
                         rows T: Int, inDim: Int, outDim: Int, rank: Int, threads: Int = 1) {
    loraBackwardOutput(ax: ax, axStride: rank, dY: dY, b: b, scale: scale, dB: dB, dAx: dAx, dAxStride: rank,
                       rows: T, outDim: outDim, rank: rank, threads: threads)
    loraBackwardInput(x: x, dAx: dAx, dAxStride: rank, a: a, dA: dA, dX: dX, rows: T, inDim: inDim, rank: rank, threads: threads)
}

/// The output half of `loraBackward`, for one projection:
///   dB += s · dYᵀ ax      d(ax) = s · dY B (overwritten)
/// `ax` and `dAx` are [T, r] column blocks of wider matrices, rows `axStride` and `dAxStride`
/// apart, so that projections sharing an input keep their d(ax) side by side for one
/// `loraBackwardInput` over all of them.
public func loraBackwardOutput(ax: UnsafePointer<Float>, axStride: Int,   // [T, r]
                               dY: UnsafePointer<Float>,                  // [T, out]
                               b: UnsafePointer<Float>,                   // [out, r]
                               scale: Float,
                               dB: UnsafeMutablePointer<Float>,           // [out, r] accumulated
                               dAx: UnsafeMutablePointer<Float>, dAxStride: Int, // [T, r] overwritten
                               rows T: Int, outDim: Int, rank: Int, threads: Int = 1) {
    let t = Int32(T), o = Int32(outDim), r = Int32(rank), axLd = Int32(axStride), dAxLd = Int32(dAxStride)
    if threads <= 1 {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o, r, t, scale, dY, o, ax, axLd, 1, dB, r)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, r, o, scale, dY, o, b, r, 0, dAx, dAxLd)
        return
    }
    nonisolated(unsafe) let ax = ax, dY = dY, b = b, dB = dB, dAx = dAx
    // dB[o0..<o1, :] += s · dY[:, o0..<o1]ᵀ ax, and d(ax)[t0..<t1] = s · dY[t0..<t1] B.
    splitColumnsAndRows(columns: outDim, rows: T, threads: threads, columnShare: { cols in
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(cols.count), r, t, scale,
                    dY + cols.lowerBound, o, ax, axLd, 1, dB + cols.lowerBound * rank, r)
    }, rowShare: { rows in
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows.count), r, o, scale,
                    dY + rows.lowerBound * outDim, o, b, r, 0, dAx + rows.lowerBound * dAxStride, dAxLd)
    })
}

/// Runs `columnShare` on `threads` shares of `columns` and `rowShare` on `threads` shares of
/// `rows`, all in one dispatch with single-threaded BLAS: the two halves of a LoRA backward
/// write disjoint outputs (a weight gradient split by columns, an input gradient by rows).
/// Empty shares are skipped.
private func splitColumnsAndRows(columns: Int, rows: Int, threads: Int,
                                 columnShare: @escaping (Range<Int>) -> Void, rowShare: @escaping (Range<Int>) -> Void) {
    BLASThreads.set(1)
    nonisolated(unsafe) let columnShare = columnShare, rowShare = rowShare
    parallelParts(2 * threads, threads: 2 * threads) { part, _ in
        let share = part % threads, count = part < threads ? columns : rows
        let range = (count * share / threads)..<(count * (share + 1) / threads)
        guard !range.isEmpty else { return }
        if part < threads { columnShare(range) } else { rowShare(range) }
    }
}

/// The input half of `loraBackward`, for one or several projections that read the same x
/// (their A stacked into `a` [R, in] and their d(ax) side by side in `dAx` [T, R]):
///   dA += d(ax)ᵀ x      dX += d(ax) A
/// One product over the stacked rank R reads x and updates dX once for all of them.
public func loraBackwardInput(x: UnsafePointer<Float>,                    // [T, in]
                              dAx: UnsafePointer<Float>, dAxStride: Int,  // [T, R]
                              a: UnsafePointer<Float>,                    // [R, in]
                              dA: UnsafeMutablePointer<Float>,            // [R, in] accumulated
                              dX: UnsafeMutablePointer<Float>?,           // [T, in] accumulated, nil when not needed
                              rows T: Int, inDim: Int, rank: Int, threads: Int = 1) {
    let t = Int32(T), i = Int32(inDim), r = Int32(rank), dAxLd = Int32(dAxStride)
    if threads <= 1 {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, i, t, 1, dAx, dAxLd, x, i, 1, dA, i)
        if let dX {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, i, r, 1, dAx, dAxLd, a, i, 1, dX, i)
        }
        return
    }
    nonisolated(unsafe) let x = x, dAx = dAx, a = a, dA = dA, dX = dX
    // dA[:, i0..<i1] += d(ax)ᵀ x[:, i0..<i1], and dX[t0..<t1] += d(ax)[t0..<t1] A.
    splitColumnsAndRows(columns: inDim, rows: dX == nil ? 0 : T, threads: threads, columnShare: { cols in
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, Int32(cols.count), t, 1,
                    dAx, dAxLd, x + cols.lowerBound, i, 1, dA + cols.lowerBound, i)
    }, rowShare: { rows in
        guard let dX else { return }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows.count), i, r, 1,
                    dAx + rows.lowerBound * dAxStride, dAxLd, a, i, 1, dX + rows.lowerBound * inDim, i)
    })
}
