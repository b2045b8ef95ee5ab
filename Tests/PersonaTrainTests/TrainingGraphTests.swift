import Foundation
import PersonaCore
import PersonaTensor
import PersonaTestSupport
import XCTest
@testable import PersonaTrain

/// The assembled backward pass of a tiny random model against finite differences of a
/// Double-precision naive forward of the whole model.
final class TrainingGraphTests: XCTestCase {
    func makeBatch() throws -> TrainingBatch {
        // Two sequences of different length (the second right-padded), a mask that leaves
        // some tokens out of the loss.
        try TrainingBatch(sequences: [[1, 5, 9, 33, 2, 17, 4], [3, 8, 8, 21]],
                          counted: [[true, true, false, true, true, true, true], [true, true, true, true]])
    }

    func gradientCheck(dropout: Double, targets: [LoRATarget], recompute: Bool) throws {
        let model = TinyModel.make()
        var rng = SeededGenerator(seed: 11)
        let config = try LoRAConfig(rank: 3, alpha: 6, dropout: dropout, targets: targets)
        let adapter = LoRAAdapter(name: "t", config: config, shape: model.shape, rng: &rng)
        // B random (PEFT starts it at zero, which would leave A without gradient).
        for e in adapter.tensors where e.name.contains("lora_B") {
            for i in e.offset..<(e.offset + e.count) { adapter.parameters[i] = Float(rng.nextGaussian()) * 0.3 }
        }
        let batch = try makeBatch()
        let graph = TrainingGraph(model: model, maxSequences: 2, maxLength: 8, rank: 3, recompute: recompute, threads: 1)
        adapter.zeroGradients()
        let (loss, _) = try graph.lossAndGradients(batch: batch, adapter: adapter)
        let theta = (0..<adapter.parameterCount).map { adapter.parameters[$0] }
        let grads = (0..<adapter.parameterCount).map { adapter.gradients[$0] }
        if dropout == 0 {
            let expected = TinyModel.naiveLoss(model: model, adapter: adapter, theta: theta.map(Double.init), batch: batch)
            XCTAssertEqual(loss, expected, accuracy: 1e-5, "float graph loss vs double naive forward")
            checkGradient("whole-model LoRA gradient (targets \(targets.map(\.rawValue)), recompute \(recompute))",
                          input: theta, analytic: grads, samples: 64, h: 1e-4, atol: 2e-5, rtol: 2e-3, rng: &rng) {
                TinyModel.naiveLoss(model: model, adapter: adapter, theta: $0, batch: batch)
            }
        } else {
            // With dropout the masks come from the graph's seed: check against finite
            // differences of the graph itself (float, so looser).
            for _ in 0..<12 {
                let i = Int(rng.next() % UInt64(adapter.parameterCount))
                let saved = adapter.parameters[i], h: Float = 1e-2
                adapter.parameters[i] = saved + h
                let plus = try graph.tokenLosses(batch: batch, adapter: adapter, withDropout: true).reduce(0, +) / Float(batch.countedTokens)
                adapter.parameters[i] = saved - h
                let minus = try graph.tokenLosses(batch: batch, adapter: adapter, withDropout: true).reduce(0, +) / Float(batch.countedTokens)
                adapter.parameters[i] = saved
                let fd = (plus - minus) / (2 * h)
                XCTAssertEqual(grads[i], fd, accuracy: 2e-3 + 0.05 * abs(fd), "dropout gradient at \(i)")
            }
        }
    }

    func testWholeModelGradientAllTargets() throws {
        try gradientCheck(dropout: 0, targets: LoRATarget.allCases, recompute: false)
    }

    func testWholeModelGradientSomeTargetsWithRecomputation() throws {
        try gradientCheck(dropout: 0, targets: [.q, .v, .down], recompute: true)
    }

    func testWholeModelGradientWithDropout() throws {
        try gradientCheck(dropout: 0.2, targets: LoRATarget.allCases, recompute: false)
    }

