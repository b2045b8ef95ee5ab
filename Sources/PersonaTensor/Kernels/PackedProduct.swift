#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// A matrix product C (+)= A · B for training's large products (frozen weights, the output
/// head, grouped attention), where B is built ("packed") by the caller into the layout the
/// kernel reads: from quantized weights, embedding rows, keys and values, or stacked rows.
///
/// Why not sgemm: sgemm copies both operands into its own packed layout on every call, so a
/// quantized weight went through three passes (dequantize, BLAS's copy, the product) and the
/// activations through BLAS's copy once per call; with beta = 0 BLAS also zeroes C first.
/// Those copies and the zeroing were 8.5% of a training step (perf). Here the weights are
/// dequantized straight into the packed layout, A is read where it lies, and C is written
/// once. Measured on the 2-core AMD EPYC (AVX2, FMA peak 102.8 GFLOP/s per core): the kernel
/// runs at 95–98 GFLOP/s at the training shapes (800 × 576…1,536 × 576…1,536), where
/// OpenBLAS's whole sgemm did 89–91.
///
/// Packed B: panel p holds columns 16p ..< 16p + 16 of B[K, N] as [K][16] (zeros beyond N),
/// so the kernel reads each step's sixteen B values with two contiguous loads.

/// Columns per packed panel (two 8-lane vectors).
public let packedPanelWidth = 16

/// Rows of C per kernel call: 6 × 2 vector accumulators = 12 of the 16 registers, the other
/// four hold B's two vectors and the broadcast of A.
let kernelRows = 6

/// A's rows per block: 48 rows × K ≤ 1,536 floats stay in L2 while every panel passes over them.
let productRowBlock = 48

/// C[rows, 16] tile (+)= A[rows, depth] · panel, for rows ≤ 6 and `columns` ≤ 16 valid columns.
/// C = sum + source, where source is nil (overwrite), C itself (accumulate) or another matrix
/// (a residual): one pass over C either way.
@inline(__always)
private func productKernel<Walk: LeftOperandWalk>(_ walk: Walk.Type, depth: Int, a: UnsafePointer<Float>, lda: Int, panel: UnsafePointer<Float>,
                           c: UnsafeMutablePointer<Float>, ldc: Int, source: UnsafePointer<Float>?, ldSource: Int,
                           rows: Int, columns: Int) {
    typealias V = SIMD8<Float>
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    let rowStep = Walk.downColumns ? 1 : lda, depthStep = Walk.downColumns ? lda : 1
    // Rows past `rows` read row 0 again (valid memory) and are never stored.
    let a0 = a, a1 = rows > 1 ? a + rowStep : a, a2 = rows > 2 ? a + 2 * rowStep : a
    let a3 = rows > 3 ? a + 3 * rowStep : a, a4 = rows > 4 ? a + 4 * rowStep : a, a5 = rows > 5 ? a + 5 * rowStep : a
    let b = UnsafeRawPointer(panel)
    for k in 0..<depth {
        let b0 = b.loadUnaligned(fromByteOffset: k * 64, as: V.self)
        let b1 = b.loadUnaligned(fromByteOffset: k * 64 + 32, as: V.self)
        var x = V(repeating: a0[k * depthStep])
        c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
        x = V(repeating: a1[k * depthStep])
        c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
        x = V(repeating: a2[k * depthStep])
        c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
        x = V(repeating: a3[k * depthStep])
        c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
        x = V(repeating: a4[k * depthStep])
        c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
        x = V(repeating: a5[k * depthStep])
        c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
    }
    storeProductRow(c00, c01, into: c, source: source, columns: columns)
    guard rows > 1 else { return }
    storeProductRow(c10, c11, into: c + ldc, source: source.map { $0 + ldSource }, columns: columns)
    guard rows > 2 else { return }
    storeProductRow(c20, c21, into: c + 2 * ldc, source: source.map { $0 + 2 * ldSource }, columns: columns)
    guard rows > 3 else { return }
    storeProductRow(c30, c31, into: c + 3 * ldc, source: source.map { $0 + 3 * ldSource }, columns: columns)
    guard rows > 4 else { return }
    storeProductRow(c40, c41, into: c + 4 * ldc, source: source.map { $0 + 4 * ldSource }, columns: columns)
    guard rows > 5 else { return }
    storeProductRow(c50, c51, into: c + 5 * ldc, source: source.map { $0 + 5 * ldSource }, columns: columns)
}

