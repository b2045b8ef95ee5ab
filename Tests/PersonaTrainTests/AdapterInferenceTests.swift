import Foundation
import PersonaCore
import PersonaModel
import PersonaTestSupport
import XCTest
@testable import PersonaTrain

/// The adapter a run trains must drive generation: the inference forward pass with the
/// adapter as its projection hook gives the training graph's per-token losses.
final class AdapterInferenceTests: XCTestCase {
    func testInferenceWithAdapterMatchesTrainingGraphLosses() throws {
        let frozen = try FrozenLlama.load(gguf: TestPaths.defaultModel)
        let config = try LoRAConfig(rank: 4, alpha: 8, dropout: 0, targets: LoRATarget.allCases)
        var rng = SeededGenerator(seed: 11)
        let adapter = LoRAAdapter(name: "probe", config: config, shape: frozen.shape, rng: &rng)
        // PEFT starts B at zero (no effect); give B values so the adapter changes the losses.
        for e in adapter.tensors where e.name.hasSuffix("lora_B.weight") {
            for i in 0..<e.count { adapter.parameters[e.offset + i] = Float(rng.nextGaussian()) * 0.02 }
        }
        let ids: [Int32] = [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 2, 198]
        let graph = TrainingGraph(model: frozen, maxSequences: 1, maxLength: ids.count, rank: 4, threads: 2)
        let trained = try graph.tokenLosses(batch: try TrainingBatch(sequences: [ids]), adapter: adapter)

        let model = try LlamaModel.load(path: TestPaths.defaultModel, threads: 2)
        let withAdapter = try model.forward(TokenBatch(ids), logits: .none, nll: true, adapter: adapter).nll
        let without = try model.forward(TokenBatch(ids), logits: .none, nll: true).nll
        // The graph reports a loss slot per position (the last has no target); the model one per target.
        XCTAssertEqual(trained.count, ids.count)
        XCTAssertEqual(withAdapter.count, ids.count - 1)
        let report = compare(withAdapter, Array(trained.prefix(ids.count - 1)), atol: 1e-3)
        XCTAssertTrue(report.passed, "adapter at inference vs training graph: \(report)")
        // And the adapter really changes something, so the comparison above means something.
        XCTAssertGreaterThan(zip(withAdapter, without).map { abs($0 - $1) }.max() ?? 0, 1e-3)
    }
}
