import COpenBLAS

/// Row-major `C[M,N] = alpha · op(A) · op(B) + beta · C` through `cblas_sgemm`, with op(A)
/// [M,K] and op(B) [K,N]. `transposeA` means A is stored [K,M]; `transposeB` means B is
/// stored [N,K] (the layout of a weight matrix, out × in). Leading dimensions are the
/// stored row lengths.
@inlinable
public func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
        return
    }
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// The naive twin of `sgemm`: the same contract in plain loops (Double accumulation).
public func sgemmNaive(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                       alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                       beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = transposeA ? a[p * lda + i] : a[i * lda + p]
                let bv = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                s += Double(av) * Double(bv)
            }
            let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
            c[i * ldc + j] = Float(Double(alpha) * s + old)
        }
    }
}

/// Reusable per-thread tiles for `matmul` on quantized weights.
public final class MatmulScratch: @unchecked Sendable {
    /// Rows of a weight matrix dequantized at a time: a [tileRows, columns] float tile
    /// stays within L2 for the widest matrix of a small model (64 × 1536 × 4 B = 384 KiB).
    public let tileRows: Int
    let tiles: [FloatBuffer]  // per part: [tileRows, maxColumns]
    public let threads: Int

    public init(threads: Int, maxColumns: Int, tileRows: Int = 64) {
        self.tileRows = tileRows
        self.threads = max(1, threads)
        tiles = (0..<workParts(threads: self.threads)).map { _ in FloatBuffer(count: tileRows * maxColumns) }
    }

    /// Parts each call is split into (see `workParts`).
    public var parts: Int { tiles.count }
    public var maxColumns: Int { tiles[0].count / tileRows }
}

/// `out[M, N] (+)= x[M, K] · Wᵀ` for a weight W [N, K] (out × in) in any storage format.
/// Float32 weights go straight to sgemm; quantized weights are dequantized a tile of rows
/// at a time into per-thread scratch, each thread taking its own range of output columns,
/// so activations stay float32 throughout. `ldOut` is the row stride of `out`.
public func matmul(_ x: UnsafePointer<Float>, rows m: Int, weight w: WeightMatrix,
                   into out: UnsafeMutablePointer<Float>, ldOut: Int? = nil, accumulate: Bool = false,
                   scratch: MatmulScratch) {
    let k = w.columns, n = w.rows, ldc = ldOut ?? n
    let beta: Float = accumulate ? 1 : 0
    nonisolated(unsafe) let x = x, out = out
    if case .f32(let p) = w.storage {
        nonisolated(unsafe) let p = p
        parallelRanges(n, threads: scratch.parts, granularity: 16) { cols in
            sgemm(transposeB: true, m: m, n: cols.count, k: k, a: x, lda: k, b: p + cols.lowerBound * k, ldb: k,
                  beta: beta, c: out + cols.lowerBound, ldc: ldc)
        }
        return
    }
    precondition(k <= scratch.maxColumns, "matmul scratch too small for \(w.name)")
    let tileRows = scratch.tileRows
    let tiles = (n + tileRows - 1) / tileRows
    parallelParts(tiles, threads: scratch.parts) { part, tileRange in
        let tile = scratch.tiles[part].pointer
        for t in tileRange {
            let r0 = t * tileRows, r1 = min(n, r0 + tileRows)
            w.dequantizeRows(r0..<r1, into: tile)
            sgemm(transposeB: true, m: m, n: r1 - r0, k: k, a: x, lda: k, b: tile, ldb: k,
                  beta: beta, c: out + r0, ldc: ldc)
        }
    }
}

/// The naive twin of `matmul`: dequantize the whole matrix, then plain loops.
public func matmulNaive(_ x: UnsafePointer<Float>, rows m: Int, weight w: WeightMatrix,
                        into out: UnsafeMutablePointer<Float>, ldOut: Int? = nil, accumulate: Bool = false) {
    let dense = FloatBuffer(count: w.rows * w.columns)
    w.dequantizeRows(0..<w.rows, into: dense.pointer)
    sgemmNaive(transposeB: true, m: m, n: w.rows, k: w.columns, a: x, lda: w.columns, b: dense.pointer, ldb: w.columns,
               beta: accumulate ? 1 : 0, c: out, ldc: ldOut ?? w.rows)
}
