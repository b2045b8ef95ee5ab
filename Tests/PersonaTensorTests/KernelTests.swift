import XCTest
import PersonaCore
import PersonaTensor
import PersonaTestSupport

/// Every optimised kernel against its naive twin on odd shapes (1, 3, 17, 64).
final class KernelTests: XCTestCase {
    var rng = SeededGenerator(seed: 7)

    func randomBuffer(_ n: Int, scale: Float = 1) -> FloatBuffer {
        let b = FloatBuffer(count: n)
        for i in 0..<n { b.pointer[i] = Float(rng.nextGaussian()) * scale }
        return b
    }

    func assertClose(_ a: FloatBuffer, _ b: FloatBuffer, atol: Double, rtol: Double = 0, _ what: String) {
        let r = compare(a.array, b.array, atol: atol, rtol: rtol)
        XCTAssertTrue(r.passed, "\(what): \(r)")
    }

    func testSgemmEveryTransposeAgainstNaive() {
        let sizes = [1, 3, 17, 64]
        for m in sizes { for n in sizes { for k in sizes {
            for ta in [false, true] { for tb in [false, true] {
                let lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3
                let a = randomBuffer((ta ? k : m) * lda), b = randomBuffer((tb ? n : k) * ldb)
                let c1 = randomBuffer(m * ldc), c2 = FloatBuffer(c1.array)
                sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.5, a: a.pointer, lda: lda,
                      b: b.pointer, ldb: ldb, beta: 0.25, c: c1.pointer, ldc: ldc)
                sgemmNaive(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.5, a: a.pointer, lda: lda,
                           b: b.pointer, ldb: ldb, beta: 0.25, c: c2.pointer, ldc: ldc)
                assertClose(c1, c2, atol: 1e-4, rtol: 1e-4, "sgemm m\(m) n\(n) k\(k) tA\(ta) tB\(tb)")
            } }
        } } }
    }

    func weight(_ rows: Int, _ columns: Int, _ format: String) -> WeightMatrix {
        let values = randomBuffer(rows * columns, scale: 0.5)
        switch format {
        case "q8_0":
            let bytes = UnsafeMutableRawPointer.allocate(byteCount: rows * columns / 32 * 34, alignment: 64)
            QuantizedBlocks.quantizeQ8_0(values.pointer, count: rows * columns, into: bytes)
            return WeightMatrix(name: "w", rows: rows, columns: columns, storage: .q8_0(UnsafeRawPointer(bytes)), owner: nil)
        case "q4_1", "blocks":
            let bytes = UnsafeMutableRawPointer.allocate(byteCount: rows * columns / 32 * 20, alignment: 64)
            QuantizedBlocks.quantizeQ4_1(values.pointer, count: rows * columns, into: bytes)
            if format == "blocks" {
                return WeightMatrix(name: "w", rows: rows, columns: columns,
                                    storage: .blocks(UnsafeRawPointer(bytes), name: "Q4_1 via rows", rowBytes: columns / 32 * 20,
                                                     dequantizeRow: { QuantizedBlocks.dequantizeQ4_1($0, count: $1, into: $2) }),
                                    owner: nil)
            }
            return WeightMatrix(name: "w", rows: rows, columns: columns, storage: .q4_1(UnsafeRawPointer(bytes)), owner: nil)
        default:
            return .f32(name: "w", rows: rows, columns: columns, values: values)
        }
    }

    /// The packed product against float64 loops, with B packed both ways round (rows of a
    /// matrix transposed into panels, and rows cut into panels), for row counts around the
    /// kernel's six and column counts around its sixteen, in all three store modes.
    func testPackedProductAgainstFloat64Loops() {
        var rng = SeededGenerator(seed: 21)
        func randoms(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.nextGaussian()) } }
        for (rows, depth, columns) in [(1, 1, 1), (5, 3, 16), (6, 17, 15), (7, 32, 17), (13, 9, 33), (50, 40, 48), (97, 70, 31)] {
            let lda = depth + 3, ldc = columns + 2
            let a = randoms(rows * lda), b = randoms(depth * columns), bT = (0..<(columns * depth)).map { b[($0 % depth) * columns + $0 / depth] }
            let source = randoms(rows * ldc)
            let panelCount = (columns + 15) / 16
            var byRows = [Float](repeating: .nan, count: panelCount * depth * 16)
            var transposed = [Float](repeating: .nan, count: panelCount * depth * 16)
            byRows.withUnsafeMutableBufferPointer { panels in
                copyRowsIntoPanels(b, rows: depth, columns: columns, firstDepth: 0, panels: panels.baseAddress!, panelStride: depth * 16)
            }
            transposed.withUnsafeMutableBufferPointer { panels in
                bT.withUnsafeBufferPointer { t in
                    for p in 0..<panelCount {
                        transposeIntoPanel(t.baseAddress! + p * 16 * depth, rows: min(16, columns - p * 16), depth: depth,
                                           into: panels.baseAddress! + p * 16 * depth)
                    }
                }
            }
            XCTAssertEqual(byRows, transposed, "both packings agree (\(depth) × \(columns))")
            for mode in 0..<3 { // overwrite, accumulate, add another matrix
                var c = mode == 0 ? [Float](repeating: .nan, count: rows * ldc) : randoms(rows * ldc)
                var expected = [Double](repeating: 0, count: rows * columns)
                for i in 0..<rows {
                    for j in 0..<columns {
                        var sum = 0.0
                        for k in 0..<depth { sum += Double(a[i * lda + k]) * Double(b[k * columns + j]) }
                        expected[i * columns + j] = sum + (mode == 1 ? Double(c[i * ldc + j]) : mode == 2 ? Double(source[i * ldc + j]) : 0)
                    }
                }
                let padding = c.enumerated().filter { $0.offset % ldc >= columns }.map(\.element)
                c.withUnsafeMutableBufferPointer { cp in
                    let cBase = cp.baseAddress!
                    source.withUnsafeBufferPointer { sp in
                        packedProduct(rows: rows, depth: depth, columns: columns, a: a, lda: lda, panels: byRows, panelStride: depth * 16,
                                      c: cBase, ldc: ldc, source: mode == 0 ? nil : mode == 1 ? UnsafePointer(cBase) : sp.baseAddress!,
                                      ldSource: ldc)
                    }
                }
                var worst = 0.0
                for i in 0..<rows {
                    for j in 0..<columns { worst = max(worst, abs(Double(c[i * ldc + j]) - expected[i * columns + j])) }
                }
                XCTAssertLessThan(worst, 1e-4, "\(rows) × \(depth) × \(columns), mode \(mode)")
                // The same product with A given transposed ([depth, rows] at a wider stride).
                if mode == 0 {
                    let ldt = rows + 5
                    var aT = [Float](repeating: .nan, count: depth * ldt)
                    for i in 0..<rows { for k in 0..<depth { aT[k * ldt + i] = a[i * lda + k] } }
                    var cT = [Float](repeating: .nan, count: rows * ldc)
                    packedProduct(rows: rows, depth: depth, columns: columns, a: aT, lda: ldt, transposedA: true, panels: byRows,
                                  panelStride: depth * 16, c: &cT, ldc: ldc, source: nil, ldSource: 0)
                    var worstT = 0.0
                    for i in 0..<rows {
                        for j in 0..<columns { worstT = max(worstT, abs(Double(cT[i * ldc + j]) - expected[i * columns + j])) }
                    }
                    XCTAssertLessThan(worstT, 1e-4, "Aᵀ: \(rows) × \(depth) × \(columns)")
                }
                let paddingAfter = c.enumerated().filter { $0.offset % ldc >= columns }.map(\.element)
                XCTAssertEqual(padding.map(\.bitPattern), paddingAfter.map(\.bitPattern), "columns past the product are left alone")
            }
        }
    }

    func testQuantizeThenDequantizeRoundTrips() {
        let x = randomBuffer(64)
        let q8 = UnsafeMutableRawPointer.allocate(byteCount: 68, alignment: 16), q4 = UnsafeMutableRawPointer.allocate(byteCount: 40, alignment: 16)
        defer { q8.deallocate(); q4.deallocate() }
        let y8 = FloatBuffer(count: 64), y4 = FloatBuffer(count: 64)
        QuantizedBlocks.quantizeQ8_0(x.pointer, count: 64, into: q8)
        QuantizedBlocks.dequantizeQ8_0(q8, count: 64, into: y8.pointer)
        QuantizedBlocks.quantizeQ4_1(x.pointer, count: 64, into: q4)
        QuantizedBlocks.dequantizeQ4_1(q4, count: 64, into: y4.pointer)
        assertClose(y8, x, atol: 0.03, "q8_0 round trip")
        assertClose(y4, x, atol: 0.5, "q4_1 round trip")
    }

    func testFastDequantizationIsBitExact() {
        let x = randomBuffer(32 * 17, scale: 0.3)
        let q8 = UnsafeMutableRawPointer.allocate(byteCount: 17 * 34, alignment: 16), q4 = UnsafeMutableRawPointer.allocate(byteCount: 17 * 20, alignment: 16)
        defer { q8.deallocate(); q4.deallocate() }
        QuantizedBlocks.quantizeQ8_0(x.pointer, count: x.count, into: q8)
        QuantizedBlocks.quantizeQ4_1(x.pointer, count: x.count, into: q4)
        for (type, bytes) in [(GGMLType.q8_0, q8), (.q4_1, q4)] {
            let fast = FloatBuffer(count: x.count), naive = FloatBuffer(count: x.count), formats = FloatBuffer(count: x.count)
            if type == .q8_0 {
                QuantizedBlocks.dequantizeQ8_0Fast(bytes, count: x.count, into: fast.pointer)
                QuantizedBlocks.dequantizeQ8_0(bytes, count: x.count, into: naive.pointer)
            } else {
                QuantizedBlocks.dequantizeQ4_1Fast(bytes, count: x.count, into: fast.pointer)
                QuantizedBlocks.dequantizeQ4_1(bytes, count: x.count, into: naive.pointer)
            }
            dequantize(type, bytes, count: x.count, into: formats.pointer)
            XCTAssertEqual(fast.array, naive.array, "\(type)")
            XCTAssertEqual(fast.array, formats.array, "\(type) against the formats layer")
        }
    }

    func testMatmulEveryFormatAgainstNaive() {
        for format in ["f32", "q8_0", "q4_1", "blocks"] {
            for m in [1, 3, 17, 64] { for n in [1, 3, 17, 64, 130] {
                for k in format == "f32" ? [1, 3, 17, 64] : [32, 64] {
                    let w = weight(n, k, format)
                    let x = randomBuffer(m * k)
                    for threads in [1, 2] {
                        let scratch = MatmulScratch(threads: threads, maxColumns: k, tileRows: 16)
                        let out = randomBuffer(m * (n + 2)), expected = FloatBuffer(out.array)
                        matmul(x.pointer, rows: m, weight: w, into: out.pointer, ldOut: n + 2, accumulate: true, scratch: scratch)
                        matmulNaive(x.pointer, rows: m, weight: w, into: expected.pointer, ldOut: n + 2, accumulate: true)
                        assertClose(out, expected, atol: 1e-4, rtol: 1e-4, "matmul \(format) m\(m) n\(n) k\(k) threads \(threads)")
                    }
                }
            } }
        }
    }

    func testMatvecEveryFormatAgainstNaive() {
        for format in ["f32", "q8_0", "q4_1", "blocks"] {
            for n in [1, 3, 17, 64] { for k in format == "f32" ? [1, 3, 17, 64] : [32, 64, 576] {
                let w1 = weight(n, k, format), w2 = weight(n + 5, k, format)
                let x = randomBuffer(k)
                for threads in [1, 2] {
                    let scratch = MatvecScratch(threads: threads, maxColumns: k)
                    let a1 = randomBuffer(n), a2 = randomBuffer(n + 5)
                    let e1 = FloatBuffer(a1.array), e2 = FloatBuffer(a2.array)
                    matvec([MatvecJob(w1, into: a1.pointer), MatvecJob(w2, into: a2.pointer, accumulate: true)], x: x.pointer, scratch: scratch)
                    matvecNaive(w1, x: x.pointer, into: e1.pointer)
                    matvecNaive(w2, x: x.pointer, into: e2.pointer, accumulate: true)
                    assertClose(a1, e1, atol: 1e-4, rtol: 1e-4, "matvec \(format) n\(n) k\(k)")
                    assertClose(a2, e2, atol: 1e-4, rtol: 1e-4, "matvec (accumulate) \(format) n\(n) k\(k)")
                }
            } }
        }
    }

    /// The fused Q8_0/Q4_1 kernels must keep float32 precision even when one activation in a
    /// block dwarfs the others (as massive activations do): the error is bounded by a float32
    /// rounding of Σ|w·x|, not by a 16-bit step of the block's largest value (which would be
    /// about 1e-4 of Σ|w·x| here, and fails this bound).
    func testMatvecKeepsFloat32PrecisionBesideOutliers() {
        let n = 64, k = 576
        for format in ["q8_0", "q4_1"] {
            let w = weight(n, k, format)
            let x = randomBuffer(k, scale: 1e-2)
            for b in 0..<(k / 32) { x.pointer[b * 32 + (b * 7) % 32] = b.isMultiple(of: 2) ? 1e4 : -3e3 }
            for j in 64..<96 { x.pointer[j] = 0 }  // one block of zeros
            let out = FloatBuffer(count: n), expected = FloatBuffer(count: n)
            matvec(w, x: x.pointer, into: out.pointer, scratch: MatvecScratch(threads: 2, maxColumns: k))
            matvecNaive(w, x: x.pointer, into: expected.pointer)
            let row = FloatBuffer(count: k)
            for r in 0..<n {
                w.row(r, into: row.pointer)
                var magnitude = 0.0
                for j in 0..<k { magnitude += abs(Double(row.pointer[j]) * Double(x.pointer[j])) }
                let error = abs(Double(out.pointer[r]) - Double(expected.pointer[r]))
                XCTAssertLessThanOrEqual(error, 1e-6 * magnitude, "\(format) row \(r): \(out.pointer[r]) vs \(expected.pointer[r])")
            }
        }
    }

    func testMatvecOfZeroAndNonFiniteInputs() {
        let n = 6, k = 64
        for format in ["q8_0", "q4_1"] {
            let w = weight(n, k, format)
            let scratch = MatvecScratch(threads: 1, maxColumns: k)
            let zero = FloatBuffer(count: k), out = FloatBuffer(count: n)
            matvec(w, x: zero.pointer, into: out.pointer, scratch: scratch)
            XCTAssertEqual(out.array, [Float](repeating: 0, count: n), format)
            for bad in [Float.nan, .infinity] {
                let x = randomBuffer(k)
                x.pointer[40] = bad
                matvec(w, x: x.pointer, into: out.pointer, scratch: scratch)
                XCTAssertTrue(out.array.allSatisfy { !$0.isFinite }, "\(format) with \(bad): \(out.array)")
            }
        }
    }

    func testRMSNormAgainstNaive() {
        for d in [1, 3, 17, 64] { for rows in [1, 3] {
            let x = randomBuffer(rows * d), w = randomBuffer(d)
            let a = FloatBuffer(count: rows * d), b = FloatBuffer(count: rows * d)
            rmsnormForward(x.pointer, weight: w.pointer, rows: rows, d: d, eps: 1e-5, into: a.pointer)
            rmsnormForwardNaive(x.pointer, weight: w.pointer, rows: rows, d: d, eps: 1e-5, into: b.pointer)
            assertClose(a, b, atol: 1e-5, rtol: 1e-5, "rmsnorm d\(d)")
        } }
    }

    func testRopeAgainstNaive() {
        for (headDim, dims) in [(2, 2), (16, 8), (64, 64)] {
            let rows = 17, heads = 3
            var positions = (0..<rows).map { Int32($0 * 3) }
            let frequencies = (0..<(dims / 2)).map { Float(1 / pow(10_000.0, Double(2 * $0) / Double(dims))) }
            let x = randomBuffer(rows * heads * headDim), y = FloatBuffer(x.array)
            ropeForward(x.pointer, rows: rows, heads: heads, headDim: headDim, positions: &positions,
                        table: RopeTable(positions: 64, inverseFrequencies: frequencies))
            ropeForwardNaive(y.pointer, rows: rows, heads: heads, headDim: headDim, positions: &positions, inverseFrequencies: frequencies)
            assertClose(x, y, atol: 2e-5, "rope hd\(headDim) dims\(dims)")
        }
    }

    func testRopeRotatesAdjacentPairs() {
        // Position 1, one pair, base irrelevant for i = 0: (1, 0) rotates by 1 radian.
        let x = FloatBuffer([1, 0])
        var p: [Int32] = [1]
        ropeForward(x.pointer, rows: 1, heads: 1, headDim: 2, positions: &p, table: RopeTable(positions: 2, inverseFrequencies: [1]))
        XCTAssertEqual(x.pointer[0], Float(cos(1.0)), accuracy: 1e-6)
        XCTAssertEqual(x.pointer[1], Float(sin(1.0)), accuracy: 1e-6)
    }

    func testSwiGLUAgainstNaive() {
        for n in [1, 3, 17, 64] {
            let g = randomBuffer(n, scale: 3), u = randomBuffer(n)
            let a = FloatBuffer(count: n), b = FloatBuffer(count: n)
            swigluForward(gate: g.pointer, up: u.pointer, count: n, into: a.pointer)
            swigluForwardNaive(gate: g.pointer, up: u.pointer, count: n, into: b.pointer)
            assertClose(a, b, atol: 1e-6, rtol: 1e-5, "swiglu n\(n)")
        }
    }

    func testAttentionAgainstNaiveGQACacheOffsetsAndPadding() {
        for (heads, kvHeads) in [(1, 1), (4, 2), (3, 1)] {
            for (t, s) in [(1, 1), (1, 17), (3, 3), (3, 17), (17, 17), (64, 64)] {
                for padded in [false, true] where !(padded && t == 1) {
                    let hd = 16
                    let q = randomBuffer(t * heads * hd), k = randomBuffer(s * kvHeads * hd), v = randomBuffer(s * kvHeads * hd)
                    var valid = (0..<s).map { !padded || $0 % 4 != 1 }
                    let shape = AttentionShape(queries: t, keys: s, heads: heads, kvHeads: kvHeads, headDim: hd)
                    let out = FloatBuffer(count: t * heads * hd), expected = FloatBuffer(count: t * heads * hd)
                    let probs = FloatBuffer(count: heads * t * s), expectedProbs = FloatBuffer(count: heads * t * s)
                    valid.withUnsafeMutableBufferPointer { vp in
                        let keyValid: UnsafePointer<Bool>? = padded ? UnsafePointer(vp.baseAddress) : nil
                        for threads in [1, 2] {
                            for keep in [false, true] {
                                attentionForward(q: q.pointer, k: k.pointer, v: v.pointer, shape: shape, keyValid: keyValid,
                                                 into: out.pointer, probabilities: keep ? probs.pointer : nil,
                                                 scratch: AttentionScratch(threads: threads, capacity: t * s))
                                attentionForwardNaive(q: q.pointer, k: k.pointer, v: v.pointer, shape: shape, keyValid: keyValid,
                                                      into: expected.pointer, probabilities: expectedProbs.pointer)
                                let what = "attention h\(heads)/\(kvHeads) t\(t) s\(s) padded \(padded) threads \(threads)"
                                assertClose(out, expected, atol: 1e-5, rtol: 1e-4, what)
                                if keep { assertClose(probs, expectedProbs, atol: 1e-6, what + " probabilities") }
                            }
                        }
                    }
                }
            }
        }
    }

    func testCrossEntropyAndLogSoftmaxAgainstNaive() {
        for vocab in [1, 3, 17, 64, 5000] {
            let rows = 3
            let logits = randomBuffer(rows * vocab, scale: 4)
            var targets: [Int32] = [0, Int32(vocab - 1), -1]
            let a = FloatBuffer(count: rows), b = FloatBuffer(count: rows)
            crossEntropyForward(logits.pointer, rows: rows, vocab: vocab, targets: &targets, into: a.pointer)
            crossEntropyForwardNaive(logits.pointer, rows: rows, vocab: vocab, targets: &targets, into: b.pointer)
            assertClose(a, b, atol: 1e-5, rtol: 1e-5, "cross-entropy vocab \(vocab)")
            XCTAssertEqual(a.pointer[2], 0)
            let ls = FloatBuffer(count: rows * vocab)
            logSoftmaxForward(logits.pointer, rows: rows, vocab: vocab, into: ls.pointer)
            XCTAssertEqual(-ls.pointer[vocab - 1 + vocab], b.pointer[1], accuracy: 1e-4)
        }
    }

    func testLinearCrossEntropyAgainstNaive() {
        for format in ["f32", "q8_0"] { for (rows, vocab) in [(1, 3), (3, 17), (17, 700)] {
            let d = 64
            let w = weight(vocab, d, format), x = randomBuffer(rows * d)
            var targets = (0..<rows).map { Int32(($0 * 7) % vocab) }
            if rows > 1 { targets[1] = -1 }
            for threads in [1, 2] {
                let a = FloatBuffer(count: rows), b = FloatBuffer(count: rows)
                linearCrossEntropyForward(x.pointer, rows: rows, weight: w, targets: &targets, into: a.pointer,
                                          scratch: LinearCrossEntropyScratch(threads: threads, rows: rows, columns: d, tileRows: 64))
                linearCrossEntropyForwardNaive(x.pointer, rows: rows, weight: w, targets: &targets, into: b.pointer)
                assertClose(a, b, atol: 1e-4, rtol: 1e-5, "linear cross-entropy \(format) rows \(rows) vocab \(vocab)")
            }
        } }
    }

    func testTopKOrdersLargestFirst() {
        var x: [Float] = [0.5, 3, -1, 3, 2, 7]
        let best = topK(&x, count: x.count, k: 3)
        XCTAssertEqual(best.map(\.index), [5, 1, 3])
        XCTAssertEqual(best.map(\.value), [7, 3, 3])
    }
}
