import Foundation
import XCTest
import PersonaCore
import PersonaModel
import PersonaText
import PersonaTestSupport
@testable import PersonaInspect

/// Inspection against a model: a tiny random Llama for every view, and the default model
/// (release builds) for the loss numbers.
final class ModelInspectionTests: XCTestCase {
    static let config = LlamaConfig(vocabSize: 67, dModel: 64, nLayers: 3, nHeads: 4, nKVHeads: 2, headDim: 16, dFF: 96,
                                    ropeTheta: 10_000, ropeDimensions: 16, rmsNormEps: 1e-5,
                                    contextLength: 64, tiedOutput: true)

    func tinyModel() throws -> LlamaModel {
        var rng = SeededGenerator(seed: 5)
        return try LlamaModel(config: Self.config, weights: .random(config: Self.config, scale: 0.2, using: &rng), threads: 2)
    }

    let ids: [Int32] = [3, 17, 42, 5, 66, 0, 9, 17, 23]
    func label(_ id: Int32) -> String { "t\(id)" }

    func testLossesEqualTheModelsPerTokenNLL() throws {
        let m = try tinyModel()
        let report = try ModelInspection.losses(m, ids: ids, topK: 3, label: label)
        let nll = try m.forward(TokenBatch(ids), logits: .none, nll: true).nll
        XCTAssertEqual(report.rows.count, ids.count)
        let close = compare(report.rows.dropFirst().map { $0.loss ?? .nan }, nll, atol: 1e-4, rtol: 1e-4)
        XCTAssertTrue(close.passed, close.description)
        XCTAssertEqual(report.meanLoss ?? 0, nll.reduce(0.0) { $0 + Double($1) } / Double(nll.count), accuracy: 1e-4)
        XCTAssertEqual(try ModelInspection.tokenLosses(m, ids: ids), nll)

        // The top alternative is the argmax of the logits, and probabilities fall.
        let logits = try m.forward(TokenBatch(ids), logits: .all).logits
        for row in report.rows.dropFirst() {
            let previous = logits[((row.position - 1) * 67)..<(row.position * 67)]
            XCTAssertEqual(Int(row.alternatives[0].id), previous.indices.max { previous[$0] < previous[$1] }.map { $0 - (row.position - 1) * 67 })
            XCTAssertEqual(row.alternatives.map(\.probability), row.alternatives.map(\.probability).sorted(by: >))
        }
    }

    func testMaskedChunkCountsOnlyMaskedTokens() throws {
        let m = try tinyModel()
        let mask = ids.indices.map { $0 >= 5 }
        let report = try ModelInspection.losses(m, ids: ids, mask: mask, label: label)
        let nll = try ModelInspection.tokenLosses(m, ids: ids)
        let counted = (5..<ids.count).map { Double(nll[$0 - 1]) }
        XCTAssertEqual(report.countedCount, counted.count)
        XCTAssertEqual(report.meanLoss ?? 0, counted.reduce(0, +) / Double(counted.count), accuracy: 1e-4)
        var tally = PerplexityTally()
        try tally.add(nll: nll, mask: mask)
        XCTAssertEqual(tally.meanLoss ?? 0, report.meanLoss ?? 1, accuracy: 1e-4)
    }

    func testAttentionRowsAreCausalProbabilities() throws {
        let m = try tinyModel()
        let p = try ModelInspection.attention(m, ids: ids, layer: 1, label: label)
        XCTAssertEqual(p.heads, 4)
        XCTAssertEqual(p.tokens, ids.map(label))
        for h in 0..<p.heads {
            for q in 0..<p.count {
                var sum: Float = 0
                for k in 0..<p.count {
                    let w = p.weight(head: h, query: q, key: k)
                    if k > q { XCTAssertEqual(w, 0, accuracy: 1e-7) } else { XCTAssertGreaterThanOrEqual(w, 0) }
                    sum += w
                }
                XCTAssertEqual(sum, 1, accuracy: 1e-4)
            }
        }
        XCTAssertEqual(AttentionRendering.grid(p, head: 0, window: 0..<p.count).count, p.count + 1)
        XCTAssertThrowsError(try ModelInspection.attention(m, ids: ids, layer: 3, label: label))
    }

