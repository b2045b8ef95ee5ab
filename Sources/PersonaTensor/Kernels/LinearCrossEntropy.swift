import Foundation

/// Per-thread tiles for `linearCrossEntropyForward`.
public final class LinearCrossEntropyScratch: @unchecked Sendable {
    /// Vocabulary rows per tile.
    public let tileRows: Int
    let weightTiles: [FloatBuffer]   // per thread: [tileRows, columns]
    let logitTiles: [FloatBuffer]    // per thread: [rows, tileRows]
    let runningMax: [FloatBuffer]    // per thread: [rows]
    let runningSum: [FloatBuffer]    // per thread: [rows] Σ exp(logit − runningMax)
    public let rows: Int

    public init(threads: Int, rows: Int, columns: Int, tileRows: Int = 256) {
        self.tileRows = tileRows
        self.rows = rows
        let n = workParts(threads: max(1, threads))
        weightTiles = (0..<n).map { _ in FloatBuffer(count: tileRows * columns) }
        logitTiles = (0..<n).map { _ in FloatBuffer(count: tileRows * rows) }
        runningMax = (0..<n).map { _ in FloatBuffer(count: rows) }
        runningSum = (0..<n).map { _ in FloatBuffer(count: rows) }
    }

    public var threads: Int { weightTiles.count }
}

/// `nll[r] = logsumexp(x[r] · Wᵀ) − (x[r] · Wᵀ)[targets[r]]` for x: [rows, D], W: [vocab, D]
/// (the output head), without materialising the [rows, vocab] logits: each thread walks
/// its share of the vocabulary a tile at a time (dequantize once, one sgemm for all rows)
/// and keeps a running max and sum of exponentials per row (the online softmax), which are
/// merged at the end. Rows with a target < 0 get nll 0.
public func linearCrossEntropyForward(_ x: UnsafePointer<Float>, rows: Int, weight w: WeightMatrix,
                                      targets: UnsafePointer<Int32>, into nll: UnsafeMutablePointer<Float>,
                                      scratch: LinearCrossEntropyScratch) {
    precondition(rows <= scratch.rows && w.columns * scratch.tileRows <= scratch.weightTiles[0].count, "scratch too small")
    let vocab = w.rows, d = w.columns, tileRows = scratch.tileRows
    let tiles = (vocab + tileRows - 1) / tileRows
    for r in 0..<rows { nll[r] = 0 }
    for part in 0..<scratch.threads {
        scratch.runningMax[part].pointer.update(repeating: -.infinity, count: rows)
        scratch.runningSum[part].pointer.update(repeating: 0, count: rows)
    }
    nonisolated(unsafe) let x = x, nll = nll, targets = targets
    parallelParts(tiles, threads: scratch.threads) { part, tileRange in
        let wTile = scratch.weightTiles[part].pointer
        let logits = scratch.logitTiles[part].pointer  // [rows, n]
        let runningMax = scratch.runningMax[part].pointer, runningSum = scratch.runningSum[part].pointer
        for t in tileRange {
            let v0 = t * tileRows, v1 = min(vocab, v0 + tileRows), n = v1 - v0
            let b: UnsafePointer<Float>
            if case .f32(let p) = w.storage { b = p + v0 * d } else { w.dequantizeRows(v0..<v1, into: wTile); b = UnsafePointer(wTile) }
            sgemm(transposeB: true, m: rows, n: n, k: d, a: x, lda: d, b: b, ldb: d, c: logits, ldc: n)
            for r in 0..<rows {
                let row = logits + r * n
                let target = Int(targets[r])
                // Each target falls in exactly one tile, so exactly one thread writes it.
                if target >= v0 && target < v1 { nll[r] = -row[target - v0] }
                var m = runningMax[r]
                for j in 0..<n { m = max(m, row[j]) }
                var s: Float = 0
                for j in 0..<n { s += expf(row[j] - m) }
                runningSum[r] = runningSum[r] * expf(runningMax[r] - m) + s
                runningMax[r] = m
            }
        }
    }
    for r in 0..<rows where targets[r] >= 0 && Int(targets[r]) < vocab {
        var m = -Float.infinity
        for part in 0..<scratch.threads { m = max(m, scratch.runningMax[part].pointer[r]) }
        var s = 0.0
        for part in 0..<scratch.threads where scratch.runningMax[part].pointer[r] > -.infinity {
            s += Double(scratch.runningSum[part].pointer[r]) * exp(Double(scratch.runningMax[part].pointer[r] - m))
        }
        nll[r] += m + Float(log(s))
    }
    for r in 0..<rows where !(targets[r] >= 0 && Int(targets[r]) < vocab) { nll[r] = 0 }
}

/// The naive twin of `linearCrossEntropyForward`: full logits, then `crossEntropyForwardNaive`.
public func linearCrossEntropyForwardNaive(_ x: UnsafePointer<Float>, rows: Int, weight w: WeightMatrix,
                                           targets: UnsafePointer<Int32>, into nll: UnsafeMutablePointer<Float>) {
    let logits = FloatBuffer(count: rows * w.rows)
    matmulNaive(x, rows: rows, weight: w, into: logits.pointer)
    crossEntropyForwardNaive(logits.pointer, rows: rows, vocab: w.rows, targets: targets, into: nll)
}
