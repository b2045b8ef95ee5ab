/// Products with a frozen (quantized) weight W [out, in] over a batch of T rows, for training.
/// W is dequantized a large tile at a time straight into the packed panels of `packedProduct`
/// (the threads each pack their share of the tile), then each thread multiplies its own share
/// of the T rows. Two phases per tile, so both threads read one packed copy of W.
///
/// `tile` holds `capacity` floats: at least one panel (16 × in) for the forward product and
/// ⌈in / 16⌉ × 16 floats (one row of W, padded) for the backward one; `scratch` holds
/// 16 × in floats per thread.
public struct FrozenProductPlan {
    public var tile: UnsafeMutablePointer<Float>
    public var capacity: Int
    public var scratch: UnsafeMutablePointer<Float>
    public var threads: Int

    public init(tile: UnsafeMutablePointer<Float>, capacity: Int, scratch: UnsafeMutablePointer<Float>, threads: Int) {
        self.tile = tile; self.capacity = capacity; self.scratch = scratch; self.threads = max(1, threads)
    }

    /// Floats of `scratch` needed for matrices up to `columns` wide with `threads` threads.
    public static func scratchFloats(columns: Int, threads: Int) -> Int { max(1, threads) * packedPanelWidth * columns }

    /// The smallest tile that holds one panel of a matrix `columns` wide, either way round.
    public static func minimumCapacity(columns: Int) -> Int {
        packedPanelWidth * ((columns + packedPanelWidth - 1) / packedPanelWidth * packedPanelWidth)
    }
}

/// y[T, out] = x[T, in] · Wᵀ (y overwritten), or y = residual + x · Wᵀ with `residual`
/// ([T, out]), added as the product is stored.
public func frozenLinearForward(_ x: UnsafePointer<Float>, rows T: Int, weight: some FrozenMatrix,
                                into y: UnsafeMutablePointer<Float>, adding residual: UnsafePointer<Float>? = nil,
                                plan: FrozenProductPlan) {
    let outDim = weight.rows, inDim = weight.columns, width = packedPanelWidth
    precondition(plan.capacity >= FrozenProductPlan.minimumCapacity(columns: inDim), "tile smaller than one panel")
    let panelFloats = width * inDim
    let totalPanels = (outDim + width - 1) / width, panelsPerTile = max(1, plan.capacity / panelFloats)
    nonisolated(unsafe) let x = x, y = y, tile = plan.tile, scratch = plan.scratch, residual = residual
    var firstPanel = 0
    while firstPanel < totalPanels {
        let count = min(panelsPerTile, totalPanels - firstPanel), firstColumn = firstPanel * width
        parallelParts(count, threads: plan.threads) { part, panels in
            for p in panels {
                let rows = (firstColumn + p * width)..<min(outDim, firstColumn + (p + 1) * width)
                packTransposedPanel(weight, rows: rows, into: tile + p * panelFloats, scratch: scratch + part * panelFloats)
            }
        }
        let columns = min(count * width, outDim - firstColumn)
        parallelRanges(T, threads: plan.threads, granularity: kernelRows) { rows in
            let offset = rows.lowerBound * outDim + firstColumn
            packedProduct(rows: rows.count, depth: inDim, columns: columns, a: x + rows.lowerBound * inDim, lda: inDim,
                          panels: tile, panelStride: panelFloats, c: y + offset, ldc: outDim,
                          source: residual.map { $0 + offset }, ldSource: outDim)
        }
        firstPanel += count
    }
}

/// Backward of y = x Wᵀ for the input: dX[T, in] += dY[T, out] · W, or dX = dY · W without
/// `accumulate`. W's rows are the product's depth: a tile holds as many of them as fit, in
/// panels across all of `in`, and the tiles after the first accumulate.
public func frozenLinearBackward(dY: UnsafePointer<Float>, rows T: Int, weight: some FrozenMatrix,
                                 dX: UnsafeMutablePointer<Float>, accumulate: Bool = true, plan: FrozenProductPlan) {
    let outDim = weight.rows, inDim = weight.columns, width = packedPanelWidth
    precondition(plan.capacity >= FrozenProductPlan.minimumCapacity(columns: inDim), "tile smaller than one panel")
    let panelCount = (inDim + width - 1) / width
    let depthPerTile = max(1, min(outDim, plan.capacity / (panelCount * width)))
    nonisolated(unsafe) let dY = dY, dX = dX, tile = plan.tile, scratch = plan.scratch
    var first = 0
    while first < outDim {
        let depth = min(depthPerTile, outDim - first), panelStride = depth * width
        parallelParts(depth, threads: plan.threads) { part, rows in
            packRowsIntoPanels(weight, rows: (first + rows.lowerBound)..<(first + rows.upperBound), firstDepth: rows.lowerBound,
                               panels: tile, panelStride: panelStride, scratch: scratch + part * width * inDim)
        }
        let accumulating = accumulate || first > 0
        parallelRanges(T, threads: plan.threads, granularity: kernelRows) { rows in
            let c = dX + rows.lowerBound * inDim
            packedProduct(rows: rows.count, depth: depth, columns: inDim, a: dY + rows.lowerBound * outDim + first, lda: outDim,
                          panels: tile, panelStride: panelStride, c: c, ldc: inDim,
                          source: accumulating ? UnsafePointer(c) : nil, ldSource: inDim)
        }
        first += depth
    }
}
