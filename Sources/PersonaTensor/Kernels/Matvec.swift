import COpenBLAS

/// One matrix–vector product of a batch that shares its input: `out[N] (+)= W[N, K] · x[K]`.
public struct MatvecJob: @unchecked Sendable {
    public var weight: WeightMatrix
    public var out: UnsafeMutablePointer<Float>
    public var accumulate: Bool

    public init(_ weight: WeightMatrix, into out: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        self.weight = weight; self.out = out; self.accumulate = accumulate
    }
}

/// Per-thread scratch for `matvec`: row tiles for formats without a fused kernel, and the
/// input vector as the fused kernels read it (split into 16-bit planes on x86-64, per-block
/// sums for Q4_1's offset term elsewhere).
public final class MatvecScratch: @unchecked Sendable {
    static let tileRows = 16
    let tiles: [FloatBuffer]  // per part: [tileRows, maxColumns]
    let blockSums: FloatBuffer
    #if arch(x86_64)
    let splitInput: SplitInt16Input
    #endif
    public let threads: Int
    /// Parts each call is split into.
    public let parts: Int

    public init(threads: Int, maxColumns: Int) {
        self.threads = max(1, threads)
        // Two parts per thread: each part's claim crosses cores (decode: 8 parts per thread
        // measured 1.5% slower than 2, 16 parts 6% slower), and two still let an idle thread
        // take over half of a busy one's share.
        parts = self.threads <= 1 ? 1 : self.threads * 2
        tiles = (0..<parts).map { _ in FloatBuffer(count: MatvecScratch.tileRows * maxColumns) }
        blockSums = FloatBuffer(count: maxColumns / 32 + 1)
        #if arch(x86_64)
        splitInput = SplitInt16Input(maxColumns: maxColumns)
        #endif
    }

    var maxColumns: Int { tiles[0].count / MatvecScratch.tileRows }
}

/// `out = W · x` for every job, all jobs sharing `x[K]`, their rows split across threads in
/// one dispatch (fusing q/k/v or gate/up halves the number of thread wake-ups per token).
/// Q8_0 and Q4_1 rows are read directly with SIMD and float32 accumulation; on x86-64 the
/// weights stay integers and meet the input split into two exact 16-bit planes
/// (MatvecSplitInt16.swift), elsewhere they are widened to float lanes. Other block formats
/// dequantize a few rows at a time and use sgemv.
public func matvec(_ jobs: [MatvecJob], x: UnsafePointer<Float>, scratch: MatvecScratch) {
    guard let k = jobs.first?.weight.columns else { return }
    precondition(jobs.allSatisfy { $0.weight.columns == k } && k <= scratch.maxColumns, "matvec shapes")
    let sums = scratch.blockSums.pointer
    let fused = jobs.contains { switch $0.weight.storage { case .q4_1, .q8_0: return true; default: return false } }
    if fused {
        #if arch(x86_64)
        scratch.splitInput.prepare(x, blocks: k / 32)
        #else
        blockSumsOf(x, blocks: k / 32, into: sums)
        #endif
    }
    var starts: [Int] = []
    var total = 0
    for j in jobs { starts.append(total); total += j.weight.rows }
    nonisolated(unsafe) let x = x
    parallelParts(total, threads: scratch.parts, granularity: 8) { part, range in
        for (index, job) in jobs.enumerated() {
            let lo = max(range.lowerBound, starts[index]), hi = min(range.upperBound, starts[index] + job.weight.rows)
            if lo < hi {
                matvecRows(job, rows: (lo - starts[index])..<(hi - starts[index]), x: x, sums: sums,
                           tile: scratch.tiles[part].pointer, scratch: scratch)
            }
        }
    }
}

/// Single-job convenience.
public func matvec(_ weight: WeightMatrix, x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                   accumulate: Bool = false, scratch: MatvecScratch) {
    matvec([MatvecJob(weight, into: out, accumulate: accumulate)], x: x, scratch: scratch)
}

#if !arch(x86_64)
@inline(__always)
func blockSumsOf(_ x: UnsafePointer<Float>, blocks: Int, into sums: UnsafeMutablePointer<Float>) {
    let raw = UnsafeRawPointer(x)
    for b in 0..<blocks {
        let v = raw.loadUnaligned(fromByteOffset: b * 128, as: SIMD16<Float>.self)
            + raw.loadUnaligned(fromByteOffset: b * 128 + 64, as: SIMD16<Float>.self)
        sums[b] = v.sum()
    }
}
#endif

