import XCTest
import Foundation
import PersonaCore
import PersonaTensor
import PersonaModel
import PersonaTestSupport

/// The default model against Hugging Face transformers (float32, eager attention) on the
/// same GGUF: Tests/Golden/forward-cases.json. Tolerances are the issue's.
final class GoldenForwardTests: XCTestCase {
    struct Case {
        var id: String
        var ids: [Int32]
        var nll: [Double]
        var meanLoss: Double
        var top5: [Int]
        var fullLastLogits: [Double]?
        var attentionFirstLayerHead0: [[Double]]?
        var attentionLastLayerHead0: [[Double]]?
    }

    nonisolated(unsafe) static var cachedModel: LlamaModel?

    func loadModel() throws -> LlamaModel {
        if let m = Self.cachedModel { return m }
        let m = try LlamaModel.load(path: TestPaths.defaultModel, threads: 2)
        Self.cachedModel = m
        return m
    }

    /// A [query][key] matrix from JSON. Foundation on Linux reads `1.0` as an integer
    /// NSNumber, so rows are read through NSNumber rather than cast to [Double].
    static func matrix(_ value: Any?) -> [[Double]]? {
        guard let rows = value as? [Any] else { return nil }
        var out: [[Double]] = []
        for row in rows {
            guard let cells = row as? [Any] else { return nil }
            var values: [Double] = []
            for cell in cells {
                guard let n = cell as? NSNumber else { return nil }
                values.append(n.doubleValue)
            }
            out.append(values)
        }
        return out
    }