@inline(__always)
private func storeProductRow(_ low: SIMD8<Float>, _ high: SIMD8<Float>, into c: UnsafeMutablePointer<Float>,
                             source: UnsafePointer<Float>?, columns: Int) {
    if columns == 16 {
        var low = low, high = high
        if let source {
            low += UnsafeRawPointer(source).loadUnaligned(as: SIMD8<Float>.self)
            high += UnsafeRawPointer(source + 8).loadUnaligned(as: SIMD8<Float>.self)
        }
        UnsafeMutableRawPointer(c).storeBytes(of: low, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(c + 8).storeBytes(of: high, as: SIMD8<Float>.self)
        return
    }
    for j in 0..<columns {
        let v = j < 8 ? low[j] : high[j - 8]
        c[j] = source.map { v + $0[j] } ?? v
    }
}

/// C[rows, columns] = A[rows, depth] · B (+ source), B given as packed panels
/// (`panelStride` floats apart, ⌈columns / 16⌉ of them). `source` may be C itself (accumulate),
/// another matrix ([rows, columns] at `ldSource`), or nil (overwrite). With `transposedA`,
/// `a` holds Aᵀ ([depth, rows] at `lda`: the six rows of a kernel call are six neighbours).
/// One thread.
public func packedProduct(rows: Int, depth: Int, columns: Int,
                          a: UnsafePointer<Float>, lda: Int, transposedA: Bool = false,
                          panels: UnsafePointer<Float>, panelStride: Int,
                          c: UnsafeMutablePointer<Float>, ldc: Int,
                          source: UnsafePointer<Float>?, ldSource: Int) {
    guard rows > 0, columns > 0 else { return }
    guard depth > 0 else {
        // An empty product: C = source, or zero.
        for i in 0..<rows {
            for j in 0..<columns { c[i * ldc + j] = source.map { $0[i * ldSource + j] } ?? 0 }
        }
        return
    }
    if transposedA {
        productBlocks(ColumnWalk.self, rows: rows, depth: depth, columns: columns, a: a, lda: lda, panels: panels,
                      panelStride: panelStride, c: c, ldc: ldc, source: source, ldSource: ldSource)
    } else {
        productBlocks(RowWalk.self, rows: rows, depth: depth, columns: columns, a: a, lda: lda, panels: panels,
                      panelStride: panelStride, c: c, ldc: ldc, source: source, ldSource: ldSource)
    }
}

/// How the kernel reads A: along its rows (A row-major), or down its columns (Aᵀ row-major).
/// A type rather than a flag, so that each way is its own copy of the loops with the kernel
/// inlined once (with a flag the compiler outlined the kernel and the usual way lost its
/// unit step along the depth).
private protocol LeftOperandWalk { static var downColumns: Bool { get } }
private enum RowWalk: LeftOperandWalk { static var downColumns: Bool { false } }
private enum ColumnWalk: LeftOperandWalk { static var downColumns: Bool { true } }

@inline(never)
private func productBlocks<Walk: LeftOperandWalk>(_ walk: Walk.Type, rows: Int, depth: Int, columns: Int,
                                                  a: UnsafePointer<Float>, lda: Int, panels: UnsafePointer<Float>, panelStride: Int,
                                                  c: UnsafeMutablePointer<Float>, ldc: Int, source: UnsafePointer<Float>?, ldSource: Int) {
    let panelCount = (columns + packedPanelWidth - 1) / packedPanelWidth
    var blockStart = 0
    while blockStart < rows {
        let blockEnd = min(rows, blockStart + productRowBlock)
        for p in 0..<panelCount {
            let column = p * packedPanelWidth, width = min(packedPanelWidth, columns - column)
            let panel = panels + p * panelStride
            var i = blockStart
            while i < blockEnd {
                let count = min(kernelRows, blockEnd - i)
                productKernel(walk, depth: depth, a: a + (Walk.downColumns ? i : i * lda), lda: lda, panel: panel,
                              c: c + i * ldc + column, ldc: ldc,
                              source: source.map { $0 + i * ldSource + column }, ldSource: ldSource,
                              rows: count, columns: width)
                i += count
            }
        }
        blockStart = blockEnd
    }
}

/// Packs rows `rows` of W as one panel of B = Wᵀ (depth = W.columns):
/// panel[k][j] = W[rows.lowerBound + j, k], zeros for j ≥ rows.count.
/// `scratch` holds 16 × W.columns floats.
public func packTransposedPanel(_ weight: some FrozenMatrix, rows: Range<Int>, into panel: UnsafeMutablePointer<Float>,
                                scratch: UnsafeMutablePointer<Float>) {
    weight.dequantizeRows(rows, into: scratch)
    transposeIntoPanel(scratch, rows: rows.count, depth: weight.columns, into: panel)
}

/// panel[k][j] = source[j, k] for a row-major source [rows ≤ 16, depth] (rows `sourceStride`
/// floats apart, `depth` by default), zeros for j ≥ rows.
public func transposeIntoPanel(_ source: UnsafePointer<Float>, rows: Int, depth: Int, sourceStride: Int? = nil,
                               into panel: UnsafeMutablePointer<Float>) {
    let width = packedPanelWidth, stride = sourceStride ?? depth
    for half in 0..<2 {
        let base = half * 8
        let out = UnsafeMutableRawPointer(panel + base)
        guard rows > base else {
            for k in 0..<depth { out.storeBytes(of: SIMD8<Float>(), toByteOffset: k * width * 4, as: SIMD8<Float>.self) }
            continue
        }
        let valid = min(8, rows - base)
        var k = 0
        #if arch(x86_64)
        if valid == 8 {
            // Eight by eight blocks in registers: 24 shuffles per 64 values instead of 64 inserts.
            while k + 8 <= depth {
                transpose8x8(source + base * stride + k, rowStride: stride, into: out + k * width * 4, outStride: width)
                k += 8
            }
        }
        #endif
        // What is left (and rows past `rows`, read as zero): eight read streams, 32-byte writes.
        func row(_ j: Int) -> UnsafePointer<Float> { source + (j < valid ? base + j : base) * stride }
        let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5), r6 = row(6), r7 = row(7)
        let missing = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) .>= Int32(valid)
        while k < depth {
            var v = SIMD8<Float>(r0[k], r1[k], r2[k], r3[k], r4[k], r5[k], r6[k], r7[k])
            if valid < 8 { v.replace(with: 0, where: missing) }
            out.storeBytes(of: v, toByteOffset: k * width * 4, as: SIMD8<Float>.self)
            k += 1
        }
    }
}

