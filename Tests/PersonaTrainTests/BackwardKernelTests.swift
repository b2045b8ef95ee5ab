import Foundation
import PersonaCore
import PersonaTensor
import PersonaTestSupport
import XCTest

/// Each backward kernel against central differences of its naive Double forward twin,
/// with loss = Σ out · dOut for a random dOut.
final class BackwardKernelTests: XCTestCase {
    func testRMSNormBackward() {
        var rng = SeededGenerator(seed: 1)
        let rows = 3, dim = 17
        let x = randomFloats(rows * dim, rng: &rng)
        let w = randomFloats(dim, rng: &rng).map { 1 + 0.3 * $0 }
        let dY = randomFloats(rows * dim, rng: &rng)
        var dX = [Float](repeating: 0, count: rows * dim), dW = [Float](repeating: 0, count: dim)
        rmsnormBackward(x: x, weight: w, dY: dY, dX: &dX, dWeight: &dW, rows: rows, dim: dim, eps: 1e-5)
        let wd = w.map(Double.init), xd = x.map(Double.init)
        checkGradient("rmsnorm dX", input: x, analytic: dX, rng: &rng) {
            dot(NaiveForward.rmsnorm($0, weight: wd, rows: rows, dim: dim, eps: 1e-5), dY)
        }
        checkGradient("rmsnorm dWeight", input: w, analytic: dW, rng: &rng) {
            dot(NaiveForward.rmsnorm(xd, weight: $0, rows: rows, dim: dim, eps: 1e-5), dY)
        }
        // dX = base + gradient over a NaN-filled dX, on 1 and 2 threads: the same as accumulating onto base.
        let base = randomFloats(rows * dim, rng: &rng)
        var dXAccumulated = base
        rmsnormBackward(x: x, weight: w, dY: dY, dX: &dXAccumulated, dWeight: nil, rows: rows, dim: dim, eps: 1e-5)
        for threads in [1, 2] {
            var dXBase = [Float](repeating: .nan, count: rows * dim)
            rmsnormBackward(x: x, weight: w, dY: dY, dX: &dXBase, dWeight: nil, rows: rows, dim: dim, eps: 1e-5,
                            threads: threads, base: base)
            XCTAssertEqual(dXBase, dXAccumulated, "rmsnorm backward with base, \(threads) threads")
        }
    }

    func testRoPEBackward() {
        var rng = SeededGenerator(seed: 2)
        let rows = 5, heads = 3, headDim = 8
        let positions: [Int32] = [0, 1, 2, 7, 40]
        let x = randomFloats(rows * heads * headDim, rng: &rng)
        let dY = randomFloats(x.count, rng: &rng)
        var dX = dY
        ropeBackward(gradient: &dX, positions: positions, rows: rows, heads: heads, headDim: headDim, base: 10000)
        checkGradient("rope dX", input: x, analytic: dX, samples: x.count, rng: &rng) {
            dot(NaiveForward.rope($0, positions: positions, heads: heads, headDim: headDim, base: 10000), dY)
        }
    }

