import Foundation
import PersonaCore
import PersonaTensor
import PersonaModel
import PersonaTestSupport
import XCTest
@testable import PersonaTrain

/// The default model with PEFT's initial adapters from Tests/Golden (peft 0.21 on
/// transformers' float32 dequantization of the same GGUF): loss, the 420 per-tensor gradient
/// norms, the full gradient of one tensor, and the losses after three AdamW steps.
final class GoldenGradientTests: XCTestCase {
    func testLossGradientsAndAdamWMatchPEFT() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.golden("lora-grad-case.json")))
        let golden = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let ids = try XCTUnwrap(golden["ids"] as? [Int]).map(Int32.init)
        let model = try FrozenLlama.load(gguf: TestPaths.defaultModel)
        let config = try LoRAConfig(rank: 8, alpha: 16, dropout: 0, targets: LoRATarget.allCases)
        let adapter = LoRAAdapter(name: "golden", config: config, shape: model.shape)
        try AdapterFiles.fill(adapter, fromSafetensors: TestPaths.golden("lora-init.safetensors"))
        XCTAssertEqual(adapter.tensors.count, 420)

        let batch = try TrainingBatch(sequences: [ids])
        let graph = TrainingGraph(model: model, maxSequences: 1, maxLength: ids.count, rank: 8, threads: 2)
        adapter.zeroGradients()
        let (loss, _) = try graph.lossAndGradients(batch: batch, adapter: adapter)
        let expectedLoss = try XCTUnwrap(golden["loss"] as? Double)
        XCTAssertEqual(loss, expectedLoss, accuracy: 1e-4, "loss")

        // Every per-tensor gradient norm within 1e-3 relative.
        let norms = try XCTUnwrap(golden["grad_l2"] as? [String: Double])
        XCTAssertEqual(norms.count, 420)
        var worst = (name: "", ratio: 0.0, actual: 0.0, expected: 0.0)
        for e in adapter.tensors {
            let expected = try XCTUnwrap(norms[e.name], "golden lacks \(e.name)")
            let actual = adapter.gradientNorm(of: e)
            let relative = abs(actual - expected) / expected
            if relative > worst.ratio { worst = (e.name, relative, actual, expected) }
        }
        XCTAssertLessThanOrEqual(worst.ratio, 1e-3, "largest relative gradient-norm difference at \(worst.name): \(worst.actual) vs \(worst.expected)")
        let total = try XCTUnwrap(golden["grad_total_l2"] as? Double)
        XCTAssertEqual(adapter.gradientNorm(), total, accuracy: 1e-3 * total)

        // The full gradient of layers.0 q_proj lora_A within 1e-3 of its largest magnitude.
        let fullGrads = try XCTUnwrap(golden["full_grad"] as? [String: Any])
        let name = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"
        let entry = try XCTUnwrap(adapter.tensor(named: name))
        let expectedRows = try XCTUnwrap((fullGrads[name] as? [String: Any])?["values"] as? [[Double]])
        let expected = expectedRows.flatMap { $0 }
        let actual = (0..<entry.count).map { adapter.gradients[entry.offset + $0] }
        let largest = expected.map(abs).max() ?? 1
        let report = compare(actual, expected, atol: 1e-3 * largest)
        XCTAssertTrue(report.passed, "full gradient of \(name): \(report)")

        // Three AdamW steps (lr 1e-3, no weight decay) on the same text.
        let adamw = try XCTUnwrap(golden["adamw"] as? [String: Any])
        let expectedLosses = try XCTUnwrap(adamw["loss_after_steps"] as? [Double])
        let optimizer = AdamW(count: adapter.parameterCount, settings: AdamW.Settings(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0))
        var losses: [Double] = []
        for _ in 0..<3 {
            optimizer.update(parameters: adapter.parameters, gradients: adapter.gradients, lr: 1e-3)
            adapter.zeroGradients()
            let (l, _) = try graph.lossAndGradients(batch: batch, adapter: adapter)
            losses.append(l)
        }
        let lossReport = compare(losses, expectedLosses, atol: 1e-3)
        print("golden: loss \(loss) vs \(expectedLoss); worst grad-norm rel diff \(worst.ratio) at \(worst.name); full grad \(report.worstDifference / largest) of max; AdamW losses \(losses) vs \(expectedLosses)")
        XCTAssertTrue(lossReport.passed, "losses after 1, 2, 3 AdamW steps: \(losses) vs \(expectedLosses)")
    }
}

/// The frozen base seen through the model layer's loaded weights equals the one read from
/// the GGUF directly.
final class FrozenBaseBridgeTests: XCTestCase {
    func testLoadedModelAndGGUFGiveTheSameLosses() throws {
        let direct = try FrozenLlama.load(gguf: TestPaths.defaultModel)
        let loaded = try LoadedModel.open(path: TestPaths.defaultModel)
        let bridged = try FrozenLlama(model: loaded.model, source: "loaded")
        XCTAssertEqual(direct.shape, bridged.shape)
        let batch = try TrainingBatch(sequences: [[1, 4093, 198, 7356, 42, 359, 392, 1361]])
        let a = try TrainingGraph(model: direct, maxSequences: 1, maxLength: 8, rank: 1).tokenLosses(batch: batch, adapter: nil)
        let b = try TrainingGraph(model: bridged, maxSequences: 1, maxLength: 8, rank: 1).tokenLosses(batch: batch, adapter: nil)
        XCTAssertTrue(compare(b, a, atol: 1e-5).passed)
    }
}