#if arch(x86_64)
/// out[k][j] = rows[j][k] for an 8 × 8 block (rows `rowStride` floats apart, output rows
/// `outStride` floats apart): unpack pairs of rows, then pairs of pairs, then swap 128-bit halves.
@inline(__always)
private func transpose8x8(_ rows: UnsafePointer<Float>, rowStride: Int, into out: UnsafeMutableRawPointer, outStride: Int) {
    typealias V = SIMD8<Float>
    func pairsLow(_ a: V, _ b: V) -> V { _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(a), _mm256_castps_pd(b))) }
    func pairsHigh(_ a: V, _ b: V) -> V { _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(a), _mm256_castps_pd(b))) }
    let x0 = _mm256_loadu_ps(rows), x1 = _mm256_loadu_ps(rows + rowStride)
    let x2 = _mm256_loadu_ps(rows + 2 * rowStride), x3 = _mm256_loadu_ps(rows + 3 * rowStride)
    let x4 = _mm256_loadu_ps(rows + 4 * rowStride), x5 = _mm256_loadu_ps(rows + 5 * rowStride)
    let x6 = _mm256_loadu_ps(rows + 6 * rowStride), x7 = _mm256_loadu_ps(rows + 7 * rowStride)
    let t0 = _mm256_unpacklo_ps(x0, x1), t1 = _mm256_unpackhi_ps(x0, x1), t2 = _mm256_unpacklo_ps(x2, x3), t3 = _mm256_unpackhi_ps(x2, x3)
    let t4 = _mm256_unpacklo_ps(x4, x5), t5 = _mm256_unpackhi_ps(x4, x5), t6 = _mm256_unpacklo_ps(x6, x7), t7 = _mm256_unpackhi_ps(x6, x7)
    let u0 = pairsLow(t0, t2), u1 = pairsHigh(t0, t2), u2 = pairsLow(t1, t3), u3 = pairsHigh(t1, t3)
    let u4 = pairsLow(t4, t6), u5 = pairsHigh(t4, t6), u6 = pairsLow(t5, t7), u7 = pairsHigh(t5, t7)
    let step = outStride * 4
    out.storeBytes(of: V(lowHalf: u0.lowHalf, highHalf: u4.lowHalf), as: V.self)
    out.storeBytes(of: V(lowHalf: u1.lowHalf, highHalf: u5.lowHalf), toByteOffset: step, as: V.self)
    out.storeBytes(of: V(lowHalf: u2.lowHalf, highHalf: u6.lowHalf), toByteOffset: 2 * step, as: V.self)
    out.storeBytes(of: V(lowHalf: u3.lowHalf, highHalf: u7.lowHalf), toByteOffset: 3 * step, as: V.self)
    out.storeBytes(of: V(lowHalf: u0.highHalf, highHalf: u4.highHalf), toByteOffset: 4 * step, as: V.self)
    out.storeBytes(of: V(lowHalf: u1.highHalf, highHalf: u5.highHalf), toByteOffset: 5 * step, as: V.self)
    out.storeBytes(of: V(lowHalf: u2.highHalf, highHalf: u6.highHalf), toByteOffset: 6 * step, as: V.self)
    out.storeBytes(of: V(lowHalf: u3.highHalf, highHalf: u7.highHalf), toByteOffset: 7 * step, as: V.self)
}
#endif