    func testAttentionBackwardCausalGQAWithPadding() {
        for (T, heads, kvHeads, headDim, padded) in [(1, 1, 1, 4, 0), (7, 6, 2, 8, 2), (17, 3, 3, 16, 0), (9, 4, 1, 4, 9)] {
            var rng = SeededGenerator(seed: UInt64(T * 100 + heads))
            let q = randomFloats(T * heads * headDim, rng: &rng)
            let k = randomFloats(T * kvHeads * headDim, rng: &rng)
            let v = randomFloats(T * kvHeads * headDim, rng: &rng)
            let dOut = randomFloats(q.count, rng: &rng)
            // Left-padding of `padded` keys (padded == T: every key but the last is padding
            // so that some queries see no key at all).
            var mask = [UInt8](repeating: 1, count: T)
            for j in 0..<min(padded, T) { mask[j] = 0 }
            if padded == T { mask[T - 1] = 1 }
            var dQ = [Float](repeating: 0, count: q.count), dK = [Float](repeating: 0, count: k.count), dV = [Float](repeating: 0, count: v.count)
            var scratch = [Float](repeating: 0, count: 2 * T * T)
            attentionBackward(q: q, k: k, v: v, dOut: dOut, dQ: &dQ, dK: &dK, dV: &dV, keyMask: mask,
                              scratch: &scratch, length: T, heads: heads, kvHeads: kvHeads, headDim: headDim)
            // Overwriting (accumulate: false) into NaN-filled gradients gives the same values.
            var dQo = [Float](repeating: .nan, count: q.count), dKo = [Float](repeating: .nan, count: k.count)
            var dVo = [Float](repeating: .nan, count: v.count)
            attentionBackward(q: q, k: k, v: v, dOut: dOut, dQ: &dQo, dK: &dKo, dV: &dVo, keyMask: mask, scratch: &scratch,
                              length: T, heads: heads, kvHeads: kvHeads, headDim: headDim,
                              qRowStride: heads * headDim, kvRowStride: kvHeads * headDim, accumulate: false)
            for (name, got, expected) in [("dQ", dQo, dQ), ("dK", dKo, dK), ("dV", dVo, dV)] {
                XCTAssertTrue(compare(got, expected, atol: 1e-6, rtol: 1e-6).passed, "attention overwrite \(name) T=\(T)")
            }
            let qd = q.map(Double.init), kd = k.map(Double.init), vd = v.map(Double.init)
            let label = "attention T=\(T) heads=\(heads)/\(kvHeads) padded=\(padded)"
            checkGradient("\(label) dQ", input: q, analytic: dQ, rng: &rng) {
                dot(NaiveForward.attention(q: $0, k: kd, v: vd, keyMask: mask, length: T, heads: heads, kvHeads: kvHeads, headDim: headDim), dOut)
            }
            checkGradient("\(label) dK", input: k, analytic: dK, rng: &rng) {
                dot(NaiveForward.attention(q: qd, k: $0, v: vd, keyMask: mask, length: T, heads: heads, kvHeads: kvHeads, headDim: headDim), dOut)
            }
            checkGradient("\(label) dV", input: v, analytic: dV, rng: &rng) {
                dot(NaiveForward.attention(q: qd, k: kd, v: $0, keyMask: mask, length: T, heads: heads, kvHeads: kvHeads, headDim: headDim), dOut)
            }
        }
    }

