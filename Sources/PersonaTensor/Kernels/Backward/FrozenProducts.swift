import COpenBLAS

/// Products with a frozen (quantized) weight W [out, in] over a batch of T rows, for training:
/// W is dequantized a large tile at a time (the threads each dequantize their share of the
/// tile's rows), then each thread multiplies its own share of the T rows with single-threaded
/// BLAS. Measured here at 800 × 1,536 × 576: one thread's sgemm runs at 92 GFLOP/s, BLAS's own
/// two threads at 164 on one large call and less on the ~455-row tiles this replaced; two
/// independent single-threaded calls reach about 180.
///
/// `tile` holds `tileRows` rows of W as float32 ([tileRows, in]).
public struct FrozenProductPlan {
    public var tile: UnsafeMutablePointer<Float>
    public var tileRows: Int
    public var threads: Int

    public init(tile: UnsafeMutablePointer<Float>, tileRows: Int, threads: Int) {
        self.tile = tile; self.tileRows = max(1, tileRows); self.threads = max(1, threads)
    }

    /// Rows per tile for a tile buffer of `floats` floats and matrices `columns` wide.
    public static func tileRows(floats: Int, columns: Int) -> Int { max(16, floats / max(1, columns)) }
}

/// y[T, out] = x[T, in] · Wᵀ (y overwritten), or y = residual + x · Wᵀ with `residual`
/// ([T, out]): each thread copies its rows of the residual and BLAS accumulates onto them
/// (beta = 1), which spares BLAS's zeroing pass and a separate addition over y.
public func frozenLinearForward(_ x: UnsafePointer<Float>, rows T: Int, weight: some FrozenMatrix,
                                into y: UnsafeMutablePointer<Float>, adding residual: UnsafePointer<Float>? = nil,
                                plan: FrozenProductPlan) {
    let outDim = weight.rows, inDim = weight.columns
    nonisolated(unsafe) let x = x, y = y, tile = plan.tile, residual = residual
    forEachTile(of: weight, plan: plan) { first, c in
        parallelRanges(T, threads: plan.threads) { rows in
            if let residual, first == 0 {
                (y + rows.lowerBound * outDim).update(from: residual + rows.lowerBound * outDim, count: rows.count * outDim)
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows.count), Int32(c), Int32(inDim),
                        1, x + rows.lowerBound * inDim, Int32(inDim), tile, Int32(inDim),
                        residual == nil ? 0 : 1, y + rows.lowerBound * outDim + first, Int32(outDim))
        }
    }
}

/// Backward of y = x Wᵀ for the input: dX[T, in] += dY[T, out] · W, or dX = dY · W without
/// `accumulate` (BLAS's beta = 0 then zeroes dX on each thread's rows, instead of the caller
/// zeroing it on one thread).
public func frozenLinearBackward(dY: UnsafePointer<Float>, rows T: Int, weight: some FrozenMatrix,
                                 dX: UnsafeMutablePointer<Float>, accumulate: Bool = true, plan: FrozenProductPlan) {
    let outDim = weight.rows, inDim = weight.columns
    nonisolated(unsafe) let dY = dY, dX = dX, tile = plan.tile
    forEachTile(of: weight, plan: plan) { first, c in
        parallelRanges(T, threads: plan.threads) { rows in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows.count), Int32(inDim), Int32(c),
                        1, dY + rows.lowerBound * outDim + first, Int32(outDim), tile, Int32(inDim),
                        accumulate || first > 0 ? 1 : 0, dX + rows.lowerBound * inDim, Int32(inDim))
        }
    }
}

/// Dequantizes W into `plan.tile` one tile of rows at a time and calls `body(firstRow, rows)`
/// for each. BLAS is set to one thread and stays so: its own threads, spinning between calls,
/// would fight the compute pool's for the same cores (measured: a sixth of a training step in
/// the scheduler).
private func forEachTile(of weight: some FrozenMatrix, plan: FrozenProductPlan, _ body: (Int, Int) -> Void) {
    if plan.threads > 1 { BLASThreads.set(1) }
    var start = 0
    while start < weight.rows {
        let count = min(plan.tileRows, weight.rows - start)
        dequantizeTile(weight, rows: start..<(start + count), into: plan.tile, threads: plan.threads)
        body(start, count)
        start += count
    }
}

/// Rows `rows` of W as float32 into `tile`, the rows shared out between the threads.
func dequantizeTile(_ weight: some FrozenMatrix, rows: Range<Int>, into tile: UnsafeMutablePointer<Float>, threads: Int) {
    let columns = weight.columns
    nonisolated(unsafe) let tile = tile
    parallelRanges(rows.count, threads: threads, granularity: 16) { part in
        weight.dequantizeRows((rows.lowerBound + part.lowerBound)..<(rows.lowerBound + part.upperBound),
                              into: tile + part.lowerBound * columns)
    }
}