    func loadCases() throws -> [Case] {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.golden("forward-cases.json")))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        return try cases.map { c in
            Case(id: try XCTUnwrap(c["id"] as? String),
                 ids: try XCTUnwrap(c["ids"] as? [Int]).map { Int32($0) },
                 nll: try XCTUnwrap(c["nll"] as? [Double]),
                 meanLoss: try XCTUnwrap(c["mean_loss"] as? Double),
                 top5: try XCTUnwrap(c["top5_last"] as? [[Double]]).map { Int($0[0]) },
                 fullLastLogits: Self.matrix(c["full_last_logits"].map { [$0] })?.first,
                 attentionFirstLayerHead0: Self.matrix(c["attn_layer0_head0"]),
                 attentionLastLayerHead0: Self.matrix((c["attn_last_layer_head0"] as? [String: Any])?["probs"] ?? c["attn_last_layer_head0"]))
        }
    }

    func testLossesTopFiveAndLogitsMatchTransformers() throws {
        let model = try loadModel()
        var logitsCompared = 0, attentionMapsCompared = 0
        for c in try loadCases() {
            let lastLayer = model.config.nLayers - 1
            let captures = ForwardCaptures(hooks: ["blocks.0.attn.hook_pattern", "blocks.\(lastLayer).attn.hook_pattern"])
            let r = try model.forward(TokenBatch(c.ids), logits: .last, nll: true, captures: captures)
            let nll = compare(r.nll, c.nll, atol: 1e-3)
            XCTAssertTrue(nll.passed, "\(c.id) nll: \(nll)")
            let mean = Double(r.nll.reduce(0, +)) / Double(r.nll.count)
            XCTAssertEqual(mean, c.meanLoss, accuracy: 2e-4, "\(c.id) mean loss")
            var logits = r.logits
            XCTAssertEqual(topK(&logits, count: logits.count, k: 5).map(\.index), c.top5, "\(c.id) top-5 at the last position")
            if let expected = c.fullLastLogits {
                let diff = compare(r.logits, expected, atol: 2e-3)
                XCTAssertTrue(diff.passed, "\(c.id) last logits: \(diff)")
                logitsCompared += 1
            }
            let T = c.ids.count, H = model.config.nHeads
            for (layer, expected) in [(0, c.attentionFirstLayerHead0), (lastLayer, c.attentionLastLayerHead0)] {
                guard let expected else { continue }
                let pattern = try XCTUnwrap(captures["blocks.\(layer).attn.hook_pattern"])
                XCTAssertEqual(pattern.shape, [1, H, T, T])
                let head0 = Array(pattern.values[0..<(T * T)])
                let diff = compare(head0, expected.flatMap { $0 }, atol: 1e-4)
                XCTAssertTrue(diff.passed, "\(c.id) attention layer \(layer) head 0: \(diff)")
                attentionMapsCompared += 1
            }
        }
        // fwd-1 carries the full logits and two attention maps: none may be skipped unread.
        XCTAssertEqual(logitsCompared, 1, "full last-position logits were not read from the golden file")
        XCTAssertEqual(attentionMapsCompared, 2, "attention maps were not read from the golden file")
    }

    func testDecodeWithCacheMatchesBatchedAndGreedyAgrees() throws {
        let model = try loadModel()
        let c = try XCTUnwrap(try loadCases().first { $0.id == "fwd-1" })
        let V = model.config.vocabSize
        let all = try model.forward(TokenBatch(c.ids), logits: .all).logits
        let cache = try model.makeCache(capacity: 64)
        _ = try model.forward(TokenBatch(Array(c.ids[0..<4])), cache: cache)
        for t in 4..<c.ids.count {
            let step = try model.forward(TokenBatch([c.ids[t]]), cache: cache).logits
            let diff = compare(step, Array(all[(t * V)..<((t + 1) * V)]), atol: 1e-3)
            XCTAssertTrue(diff.passed, "decode position \(t): \(diff)")
        }
        // Greedy continuation, with and without the cache.
        var cached = c.ids, uncached = c.ids
        cache.reset()
        var logits = try model.forward(TokenBatch(cached), cache: cache).logits
        for _ in 0..<8 {
            let next = Int32(topK(&logits, count: V, k: 1)[0].index)
            cached.append(next)
            logits = try model.forward(TokenBatch([next]), cache: cache).logits
            var full = try model.forward(TokenBatch(uncached)).logits
            uncached.append(Int32(topK(&full, count: V, k: 1)[0].index))
        }
        XCTAssertEqual(cached, uncached)
    }

    /// `loss --json`'s path: text through the model's own tokenizer, then `tokenLosses`.
    func testTokenLossesOfTextsThroughTheTokenizer() throws {
        _ = try loadModel()
        let loaded = try LoadedModel.open(path: TestPaths.defaultModel, threads: 2)
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.golden("forward-cases.json")))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for c in try XCTUnwrap(root["cases"] as? [[String: Any]]).prefix(2) {
            let text = try XCTUnwrap(c["text"] as? String)
            let ids = loaded.tokenizer.encode(text, parseSpecialTokens: true)
            XCTAssertEqual(ids.map { Int($0) }, try XCTUnwrap(c["ids"] as? [Int]))
            let losses = try loaded.model.tokenLosses(ids, topK: 5)
            XCTAssertTrue(compare(losses.nll, try XCTUnwrap(c["nll"] as? [Double]), atol: 1e-3).passed)
            XCTAssertEqual(try XCTUnwrap(losses.mean), try XCTUnwrap(c["mean_loss"] as? Double), accuracy: 2e-4)
            XCTAssertEqual(losses.top.map(\.id), try XCTUnwrap(c["top5_last"] as? [[Double]]).map { Int($0[0]) })
        }
        XCTAssertTrue(try loaded.model.tokenLosses([]).nll.isEmpty)
        XCTAssertEqual(try loaded.model.tokenLosses([1]).top.count, 5)
    }

    func testDefaultModelStaysQuantizedInMemory() throws {
        let model = try loadModel()
        let formats = Dictionary(uniqueKeysWithValues: model.weights.formatCounts.map { ($0.format, $0.count) })
        XCTAssertEqual(formats["Q4_1"], 210)
        XCTAssertEqual(formats["Q8_0"], 1)
        XCTAssertEqual(model.weights.parameterCount, 134_515_008)
    }
}
