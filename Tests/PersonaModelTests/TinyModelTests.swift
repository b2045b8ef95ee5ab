import XCTest
import PersonaCore
import PersonaTensor
import PersonaModel
import PersonaTestSupport

/// Every shape path of the forward pass on a tiny random Llama (GQA, odd lengths, padding,
/// cache), against a reference forward written with the naive kernels.
final class TinyModelTests: XCTestCase {
    static let config = LlamaConfig(vocabSize: 67, dModel: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, headDim: 16, dFF: 96,
                                    ropeTheta: 10_000, ropeDimensions: 16, rmsNormEps: 1e-5,
                                    contextLength: 64, tiedOutput: true)

    func model(_ format: RandomWeightFormat = .f32, config: LlamaConfig = TinyModelTests.config, threads: Int = 2) throws -> LlamaModel {
        var rng = SeededGenerator(seed: 11)
        return try LlamaModel(config: config, weights: .random(config: config, format: format, scale: 0.2, using: &rng), threads: threads)
    }

    func tokens(_ n: Int, seed: UInt64 = 3) -> [Int32] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in Int32(rng.next() % 67) }
    }

    /// Logits [T, vocab] of one sequence with the naive kernels only.
    func referenceLogits(_ m: LlamaModel, _ ids: [Int32]) -> [Float] {
        let c = m.config, w = m.weights, T = ids.count, D = c.dModel
        let x = FloatBuffer(count: T * D), h = FloatBuffer(count: T * D)
        for (t, id) in ids.enumerated() { w.embedding.row(Int(id), into: x.pointer + t * D) }
        var positions = (0..<T).map { Int32($0) }
        for layer in w.layers {
            rmsnormForwardNaive(x.pointer, weight: layer.attentionNorm.pointer, rows: T, d: D, eps: Float(c.rmsNormEps), into: h.pointer)
            let q = FloatBuffer(count: T * layer.q.rows), k = FloatBuffer(count: T * layer.k.rows), v = FloatBuffer(count: T * layer.v.rows)
            matmulNaive(h.pointer, rows: T, weight: layer.q, into: q.pointer)
            matmulNaive(h.pointer, rows: T, weight: layer.k, into: k.pointer)
            matmulNaive(h.pointer, rows: T, weight: layer.v, into: v.pointer)
            ropeForwardNaive(q.pointer, rows: T, heads: c.nHeads, headDim: c.headDim, positions: &positions, inverseFrequencies: m.inverseFrequencies)
            ropeForwardNaive(k.pointer, rows: T, heads: c.nKVHeads, headDim: c.headDim, positions: &positions, inverseFrequencies: m.inverseFrequencies)
            let a = FloatBuffer(count: T * layer.q.rows)
            attentionForwardNaive(q: q.pointer, k: k.pointer, v: v.pointer,
                                  shape: AttentionShape(queries: T, keys: T, heads: c.nHeads, kvHeads: c.nKVHeads, headDim: c.headDim),
                                  into: a.pointer)
            matmulNaive(a.pointer, rows: T, weight: layer.o, into: x.pointer, accumulate: true)
            rmsnormForwardNaive(x.pointer, weight: layer.ffnNorm.pointer, rows: T, d: D, eps: Float(c.rmsNormEps), into: h.pointer)
            let g = FloatBuffer(count: T * c.dFF), u = FloatBuffer(count: T * c.dFF)
            matmulNaive(h.pointer, rows: T, weight: layer.gate, into: g.pointer)
            matmulNaive(h.pointer, rows: T, weight: layer.up, into: u.pointer)
            swigluForwardNaive(gate: g.pointer, up: u.pointer, count: T * c.dFF, into: g.pointer)
            matmulNaive(g.pointer, rows: T, weight: layer.down, into: x.pointer, accumulate: true)
        }
        rmsnormForwardNaive(x.pointer, weight: w.outputNorm.pointer, rows: T, d: D, eps: Float(c.rmsNormEps), into: h.pointer)
        let logits = FloatBuffer(count: T * c.vocabSize)
        matmulNaive(h.pointer, rows: T, weight: w.output, into: logits.pointer)
        return logits.array
    }

    func testBatchedForwardMatchesNaiveReferenceForEveryFormat() throws {
        for format in [RandomWeightFormat.f32, .q8_0, .q4_1] {
            for threads in [1, 2] {
                let m = try model(format, threads: threads)
                for T in [1, 3, 17] {
                    let ids = tokens(T)
                    let got = try m.forward(TokenBatch(ids), logits: .all).logits
                    let r = compare(got, referenceLogits(m, ids), atol: 1e-4, rtol: 1e-4)
                    XCTAssertTrue(r.passed, "\(format) T=\(T) threads \(threads): \(r)")
                }
            }
        }
    }

    func testDecodeWithCacheEqualsBatchedLogits() throws {
        for format in [RandomWeightFormat.f32, .q4_1, .q8_0] {
            let m = try model(format)
            let ids = tokens(17)
            let all = try m.forward(TokenBatch(ids), logits: .all).logits
            let V = m.config.vocabSize
            // Prefill 5 tokens, then one token at a time.
            let cache = try m.makeCache(capacity: 32)
            let prefill = try m.forward(TokenBatch(Array(ids[0..<5])), cache: cache, logits: .last).logits
            XCTAssertTrue(compare(prefill, Array(all[(4 * V)..<(5 * V)]), atol: 1e-4).passed)
            for t in 5..<17 {
                let step = try m.forward(TokenBatch([ids[t]]), cache: cache, logits: .last).logits
                let r = compare(step, Array(all[(t * V)..<((t + 1) * V)]), atol: 1e-4, rtol: 1e-4)
                XCTAssertTrue(r.passed, "\(format) decode position \(t): \(r)")
            }
            XCTAssertEqual(cache.count, 17)
        }
    }

    func testGreedyIdsWithAndWithoutCacheAgree() throws {
        let m = try model(.q4_1)
        var withCache = tokens(4), without = tokens(4)
        let cache = try m.makeCache(capacity: 24)
        var logits = try m.forward(TokenBatch(withCache), cache: cache).logits
        for _ in 0..<12 {
            let next = Int32(topK(&logits, count: logits.count, k: 1)[0].index)
            withCache.append(next)
            logits = try m.forward(TokenBatch([next]), cache: cache).logits
            var full = try m.forward(TokenBatch(without)).logits
            without.append(Int32(topK(&full, count: full.count, k: 1)[0].index))
        }
        XCTAssertEqual(withCache, without)
    }

    func testCacheCapacityIsCheckedWithAClearError() throws {
        let m = try model()
        let cache = try m.makeCache(capacity: 4)
        _ = try m.forward(TokenBatch(tokens(3)), cache: cache)
        XCTAssertThrowsError(try m.forward(TokenBatch(tokens(2)), cache: cache)) { error in
            XCTAssertTrue((error as? ModelError)?.message.contains("context full: 5 positions needed, but the KV cache holds 4") == true, "\(error)")
        }
        XCTAssertEqual(cache.count, 3, "a refused call leaves the cache as it was")
        XCTAssertThrowsError(try m.makeCache(capacity: 65))
        XCTAssertThrowsError(try m.forward(TokenBatch([0, 67])))
        XCTAssertThrowsError(try m.forward(TokenBatch(tokens: [1, 2, 3], batchSize: 2, length: 2)))
    }

    func testPaddedBatchEqualsSequencesRunAlone() throws {
        let m = try model(.q4_1)
        let a = tokens(17, seed: 1), b = tokens(3, seed: 2), c = tokens(9, seed: 5)
        let V = m.config.vocabSize
        let batch = TokenBatch(padding: [a, b, c], with: 0)
        let result = try m.forward(batch, logits: .last, nll: true)
        for (i, s) in [a, b, c].enumerated() {
            let alone = try m.forward(TokenBatch(s), logits: .last, nll: true)
            XCTAssertTrue(compare(Array(result.logits[(i * V)..<((i + 1) * V)]), alone.logits, atol: 1e-4).passed, "sequence \(i) logits")
            let nll = Array(result.nll[(i * 16)..<(i * 16 + s.count - 1)])
            XCTAssertTrue(compare(nll, alone.nll, atol: 1e-4).passed, "sequence \(i) nll")
            XCTAssertTrue(result.nll[(i * 16 + s.count - 1)..<((i + 1) * 16)].allSatisfy { $0 == 0 }, "padding is not scored")
        }
        // Left padding: positions count real tokens only, so the result is the same.
        let left = TokenBatch(tokens: [0, 0] + b, batchSize: 1, length: 5, mask: [false, false, true, true, true])
        let leftResult = try m.forward(left, logits: .last, nll: true)
        let alone = try m.forward(TokenBatch(b), logits: .last, nll: true)
        XCTAssertTrue(compare(leftResult.logits, alone.logits, atol: 1e-4).passed, "left padding")
        XCTAssertTrue(compare(Array(leftResult.nll[2...]), alone.nll, atol: 1e-4).passed, "left padding nll")
    }

    func testNLLEqualsCrossEntropyOfFullLogits() throws {
        let m = try model(.q8_0)
        let ids = tokens(17)
        let r = try m.forward(TokenBatch(ids), logits: .all, nll: true)
        var targets = Array(ids[1...]) + [-1]
        var logits = r.logits
        let expected = FloatBuffer(count: 17)
        crossEntropyForwardNaive(&logits, rows: 17, vocab: 67, targets: &targets, into: expected.pointer)
        XCTAssertTrue(compare(r.nll, Array(expected.array[0..<16]), atol: 1e-4).passed)
    }

    func testCapturesNameShapeAndAgreeWithLogits() throws {
        let m = try model()
        let ids = tokens(5)
        let captures = ForwardCaptures(hooks: ["blocks.*.attn.hook_pattern", "blocks.1.hook_resid_post", "hook_embed"], lensTopK: 3)
        let plain = try m.forward(TokenBatch(ids), logits: .all)
        let r = try m.forward(TokenBatch(ids), logits: .all, captures: captures)
        XCTAssertEqual(plain.logits, r.logits, "capturing does not change the result")
        let pattern = try XCTUnwrap(captures["blocks.0.attn.hook_pattern"])
        XCTAssertEqual(pattern.shape, [1, 4, 5, 5])
        for row in 0..<20 {
            let sum = pattern.values[(row * 5)..<(row * 5 + 5)].reduce(0, +)
            XCTAssertEqual(sum, 1, accuracy: 1e-5)
        }
        XCTAssertEqual(pattern.values[1], 0, "causal: query 0 does not see key 1")
        XCTAssertNotNil(captures["blocks.1.attn.hook_pattern"])
        XCTAssertNil(captures["blocks.0.hook_resid_post"])
        XCTAssertEqual(captures["blocks.1.hook_resid_post"]?.shape, [1, 5, 64])
        XCTAssertEqual(captures["hook_embed"]?.shape, [1, 5, 64])
        // The last layer's lens is the model's own prediction.
        XCTAssertEqual(captures.lens.count, 2)
        var last = Array(r.logits[(4 * 67)...])
        XCTAssertEqual(captures.lens[1][4].first?.id, topK(&last, count: 67, k: 1)[0].index)
    }

    final class RecordingAdapter: ProjectionAdapter {
        var calls: [String] = []
        let bump: Float
        init(bump: Float) { self.bump = bump }
        func addDelta(layer: Int, projection: Projection, x: UnsafePointer<Float>, rows: Int, y: UnsafeMutablePointer<Float>, yStride: Int) {
            calls.append("\(layer).\(projection.rawValue) \(rows)×\(yStride)")
            for r in 0..<rows { y[r * yStride] += bump * x[r * 0] }
        }
    }

    func testAdapterSeesEveryProjectionAndChangesTheOutput() throws {
        let m = try model()
        let ids = tokens(3)
        let base = try m.forward(TokenBatch(ids), logits: .last).logits
        let zero = RecordingAdapter(bump: 0)
        XCTAssertEqual(try m.forward(TokenBatch(ids), logits: .last, adapter: zero).logits, base)
        XCTAssertEqual(zero.calls.count, 14)
        XCTAssertEqual(zero.calls.prefix(7), ["0.q 3×64", "0.k 3×32", "0.v 3×32", "0.o 3×64", "0.gate 3×96", "0.up 3×96", "0.down 3×64"])
        let bumped = try m.forward(TokenBatch(ids), logits: .last, adapter: RecordingAdapter(bump: 0.5)).logits
        XCTAssertFalse(compare(bumped, base, atol: 1e-3).passed)
    }

    func testKeptActivationsCoverEveryBlock() throws {
        let m = try model()
        let r = try m.forward(TokenBatch(tokens(7)), logits: .none, nll: true, keepActivations: true)
        XCTAssertEqual(r.activations.count, 2)
        XCTAssertEqual(r.activations[0].probabilities?.count, 4 * 7 * 7)
        XCTAssertEqual(r.finalResidual?.count, 7 * 64)
        XCTAssertEqual(r.nll.count, 6)
        XCTAssertTrue(r.logits.isEmpty)
        // Block 1's input is block 0's output.
        XCTAssertNotEqual(r.activations[1].input.array, r.activations[0].input.array)
    }
}