    func testRecomputationGivesTheSameGradients() throws {
        let model = TinyModel.make()
        var rng = SeededGenerator(seed: 5)
        let adapter = LoRAAdapter(name: "t", config: try LoRAConfig(rank: 2), shape: model.shape, rng: &rng)
        for e in adapter.tensors where e.name.contains("lora_B") {
            for i in e.offset..<(e.offset + e.count) { adapter.parameters[i] = Float(rng.nextGaussian()) * 0.1 }
        }
        let batch = try makeBatch()
        var results: [[Float]] = []
        for recompute in [false, true] {
            let graph = TrainingGraph(model: model, maxSequences: 2, maxLength: 7, rank: 2, recompute: recompute)
            adapter.zeroGradients()
            _ = try graph.lossAndGradients(batch: batch, adapter: adapter)
            results.append((0..<adapter.parameterCount).map { adapter.gradients[$0] })
        }
        XCTAssertTrue(compare(results[1], results[0], atol: 1e-7, rtol: 1e-5).passed)
    }

    func testThreadsGiveTheSameGradients() throws {
        let model = TinyModel.make()
        var rng = SeededGenerator(seed: 6)
        let adapter = LoRAAdapter(name: "t", config: try LoRAConfig(rank: 2), shape: model.shape, rng: &rng)
        for e in adapter.tensors where e.name.contains("lora_B") {
            for i in e.offset..<(e.offset + e.count) { adapter.parameters[i] = Float(rng.nextGaussian()) * 0.1 }
        }
        let batch = try makeBatch()
        var results: [[Float]] = []
        for threads in [1, 2] {
            let graph = TrainingGraph(model: model, maxSequences: 2, maxLength: 7, rank: 2, threads: threads)
            adapter.zeroGradients()
            _ = try graph.lossAndGradients(batch: batch, adapter: adapter)
            results.append((0..<adapter.parameterCount).map { adapter.gradients[$0] })
        }
        XCTAssertTrue(compare(results[1], results[0], atol: 1e-6, rtol: 1e-4).passed)
    }

    func testForwardOnlyGraphGivesTheSameLosses() throws {
        let model = TinyModel.make()
        var rng = SeededGenerator(seed: 8)
        let adapter = LoRAAdapter(name: "t", config: try LoRAConfig(rank: 2), shape: model.shape, rng: &rng)
        for e in adapter.tensors where e.name.contains("lora_B") {
            for i in e.offset..<(e.offset + e.count) { adapter.parameters[i] = Float(rng.nextGaussian()) * 0.1 }
        }
        let batch = try makeBatch()
        let full = try TrainingGraph(model: model, maxSequences: 2, maxLength: 7, rank: 2).tokenLosses(batch: batch, adapter: adapter)
        let evaluation = TrainingGraph(model: model, maxSequences: 4, maxLength: 7, rank: 2, forwardOnly: true)
        XCTAssertEqual(try evaluation.tokenLosses(batch: batch, adapter: adapter), full)
        XCTAssertThrowsError(try evaluation.lossAndGradients(batch: batch, adapter: adapter))
    }

    func testPaddingDoesNotChangeRealTokens() throws {
        // A sequence alone and the same sequence beside a longer one (so it is padded) give the
        // same per-token losses.
        let model = TinyModel.make()
        let graph = TrainingGraph(model: model, maxSequences: 2, maxLength: 9, rank: 1)
        let alone = try graph.tokenLosses(batch: TrainingBatch(sequences: [[4, 7, 1, 30]]), adapter: nil)
        let padded = try graph.tokenLosses(batch: TrainingBatch(sequences: [[9, 9, 9, 9, 9, 9, 9, 9, 9], [4, 7, 1, 30]]), adapter: nil)
        XCTAssertTrue(compare(Array(padded[9..<13]), Array(alone[0..<4]), atol: 1e-5).passed)
    }
}
