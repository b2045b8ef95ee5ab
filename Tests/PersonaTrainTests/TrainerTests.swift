import Foundation
import PersonaCore
import PersonaTestSupport
import XCTest
@testable import PersonaTrain

final class TrainerTests: XCTestCase {
    /// Sequences following a rule the random model does not know (next = previous + 3 mod V),
    /// the first half of each not counted by the loss.
    static func patternExamples(count: Int, length: Int, seed: UInt64) -> [TrainingExample] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            var t = Int32(rng.next() % 40)
            var tokens: [Int32] = []
            for _ in 0..<length { tokens.append(t); t = (t + 3) % 40 }
            return TrainingExample(tokens: tokens, counted: (0..<length).map { $0 >= length / 3 })
        }
    }

    func makeTrainer(steps: Int = 30, seed: UInt64 = 1) throws -> Trainer {
        let model = TinyModel.make()
        var rng = SeededGenerator(seed: seed)
        let adapter = LoRAAdapter(name: "a", config: try LoRAConfig(rank: 4, alpha: 8), shape: model.shape, rng: &rng)
        var s = TrainSettings()
        s.steps = steps; s.learningRate = 2e-2; s.batchSize = 4; s.schedule = .cosine; s.warmupSteps = 2
        s.evalEvery = 10; s.threads = 1
        return try Trainer(model: model, adapter: adapter, train: Self.patternExamples(count: 16, length: 12, seed: 3),
                           test: Self.patternExamples(count: 6, length: 12, seed: 4), settings: s)
    }

    func testThirtyStepsLowerTheHeldOutLoss() throws {
        let trainer = try makeTrainer()
        let before = try trainer.evaluate()
        XCTAssertEqual(before, try trainer.evaluate(useAdapter: false), accuracy: 1e-6, "B starts at zero")
        while !trainer.isFinished { try trainer.step() }
        let after = try trainer.evaluate()
        XCTAssertLessThan(after, before * 0.7, "held-out loss \(before) → \(after)")
        XCTAssertEqual(trainer.history.count, 30)
        XCTAssertNotNil(trainer.history[9].evalLoss)
        XCTAssertTrue(trainer.history.allSatisfy { $0.loss.isFinite && $0.gradientNorm.isFinite })
    }

    func testCheckpointResumesExactly() throws {
        let directory = try TestPaths.temporaryDirectory("train-ckpt")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let straight = try makeTrainer(steps: 8)
        for _ in 0..<8 { try straight.step() }
        let first = try makeTrainer(steps: 8)
        for _ in 0..<5 { try first.step() }
        let path = try first.saveCheckpoint(in: directory)
        XCTAssertEqual(Trainer.latestCheckpoint(in: directory), path)
        let mode = try FileManager.default.attributesOfItem(atPath: path + "/optimizer.safetensors")[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        let resumed = try makeTrainer(steps: 8, seed: 99) // different init: the checkpoint must overwrite it
        try resumed.restore(from: path)
        for _ in 0..<3 { try resumed.step() }
        XCTAssertEqual(resumed.completedSteps, 8)
        // Adapter values travel through the PEFT file (float32): resuming is bit-exact.
        let a = (0..<straight.adapter.parameterCount).map { straight.adapter.parameters[$0] }
        let b = (0..<resumed.adapter.parameterCount).map { resumed.adapter.parameters[$0] }
        XCTAssertEqual(a, b)
        XCTAssertEqual(straight.history.last?.loss, resumed.history.last?.loss)
    }

    func testScheduleShapes() {
        let cosine = LearningRateSchedule(kind: .cosine, peak: 1, warmupSteps: 4, totalSteps: 20)
        XCTAssertEqual(cosine.rate(at: 0), 0.2, accuracy: 1e-12)
        XCTAssertEqual(cosine.rate(at: 4), 1, accuracy: 1e-12)
        XCTAssertEqual(cosine.rate(at: 12), 0.5, accuracy: 1e-12)
        XCTAssertEqual(cosine.rate(at: 20), 0, accuracy: 1e-12)
        let linear = LearningRateSchedule(kind: .linear, peak: 2, warmupSteps: 0, totalSteps: 10)
        XCTAssertEqual(linear.rate(at: 5), 1, accuracy: 1e-12)
        XCTAssertEqual(LearningRateSchedule(kind: .constant, peak: 3, warmupSteps: 0, totalSteps: 10).rate(at: 9), 3)
    }

    func testAdamWMatchesTorchFormulaAndClipping() {
        // One coordinate by hand: torch.optim.AdamW(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
        // from θ=1 with g=0.5 then g=−0.25.
        let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1); p[0] = 1
        let g = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1); g[0] = 0.5
        defer { p.deallocate(); g.deallocate() }
        let opt = AdamW(count: 1, settings: AdamW.Settings(weightDecay: 0.1))
        opt.update(parameters: p, gradients: g, lr: 0.1)
        var theta = 1.0 * (1 - 0.01)
        var m = 0.05, v = 0.001 * 0.25
        theta -= 0.1 / (1 - 0.9) * m / ((v).squareRoot() / (1 - 0.999).squareRoot() + 1e-8)
        XCTAssertEqual(Double(p[0]), theta, accuracy: 1e-6)
        g[0] = -0.25
        opt.update(parameters: p, gradients: g, lr: 0.1)
        theta *= 0.99
        m = 0.9 * m + 0.1 * -0.25; v = 0.999 * v + 0.001 * 0.0625
        theta -= 0.1 / (1 - 0.81) * m / (v.squareRoot() / (1 - 0.999 * 0.999).squareRoot() + 1e-8)
        XCTAssertEqual(Double(p[0]), theta, accuracy: 1e-6)

        let grads = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2); grads[0] = 3; grads[1] = 4
        defer { grads.deallocate() }
        let norm = clipGradientNorm(grads, count: 2, maxNorm: 1)
        XCTAssertEqual(norm, 5, accuracy: 1e-9)
        XCTAssertEqual(Double(grads[0]), 0.6, accuracy: 1e-6)
        XCTAssertEqual(Double(grads[1]), 0.8, accuracy: 1e-6)
    }
}