/// Packs rows `depthRows` of W as B (B = W: depth runs over W's rows, columns over W.columns)
/// into ⌈W.columns / 16⌉ panels `panelStride` floats apart, at depth offset `firstDepth`
/// within each panel: panel_p[firstDepth + k][j] = W[depthRows.lowerBound + k, 16p + j].
/// Sixteen rows at a time go through `scratch` (16 × W.columns floats), so that each panel
/// receives one contiguous run per group instead of one 64-byte piece per row.
public func packRowsIntoPanels(_ weight: some FrozenMatrix, rows depthRows: Range<Int>, firstDepth: Int,
                               panels: UnsafeMutablePointer<Float>, panelStride: Int, scratch: UnsafeMutablePointer<Float>) {
    var row = depthRows.lowerBound
    while row < depthRows.upperBound {
        let count = min(packedPanelWidth, depthRows.upperBound - row)
        weight.dequantizeRows(row..<(row + count), into: scratch)
        copyRowsIntoPanels(scratch, rows: count, columns: weight.columns, firstDepth: firstDepth + row - depthRows.lowerBound,
                           panels: panels, panelStride: panelStride)
        row += count
    }
}

/// panel_p[firstDepth + k][j] = source[k, 16p + j] for a row-major source [rows, columns]
/// (rows `sourceStride` floats apart, `columns` by default), zeros past `columns` in the last panel.
public func copyRowsIntoPanels(_ source: UnsafePointer<Float>, rows: Int, columns: Int, sourceStride: Int? = nil, firstDepth: Int,
                               panels: UnsafeMutablePointer<Float>, panelStride: Int) {
    typealias V = SIMD8<Float>
    let width = packedPanelWidth, full = columns / width, rest = columns % width, stride = sourceStride ?? columns
    for p in 0..<full {
        let panel = UnsafeMutableRawPointer(panels + p * panelStride + firstDepth * width)
        let column = UnsafeRawPointer(source + p * width)
        for k in 0..<rows {
            let from = k * stride * 4, to = k * width * 4
            panel.storeBytes(of: column.loadUnaligned(fromByteOffset: from, as: V.self), toByteOffset: to, as: V.self)
            panel.storeBytes(of: column.loadUnaligned(fromByteOffset: from + 32, as: V.self), toByteOffset: to + 32, as: V.self)
        }
    }
    if rest > 0 {
        let panel = panels + full * panelStride + firstDepth * width
        for k in 0..<rows {
            (panel + k * width).update(from: source + k * stride + full * width, count: rest)
            (panel + k * width + rest).update(repeating: 0, count: width - rest)
        }
    }
}