    func testLensLastLayerPredictsWhatTheModelPredicts() throws {
        let m = try tinyModel()
        let lens = try ModelInspection.lens(m, ids: ids)
        XCTAssertEqual(lens.count, 3)
        let logits = try m.forward(TokenBatch(ids), logits: .all).logits
        for t in 0..<ids.count {
            let row = Array(logits[(t * 67)..<((t + 1) * 67)])
            XCTAssertEqual(Int(lens[2][t]), row.indices.max { row[$0] < row[$1] })
        }
        XCTAssertThrowsError(try ModelInspection.lens(m, ids: []))
    }

    /// The default model: the table's losses are the model's NLLs.
    func testDefaultModelLossesMatchTokenLosses() throws {
        let loaded = try LoadedModel.open(path: TestPaths.defaultModel)
        let ids = loaded.tokenizer.encode("The lighthouse keeper counted his candles.", parseSpecialTokens: true)
        let report = try ModelInspection.losses(loaded.model, ids: ids, label: { loaded.tokenizer.decode([$0]) })
        let reference = try loaded.model.tokenLosses(ids, topK: 5)
        let close = compare(report.rows.dropFirst().map { $0.loss ?? .nan }, reference.nll, atol: 2e-3, rtol: 1e-3)
        XCTAssertTrue(close.passed, close.description)
        XCTAssertEqual(report.meanLoss ?? 0, reference.mean ?? 1, accuracy: 2e-3)
        let lens = try ModelInspection.lens(loaded.model, ids: ids)
        XCTAssertEqual(lens.count, loaded.model.config.nLayers)
        let pattern = try ModelInspection.attention(loaded.model, ids: ids, layer: 5, label: { loaded.tokenizer.decode([$0]) })
        XCTAssertEqual(pattern.heads, loaded.model.config.nHeads)
    }

    /// The views against Hugging Face's numbers (Tests/Golden/forward-cases.json, case
    /// fwd-1): the table's losses, the top alternative at the end, and attention head 0 of
    /// the first and last layers as the grid shows it.
    func testDefaultModelViewsMatchTransformersGolden() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.golden("forward-cases.json")))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        let c = try XCTUnwrap(cases.first { $0["id"] as? String == "fwd-1" })
        let ids = try XCTUnwrap(c["ids"] as? [Int]).map { Int32($0) }
        let nll = try XCTUnwrap(c["nll"] as? [Double])
        let top5 = try XCTUnwrap(c["top5_last"] as? [[Double]]).map { Int32($0[0]) }
        let loaded = try LoadedModel.open(path: TestPaths.defaultModel)
        let label: (Int32) -> String = { loaded.tokenizer.decode([$0]) }

        let report = try ModelInspection.losses(loaded.model, ids: ids, label: label)
        let losses = compare(report.rows.dropFirst().map { $0.loss ?? .nan }, nll, atol: 1e-3)
        XCTAssertTrue(losses.passed, "losses: \(losses)")
        XCTAssertEqual(report.meanLoss ?? 0, try XCTUnwrap(c["mean_loss"] as? Double), accuracy: 2e-4)

        // The lens's last layer is the model's own prediction: its top token at the end is HF's top-1.
        let lens = try ModelInspection.lens(loaded.model, ids: ids)
        XCTAssertEqual(lens.last?.last, top5.first)

        let last = loaded.model.config.nLayers - 1
        for (layer, key) in [(0, "attn_layer0_head0"), (last, "attn_last_layer_head0")] {
            // Each number as NSNumber: Foundation on Linux reads "1.0" and "0.0" as integers,
            // so a plain `as? [[Double]]` of these rows fails.
            // The last layer's entry is {"layer": 29, "probs": [[…]]}, the first layer's the bare rows.
            let rows = try XCTUnwrap((c[key] as? [[Any]]) ?? ((c[key] as? [String: Any])?["probs"] as? [[Any]]), key)
            let expected = try rows.flatMap { row in try row.map { try XCTUnwrap(($0 as? NSNumber)?.doubleValue, key) } }
            let pattern = try ModelInspection.attention(loaded.model, ids: ids, layer: layer, label: label)
            let T = ids.count
            let head0 = (0..<(T * T)).map { pattern.weight(head: 0, query: $0 / T, key: $0 % T) }
            let diff = compare(head0, expected, atol: 1e-4)
            XCTAssertTrue(diff.passed, "attention layer \(layer) head 0: \(diff)")
        }
    }
}