    /// The grouped kernels (the G heads of one key/value head stacked into each product) against
    /// the plain-loop forward and the per-head backward above, for one group inside a wider
    /// [T, heads, headDim] layout; tolerance 1e-5 (float32 sums in another order).
    func testGroupedAttentionMatchesPerHead() {
        for (T, groupSize, kvHeads, headDim, padded) in [(1, 3, 1, 4, 0), (2, 1, 1, 8, 0), (7, 3, 2, 8, 2), (17, 2, 3, 16, 0), (9, 4, 1, 4, 9)] {
            var rng = SeededGenerator(seed: UInt64(T * 31 + groupSize))
            let heads = groupSize * kvHeads
            let q = randomFloats(T * heads * headDim, rng: &rng), dOut = randomFloats(q.count, rng: &rng)
            let k = randomFloats(T * kvHeads * headDim, rng: &rng), v = randomFloats(k.count, rng: &rng)
            var mask = [UInt8](repeating: 1, count: T)
            for j in 0..<min(padded, T) { mask[j] = 0 }
            if padded == T { mask[T - 1] = 1 }
            let expectedOut = NaiveForward.attention(q: q.map(Double.init), k: k.map(Double.init), v: v.map(Double.init), keyMask: mask,
                                                     length: T, heads: heads, kvHeads: kvHeads, headDim: headDim)
            var dQ = [Float](repeating: 0.5, count: q.count), dK = [Float](repeating: 0.5, count: k.count), dV = dK
            var perHeadScratch = [Float](repeating: 0, count: 2 * T * T)
            attentionBackward(q: q, k: k, v: v, dOut: dOut, dQ: &dQ, dK: &dK, dV: &dV, keyMask: mask,
                              scratch: &perHeadScratch, length: T, heads: heads, kvHeads: kvHeads, headDim: headDim)
            // Owned buffers: the kernels take pointers at a group's offset into each.
            func buffer(_ count: Int, _ value: Float) -> UnsafeMutableBufferPointer<Float> {
                let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
                p.initialize(repeating: value)
                return p
            }
            let out = buffer(q.count, .nan), scratch = buffer(groupedAttentionScratch(length: T, groupSize: groupSize, headDim: headDim), .nan)
            let added = (q: buffer(q.count, 0.5), k: buffer(k.count, 0.5), v: buffer(k.count, 0.5))
            let overwritten = (q: buffer(q.count, .nan), k: buffer(k.count, .nan), v: buffer(k.count, .nan))
            // The forward's probabilities kept for the backward: the same gradients without recomputing them.
            let fromKept = (q: buffer(q.count, .nan), k: buffer(k.count, .nan), v: buffer(k.count, .nan))
            let kept = buffer(groupSize * T * T, .nan), keptOut = buffer(q.count, .nan)
            defer {
                for p in [out, scratch, added.q, added.k, added.v, overwritten.q, overwritten.k, overwritten.v,
                          fromKept.q, fromKept.k, fromKept.v, kept, keptOut] { p.deallocate() }
            }
            let qStride = heads * headDim, kvStride = kvHeads * headDim
            q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
            dOut.withUnsafeBufferPointer { dp in
                let q = qp.baseAddress!, k = kp.baseAddress!, v = vp.baseAddress!, dOut = dp.baseAddress!
                for g in 0..<kvHeads {
                    let qo = g * groupSize * headDim, kvo = g * headDim
                    groupedAttentionForward(q: q + qo, k: k + kvo, v: v + kvo, out: out.baseAddress! + qo, keyMask: mask,
                                            scratch: scratch.baseAddress!, length: T, groupSize: groupSize, headDim: headDim,
                                            qRowStride: qStride, kvRowStride: kvStride)
                    for (accumulate, d) in [(true, added), (false, overwritten)] {
                        groupedAttentionBackward(q: q + qo, k: k + kvo, v: v + kvo, dOut: dOut + qo, dQ: d.q.baseAddress! + qo,
                                                 dK: d.k.baseAddress! + kvo, dV: d.v.baseAddress! + kvo, keyMask: mask,
                                                 scratch: scratch.baseAddress!, length: T, groupSize: groupSize, headDim: headDim,
                                                 qRowStride: qStride, kvRowStride: kvStride, accumulate: accumulate)
                    }
                    groupedAttentionForward(q: q + qo, k: k + kvo, v: v + kvo, out: keptOut.baseAddress! + qo, keyMask: mask,
                                            scratch: scratch.baseAddress!, length: T, groupSize: groupSize, headDim: headDim,
                                            qRowStride: qStride, kvRowStride: kvStride, keep: kept.baseAddress!)
                    scratch.update(repeating: .nan)
                    groupedAttentionBackward(q: q + qo, k: k + kvo, v: v + kvo, dOut: dOut + qo, dQ: fromKept.q.baseAddress! + qo,
                                             dK: fromKept.k.baseAddress! + kvo, dV: fromKept.v.baseAddress! + kvo, keyMask: mask,
                                             scratch: scratch.baseAddress!, length: T, groupSize: groupSize, headDim: headDim,
                                             qRowStride: qStride, kvRowStride: kvStride, accumulate: false, kept: kept.baseAddress!)
                }
            } } } }
            let dQAdd = Array(added.q), dKAdd = Array(added.k), dVAdd = Array(added.v)
            let dQOver = Array(overwritten.q), dKOver = Array(overwritten.k), dVOver = Array(overwritten.v)
            XCTAssertEqual(Array(keptOut), Array(out), "forward keeping the probabilities")
            XCTAssertEqual(Array(fromKept.q), dQOver); XCTAssertEqual(Array(fromKept.k), dKOver); XCTAssertEqual(Array(fromKept.v), dVOver)
            let label = "grouped attention T=\(T) G=\(groupSize) kv=\(kvHeads) padded=\(padded)"
            XCTAssertTrue(compare(Array(out), expectedOut, atol: 1e-5, rtol: 1e-5).passed, "\(label) forward")
            for (name, got, expected) in [("dQ", dQAdd, dQ), ("dK", dKAdd, dK), ("dV", dVAdd, dV),
                                          ("dQ overwritten", dQOver.map { $0 + 0.5 }, dQ), ("dK overwritten", dKOver.map { $0 + 0.5 }, dK),
                                          ("dV overwritten", dVOver.map { $0 + 0.5 }, dV)] {
                XCTAssertTrue(compare(got, expected, atol: 1e-5, rtol: 1e-5).passed, "\(label) \(name): \(compare(got, expected, atol: 1e-5, rtol: 1e-5))")
            }
        }
    }

    func testSwiGLUBackward() {
        var rng = SeededGenerator(seed: 3)
        let n = 37
        let g = randomFloats(n, scale: 2, rng: &rng), u = randomFloats(n, rng: &rng), dH = randomFloats(n, rng: &rng)
        var dG = [Float](repeating: 0, count: n), dU = [Float](repeating: 0, count: n)
        swigluBackward(gate: g, up: u, dH: dH, dGate: &dG, dUp: &dU, count: n)
        let gd = g.map(Double.init), ud = u.map(Double.init)
        checkGradient("swiglu dGate", input: g, analytic: dG, rng: &rng) { dot(NaiveForward.swiglu(gate: $0, up: ud), dH) }
        checkGradient("swiglu dUp", input: u, analytic: dU, rng: &rng) { dot(NaiveForward.swiglu(gate: gd, up: $0), dH) }
        // Overwriting NaN-filled gradients gives the same values (bit for bit: 0 + x = x).
        var dGo = [Float](repeating: .nan, count: n), dUo = dGo
        swigluBackward(gate: g, up: u, dH: dH, dGate: &dGo, dUp: &dUo, count: n, accumulate: false)
        XCTAssertEqual(dGo, dG); XCTAssertEqual(dUo, dU)
    }

    /// The two halves of the LoRA backward with several projections sharing an input: their
    /// d(ax) side by side and their A stacked give the same gradients as one loraBackward each.
    func testStackedLoRABackwardMatchesOneProjectionAtATime() {
        var rng = SeededGenerator(seed: 12)
        let T = 23, inDim = 19, rank = 3, outDims = [7, 5, 11], stride = 4 * rank
        let x = randomFloats(T * inDim, rng: &rng)
        let a = outDims.map { _ in randomFloats(rank * inDim, scale: 0.3, rng: &rng) }
        let b = outDims.map { randomFloats($0 * rank, scale: 0.3, rng: &rng) }
        let dY = outDims.map { randomFloats(T * $0, rng: &rng) }
        let scale: Float = 1.5
        // ax of each projection, side by side in a [T, stride] matrix (one spare column block).
        var ax = [Float](repeating: 0, count: T * stride)
        for p in 0..<3 { for t in 0..<T { for r in 0..<rank { for i in 0..<inDim {
            ax[t * stride + p * rank + r] += a[p][r * inDim + i] * x[t * inDim + i]
        } } } }
        for threads in [1, 2, 3] {
            var dXOne = [Float](repeating: 0, count: T * inDim), dAOne = a.map { $0.map { _ in Float(0) } }, dBOne = b.map { $0.map { _ in Float(0) } }
            for p in 0..<3 {
                let axP = (0..<(T * rank)).map { ax[($0 / rank) * stride + p * rank + $0 % rank] }
                var dAx = [Float](repeating: 0, count: T * rank)
                loraBackward(x: x, ax: axP, dY: dY[p], a: a[p], b: b[p], scale: scale, dA: &dAOne[p], dB: &dBOne[p], dX: &dXOne,
                             dAx: &dAx, rows: T, inDim: inDim, outDim: outDims[p], rank: rank, threads: threads)
            }
            var dX = [Float](repeating: 0, count: T * inDim), dB = b.map { $0.map { _ in Float(0) } }
            var dAx = [Float](repeating: .nan, count: T * stride)
            for p in 0..<3 {
                ax.withUnsafeBufferPointer { axp in
                    dAx.withUnsafeMutableBufferPointer { dp in
                        loraBackwardOutput(ax: axp.baseAddress! + p * rank, axStride: stride, dY: dY[p], b: b[p], scale: scale,
                                           dB: &dB[p], dAx: dp.baseAddress! + p * rank, dAxStride: stride,
                                           rows: T, outDim: outDims[p], rank: rank, threads: threads)
                    }
                }
            }
            let stackedA = a.flatMap { $0 }
            var dAStacked = [Float](repeating: 0, count: 3 * rank * inDim)
            loraBackwardInput(x: x, dAx: dAx, dAxStride: stride, a: stackedA, dA: &dAStacked, dX: &dX,
                              rows: T, inDim: inDim, rank: 3 * rank, threads: threads)
            XCTAssertTrue(compare(dX, dXOne, atol: 1e-5, rtol: 1e-5).passed, "stacked dX, \(threads) threads")
            XCTAssertTrue(compare(dAStacked, dAOne.flatMap { $0 }, atol: 1e-5, rtol: 1e-5).passed, "stacked dA, \(threads) threads")
            XCTAssertTrue(compare(dB.flatMap { $0 }, dBOne.flatMap { $0 }, atol: 1e-5, rtol: 1e-5).passed, "dB, \(threads) threads")
        }
    }

    func testLinearAndLoRABackward() {
        for (T, inDim, outDim, rank, tileRows) in [(1, 3, 1, 1, 1), (5, 17, 12, 4, 5), (9, 64, 33, 8, 64)] {
            var rng = SeededGenerator(seed: UInt64(T * 7 + inDim))
            let x = randomFloats(T * inDim, rng: &rng)
            let w = randomFloats(outDim * inDim, scale: 0.3, rng: &rng)
            let a = randomFloats(rank * inDim, scale: 0.3, rng: &rng)
            let b = randomFloats(outDim * rank, scale: 0.3, rng: &rng)
            let dY = randomFloats(T * outDim, rng: &rng)
            let scale: Float = 2
            var ax = [Float](repeating: 0, count: T * rank)
            for t in 0..<T { for r in 0..<rank { for i in 0..<inDim { ax[t * rank + r] += a[r * inDim + i] * x[t * inDim + i] } } }
            var dX = [Float](repeating: 0, count: x.count), dA = [Float](repeating: 0, count: a.count), dB = [Float](repeating: 0, count: b.count)
            var tile = [Float](repeating: .nan, count: tileRows * inDim)
            var dAx = [Float](repeating: 0, count: T * rank)
            w.withUnsafeBufferPointer { wp in
                linearBackward(dY: dY, weight: DenseFrozenMatrix(rows: outDim, columns: inDim, values: wp.baseAddress!),
                               dX: &dX, rows: T, tile: &tile, tileRows: tileRows)
            }
            loraBackward(x: x, ax: ax, dY: dY, a: a, b: b, scale: scale, dA: &dA, dB: &dB, dX: &dX, dAx: &dAx,
                         rows: T, inDim: inDim, outDim: outDim, rank: rank)
            let xd = x.map(Double.init), wd = w.map(Double.init), ad = a.map(Double.init), bd = b.map(Double.init)
            func f(_ x: [Double], _ a: [Double], _ b: [Double]) -> Double {
                dot(NaiveForward.loraLinear(x: x, w: wd, a: a, b: b, scale: Double(scale), rows: T, inDim: inDim, outDim: outDim, rank: rank), dY)
            }
            checkGradient("linear+lora dX \(T)x\(inDim)→\(outDim)", input: x, analytic: dX, rng: &rng) { f($0, ad, bd) }
            checkGradient("lora dA", input: a, analytic: dA, rng: &rng) { f(xd, $0, bd) }
            checkGradient("lora dB", input: b, analytic: dB, rng: &rng) { f(xd, ad, $0) }
            // The dense overload agrees with the tiled one.
            var dXDense = [Float](repeating: 0, count: x.count)
            linearBackward(dY: dY, weight: w, dX: &dXDense, rows: T, inDim: inDim, outDim: outDim)
            var dXTiled = [Float](repeating: 0, count: x.count)
            w.withUnsafeBufferPointer { wp in
                linearBackward(dY: dY, weight: DenseFrozenMatrix(rows: outDim, columns: inDim, values: wp.baseAddress!),
                               dX: &dXTiled, rows: T, tile: &tile, tileRows: tileRows)
            }
            let report = compare(dXTiled, dXDense, atol: 1e-5, rtol: 1e-5)
            XCTAssertTrue(report.passed, "tiled vs dense linearBackward: \(report)")
            // Split across threads (reductions by output, products by row): the same gradients.
            for threads in [2, 3] {
                var dX2 = [Float](repeating: 0, count: x.count), dA2 = [Float](repeating: 0, count: a.count)
                var dB2 = [Float](repeating: 0, count: b.count), dXLoRA = [Float](repeating: 0, count: x.count)
                var dA1 = dA2, dB1 = dB2
                loraBackward(x: x, ax: ax, dY: dY, a: a, b: b, scale: scale, dA: &dA1, dB: &dB1, dX: &dXLoRA, dAx: &dAx,
                             rows: T, inDim: inDim, outDim: outDim, rank: rank)
                loraBackward(x: x, ax: ax, dY: dY, a: a, b: b, scale: scale, dA: &dA2, dB: &dB2, dX: &dX2, dAx: &dAx,
                             rows: T, inDim: inDim, outDim: outDim, rank: rank, threads: threads)
                for (name, got, expected) in [("dX", dX2, dXLoRA), ("dA", dA2, dA1), ("dB", dB2, dB1)] {
                    let report = compare(got, expected, atol: 1e-5, rtol: 1e-5)
                    XCTAssertTrue(report.passed, "lora \(name) with \(threads) threads: \(report)")
                }
            }
        }
    }

    func testCrossEntropyBackward() {
        var rng = SeededGenerator(seed: 4)
        let T = 4, V = 19
        let logits = randomFloats(T * V, scale: 2, rng: &rng)
        let targets: [Int32] = [3, -1, 18, 0]
        let weights: [Float] = [1 / 3, 0, 1 / 3, 1 / 3]
        var d = [Float](repeating: 0, count: T * V)
        crossEntropyBackward(logits: logits, targets: targets, weights: weights, dLogits: &d, rows: T, vocab: V)
        checkGradient("cross-entropy dLogits", input: logits, analytic: d, rng: &rng) {
            NaiveForward.crossEntropy(logits: $0, targets: targets, weights: weights, vocab: V)
        }
    }

    func testChunkedHeadCrossEntropyMatchesNaiveAndDifferences() {
        // Vocabulary not a multiple of the chunk or of 16; more rows than maxRows (two blocks);
        // the vocabulary shared between two and three threads (uneven shares, merged).
        for (T, dim, V, chunk, maxRows, threads) in [(3, 8, 37, 16, 2, 1), (70, 16, 300, 64, 64, 2), (40, 8, 200, 16, 40, 3)] {
            var rng = SeededGenerator(seed: UInt64(V))
            let hidden = randomFloats(T * dim, rng: &rng)
            let embedding = randomFloats(V * dim, scale: 0.7, rng: &rng)
            let targets: [Int32] = (0..<T).map { $0 % 5 == 1 ? -1 : Int32(rng.next() % UInt64(V)) }
            let counted = Float(targets.filter { $0 >= 0 }.count)
            let weights: [Float] = targets.map { $0 >= 0 ? 1 / counted : 0 }
            let head = LMHeadCrossEntropy(vocab: V, dim: dim, maxRows: maxRows, chunkRows: chunk)
            var dHidden = [Float](repeating: 0, count: T * dim)
            var nll = [Float](repeating: 0, count: T)
            let loss = embedding.withUnsafeBufferPointer { ep in
                head.forwardBackward(hidden: hidden, embedding: DenseFrozenMatrix(rows: V, columns: dim, values: ep.baseAddress!),
                                     targets: targets, weights: weights, dHidden: &dHidden, nll: &nll, rows: T, threads: threads)
            }
            let ed = embedding.map(Double.init)
            let lossOf: ([Double]) -> Double = {
                NaiveForward.crossEntropy(logits: NaiveForward.head(hidden: $0, embedding: ed, rows: T, dim: dim, vocab: V),
                                          targets: targets, weights: weights, vocab: V)
            }
            let expected = lossOf(hidden.map(Double.init))
            XCTAssertEqual(loss, expected, accuracy: 1e-5 * max(1, abs(expected)), "chunked head loss V=\(V)")
            checkGradient("chunked head dHidden V=\(V)", input: hidden, analytic: dHidden, rng: &rng, loss: lossOf)
            // The forward-only path gives the same per-token NLL.
            var nllForward = [Float](repeating: 7, count: T)
            embedding.withUnsafeBufferPointer { ep in
                head.forward(hidden: hidden, embedding: DenseFrozenMatrix(rows: V, columns: dim, values: ep.baseAddress!),
                             targets: targets, nll: &nllForward, rows: T, threads: threads)
            }
            XCTAssertTrue(compare(nllForward, nll, atol: 1e-6).passed)
            XCTAssertEqual(nll[1], 0)
        }
    }

    func testVectorExpAgainstFoundation() {
        var worst: Float = 0
        var x: Float = -90
        while x < 10 {
            let e = vectorExpScalar(x), reference = expf(x)
            if reference > 1e-30 { worst = max(worst, abs(e - reference) / reference) }
            x += 0.0137
        }
        XCTAssertLessThan(worst, 1e-6, "vectorExp relative error")
    }
}