func matvecRows(_ job: MatvecJob, rows: Range<Int>, x: UnsafePointer<Float>, sums: UnsafePointer<Float>,
                tile: UnsafeMutablePointer<Float>, scratch: MatvecScratch) {
    let w = job.weight, k = w.columns, out = job.out
    @inline(__always) func store(_ r: Int, _ v: Float) { out[r] = job.accumulate ? out[r] + v : v }
    switch w.storage {
    case .q8_0(let p):
        let rowBytes = w.rowBytes
        #if arch(x86_64)
        var r = rows.lowerBound
        while r < rows.upperBound {
            // An odd last row is paired with itself.
            let next = min(r + 1, rows.upperBound - 1)
            let (v0, v1) = dotQ8_0Pair(p + r * rowBytes, p + next * rowBytes, scratch.splitInput, blocks: k / 32)
            store(r, v0)
            if next > r { store(next, v1) }
            r += 2
        }
        #else
        for r in rows { store(r, dotQ8_0(p + r * rowBytes, x, blocks: k / 32)) }
        #endif
    case .q4_1(let p):
        let rowBytes = w.rowBytes
        var r = rows.lowerBound
        while r < rows.upperBound {
            let next = min(r + 1, rows.upperBound - 1)
            #if arch(x86_64)
            let (v0, v1) = dotQ4_1Pair(p + r * rowBytes, p + next * rowBytes, scratch.splitInput, blocks: k / 32)
            #else
            let (v0, v1) = dotQ4_1Pair(p + r * rowBytes, p + next * rowBytes, x, sums, blocks: k / 32)
            #endif
            store(r, v0)
            if next > r { store(next, v1) }
            r += 2
        }
    case .f32(let p):
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(rows.count), Int32(k), 1, p + rows.lowerBound * k, Int32(k),
                    x, 1, job.accumulate ? 1 : 0, out + rows.lowerBound, 1)
    case .blocks:
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let r1 = min(rows.upperBound, r0 + MatvecScratch.tileRows)
            w.dequantizeRows(r0..<r1, into: tile)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(r1 - r0), Int32(k), 1, tile, Int32(k),
                        x, 1, job.accumulate ? 1 : 0, out + r0, 1)
            r0 = r1
        }
    }
}

#if !arch(x86_64)
/// Σ_j W[j]·x[j] over one Q8_0 row: per block d · Σ q·x, the integer weights widened to
/// float lanes (the activations stay float32: no Q8 activation rounding).
@inline(__always)
func dotQ8_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
    let xr = UnsafeRawPointer(x)
    var acc = SIMD16<Float>()
    for b in 0..<blocks {
        let block = row + b * QuantizedBlocks.q8_0Bytes
        let d = Float(Float16(bitPattern: block.loadUnaligned(as: UInt16.self)))
        let q = (block + 2).assumingMemoryBound(to: Int8.self)
        let x0 = xr.loadUnaligned(fromByteOffset: b * 128, as: SIMD16<Float>.self)
        let x1 = xr.loadUnaligned(fromByteOffset: b * 128 + 64, as: SIMD16<Float>.self)
        var s = QuantizedBlocks.floats(int8: q) * x0
        s.addProduct(QuantizedBlocks.floats(int8: q + 16), x1)
        acc.addProduct(s, SIMD16<Float>(repeating: d))
    }
    return acc.sum()
}

/// Σ_j W[j]·x[j] over two Q4_1 rows: per block d · Σ q·x + m · Σ x, with Σ x per block
/// computed once per input vector. The input is loaded once for both rows, and the two
/// accumulation chains overlap (about 10% faster per weight than one row, measured).
@inline(__always)
func dotQ4_1Pair(_ row0: UnsafeRawPointer, _ row1: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>,
                 blocks: Int) -> (Float, Float) {
    let xr = UnsafeRawPointer(x)
    var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
    var offset0: Float = 0, offset1: Float = 0
    for b in 0..<blocks {
        let x0 = xr.loadUnaligned(fromByteOffset: b * 128, as: SIMD16<Float>.self)
        let x1 = xr.loadUnaligned(fromByteOffset: b * 128 + 64, as: SIMD16<Float>.self)
        let blockSum = sums[b]
        do {
            let block = row0 + b * QuantizedBlocks.q4_1Bytes
            let d = Float(Float16(bitPattern: block.loadUnaligned(as: UInt16.self)))
            let m = Float(Float16(bitPattern: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
            let (low, high) = QuantizedBlocks.floats(nibbles: (block + 4).assumingMemoryBound(to: UInt8.self))
            var s = low * x0
            s.addProduct(high, x1)
            acc0.addProduct(s, SIMD16<Float>(repeating: d))
            offset0 += m * blockSum
        }
        do {
            let block = row1 + b * QuantizedBlocks.q4_1Bytes
            let d = Float(Float16(bitPattern: block.loadUnaligned(as: UInt16.self)))
            let m = Float(Float16(bitPattern: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
            let (low, high) = QuantizedBlocks.floats(nibbles: (block + 4).assumingMemoryBound(to: UInt8.self))
            var s = low * x0
            s.addProduct(high, x1)
            acc1.addProduct(s, SIMD16<Float>(repeating: d))
            offset1 += m * blockSum
        }
    }
    return (acc0.sum() + offset0, acc1.sum() + offset1)
}

#endif

/// The naive twin of `matvec`: dequantize each row, then a Double dot product.
public func matvecNaive(_ weight: WeightMatrix, x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
    let rowValues = FloatBuffer(count: weight.columns)
    for r in 0..<weight.rows {
        weight.row(r, into: rowValues.pointer)
        var s = 0.0
        for j in 0..<weight.columns { s += Double(rowValues.pointer[j]) * Double(x[j]) }
        out[r] = accumulate ? out[r] + Float(s) : Float(s)
    }
}