/// The frozen products of training (weights packed into panels by all threads, rows shared
/// out) against plain loops: several tiles, uneven row splits, row counts that are not a
/// multiple of the kernel's six, widths that are not a multiple of its sixteen columns.
final class FrozenProductTests: XCTestCase {
    func testForwardAndInputGradientMatchPlainLoops() {
        var rng = SeededGenerator(seed: 11)
        for (T, inDim, outDim, tilePanels, threads) in [(5, 8, 40, 1, 1), (37, 24, 70, 2, 2), (9, 16, 33, 4, 3),
                                                       (61, 50, 97, 3, 2), (1, 7, 3, 1, 2), (100, 64, 48, 64, 2)] {
            let capacity = tilePanels * FrozenProductPlan.minimumCapacity(columns: max(inDim, outDim))
            var scratch = [Float](repeating: 0, count: FrozenProductPlan.scratchFloats(columns: max(inDim, outDim), threads: threads))
            let x = randomFloats(T * inDim, rng: &rng), w = randomFloats(outDim * inDim, rng: &rng)
            let dY = randomFloats(T * outDim, rng: &rng), dX0 = randomFloats(T * inDim, rng: &rng)
            var y = [Float](repeating: .nan, count: T * outDim), dX = dX0
            var tile = [Float](repeating: .nan, count: capacity)
            w.withUnsafeBufferPointer { wp in
                tile.withUnsafeMutableBufferPointer { tp in scratch.withUnsafeMutableBufferPointer { sp in
                    let weight = DenseFrozenMatrix(rows: outDim, columns: inDim, values: wp.baseAddress!)
                    let plan = FrozenProductPlan(tile: tp.baseAddress!, capacity: capacity, scratch: sp.baseAddress!, threads: threads)
                    frozenLinearForward(x, rows: T, weight: weight, into: &y, plan: plan)
                    frozenLinearBackward(dY: dY, rows: T, weight: weight, dX: &dX, plan: plan)
                } }
            }
            // With a residual, y = residual + x Wᵀ; without accumulation, dX = dY W over NaNs.
            let residual = randomFloats(T * outDim, rng: &rng)
            var yResidual = [Float](repeating: .nan, count: T * outDim), dXOver = [Float](repeating: .nan, count: T * inDim)
            w.withUnsafeBufferPointer { wp in
                tile.withUnsafeMutableBufferPointer { tp in scratch.withUnsafeMutableBufferPointer { sp in
                    let weight = DenseFrozenMatrix(rows: outDim, columns: inDim, values: wp.baseAddress!)
                    let plan = FrozenProductPlan(tile: tp.baseAddress!, capacity: capacity, scratch: sp.baseAddress!, threads: threads)
                    frozenLinearForward(x, rows: T, weight: weight, into: &yResidual, adding: residual, plan: plan)
                    frozenLinearBackward(dY: dY, rows: T, weight: weight, dX: &dXOver, accumulate: false, plan: plan)
                } }
            }
            var dXOverExpected = [Float](repeating: 0, count: T * inDim)
            sgemmNaive(m: T, n: inDim, k: outDim, a: dY, lda: outDim, b: w, ldb: inDim, beta: 1, c: &dXOverExpected, ldc: inDim)
            let yResidualExpected = zip(y, residual).map { $0 + $1 }
            XCTAssertTrue(compare(yResidual, yResidualExpected, atol: 1e-4, rtol: 1e-5).passed, "forward + residual T=\(T) threads=\(threads)")
            XCTAssertTrue(compare(dXOver, dXOverExpected, atol: 1e-4, rtol: 1e-5).passed, "backward overwrite T=\(T) threads=\(threads)")
            var yExpected = [Float](repeating: 0, count: T * outDim), dXExpected = dX0
            sgemmNaive(transposeB: true, m: T, n: outDim, k: inDim, a: x, lda: inDim, b: w, ldb: inDim, c: &yExpected, ldc: outDim)
            sgemmNaive(m: T, n: inDim, k: outDim, a: dY, lda: outDim, b: w, ldb: inDim, beta: 1, c: &dXExpected, ldc: inDim)
            XCTAssertTrue(compare(y, yExpected, atol: 1e-4, rtol: 1e-5).passed, "forward T=\(T) threads=\(threads)")
            XCTAssertTrue(compare(dX, dXExpected, atol: 1e-4, rtol: 1e-5).passed, "backward T=\(T) threads=\(threads)")
        }
    }
}
