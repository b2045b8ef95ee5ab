import Foundation
import PersonaCore
import PersonaStore
import PersonaTestSupport
import XCTest
@testable import PersonaTrain

/// Periodic checkpoints: what they hold, how a damaged or half-written one is passed over,
/// which are kept, and the lock that keeps two processes off one run.
final class CheckpointTests: XCTestCase {
    var directory = ""
    override func setUpWithError() throws { directory = try TestPaths.temporaryDirectory("checkpoints") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func makeTrainer(steps: Int = 9) throws -> Trainer {
        let model = TinyModel.make()
        var rng = SeededGenerator(seed: 5)
        let adapter = LoRAAdapter(name: "a", config: try LoRAConfig(rank: 4, alpha: 8, dropout: 0.1), shape: model.shape, rng: &rng)
        var s = TrainSettings()
        s.steps = steps; s.learningRate = 2e-2; s.batchSize = 3; s.warmupSteps = 1; s.threads = 1; s.seed = 0xFEDC_BA98_7654_3210
        s.weightDecay = 0.01
        // 10 examples in batches of 3: the data position crosses an epoch between checkpoints.
        return try Trainer(model: model, adapter: adapter, train: TrainerTests.patternExamples(count: 10, length: 12, seed: 3),
                           test: TrainerTests.patternExamples(count: 4, length: 12, seed: 4), settings: s)
    }

    func parameters(_ t: Trainer) -> [Float] { (0..<t.adapter.parameterCount).map { t.adapter.parameters[$0] } }

    func identity() -> RunIdentity {
        RunIdentity(run: 7, adapter: "a", modelPath: "/models/m.gguf", modelQuantization: "nf4", modelDigest: "sha256-sampled:00",
                    dataset: "chats", datasetDigest: "0123456789abcdef", saveEvery: "3,10m", keep: 2)
    }

    func testStateCarriesEverySettingAndTheRunIdentity() throws {
        let trainer = try makeTrainer()
        for _ in 0..<4 { try trainer.step() }
        let path = try trainer.saveCheckpoint(in: directory, identity: identity())
        XCTAssertEqual((path as NSString).lastPathComponent, "checkpoint-000004")
        let state = try CheckpointState.read(checkpoint: path)
        XCTAssertEqual(state.completedSteps, 4)
        XCTAssertEqual(state.adamStep, 4)
        XCTAssertEqual(state.epoch, 1, "12 examples drawn from 10")
        XCTAssertEqual(state.position, 2)
        XCTAssertEqual(state.seed, "18364758544493064720", "all 64 bits, as text")
        XCTAssertEqual(state.identity, identity())
        var expected = trainer.settings
        expected.warmupSteps = 1
        XCTAssertEqual(try state.settings(), expected)
        let text = try String(contentsOfFile: path + "/trainer_state.json", encoding: .utf8)
        XCTAssertTrue(text.contains("\"completed_steps\" : 4"), text)
        XCTAssertTrue(text.contains("\"model_digest\" : \"sha256-sampled:00\""), text)
    }

    /// A kill during a checkpoint write leaves a staging folder (or, on a disk that lost the
    /// write, a newest folder with a truncated file): the previous checkpoint still loads, and
    /// training from it gives the uninterrupted run's adapter.
    func testDamagedOrHalfWrittenNewestCheckpointFallsBackToThePrevious() throws {
        let straight = try makeTrainer()
        while !straight.isFinished { try straight.step() }

        let first = try makeTrainer()
        for step in 1...7 {
            try first.step()
            if step % 3 == 0 { try first.saveCheckpoint(in: directory) }
        }
        // Step 9's write, cut short in two ways.
        try first.step(); try first.step()
        let full = try first.saveCheckpoint(in: directory)
        let staging = directory + "/.checkpoint-000009.partial-99999"
        try FileManager.default.copyItem(atPath: full, toPath: staging)
        let weights = full + "/adapter_model.safetensors"
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: weights))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: weights))
        try Data(bytes.prefix(100)).write(to: URL(fileURLWithPath: staging + "/adapter_model.safetensors"))

        let resumed = try makeTrainer()
        let (path, skipped) = try resumed.restoreLatest(in: directory)
        XCTAssertEqual((path as NSString).lastPathComponent, "checkpoint-000006")
        XCTAssertEqual(skipped.map { ($0.path as NSString).lastPathComponent }, ["checkpoint-000009"])
        XCTAssertTrue(skipped.first?.reason.contains("adapter_model.safetensors") ?? false, skipped.first?.reason ?? "")
        XCTAssertEqual(resumed.completedSteps, 6)
        while !resumed.isFinished { try resumed.step() }
        XCTAssertEqual(parameters(resumed), parameters(straight))

        Checkpoints.removeStaging(in: directory)
        XCTAssertFalse(FileManager.default.fileExists(atPath: staging))
    }

    func testAFailedRestoreLeavesTheTrainerAsItWas() throws {
        let trainer = try makeTrainer()
        for _ in 0..<2 { try trainer.step() }
        let path = try trainer.saveCheckpoint(in: directory)
        try trainer.step()
        let before = parameters(trainer)
        try "{\"format\": 2, \"completed_steps\": 2}".write(toFile: path + "/trainer_state.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try trainer.restore(from: path)) {
            XCTAssertTrue(describeError($0).hasPrefix(path + "/trainer_state.json: is not a checkpoint state of format 2 (no "), describeError($0))
        }
        XCTAssertEqual(parameters(trainer), before)
        XCTAssertEqual(trainer.completedSteps, 3)

        // A checkpoint of other settings is refused rather than silently mixed in.
        let other = try makeTrainer(steps: 20)
        XCTAssertThrowsError(try other.restore(from: try trainer.saveCheckpoint(in: directory + "/b"))) {
            XCTAssertTrue(describeError($0).contains("was written with other settings"), describeError($0))
        }
    }

    func testOnlyTheNewestAndTheBestAreKept() throws {
        let trainer = try makeTrainer()
        for step in 1...9 {
            try trainer.step()
            if step == 2 { try trainer.saveCheckpoint(in: directory); try "checkpoint-000002\n".write(toFile: directory + "/best", atomically: true, encoding: .utf8) }
            if step % 3 == 0 { try trainer.saveCheckpoint(in: directory) }
            Checkpoints.prune(in: directory, keep: 2)
        }
        XCTAssertEqual(Checkpoints.list(in: directory).map(\.step), [2, 6, 9])
        XCTAssertEqual(Trainer.latestCheckpoint(in: directory), directory + "/checkpoint-000009")
    }

    func testSaveEveryParsesStepsTimesAndBoth() throws {
        XCTAssertEqual(try CheckpointPolicy.parse("50", keep: 3), CheckpointPolicy(everySteps: 50, everySeconds: nil, keep: 3))
        XCTAssertEqual(try CheckpointPolicy.parse("10m", keep: 3), CheckpointPolicy(everySteps: nil, everySeconds: 600, keep: 3))
        XCTAssertEqual(try CheckpointPolicy.parse("50,10m", keep: 1), CheckpointPolicy(everySteps: 50, everySeconds: 600, keep: 1))
        XCTAssertEqual(try CheckpointPolicy.parse("90s", keep: 3).everySeconds, 90)
        XCTAssertEqual(try CheckpointPolicy.parse("2h", keep: 3).everySeconds, 7200)
        XCTAssertEqual(try CheckpointPolicy.parse("0", keep: 3), CheckpointPolicy(everySteps: nil, everySeconds: nil, keep: 3))
        XCTAssertEqual(try CheckpointPolicy.parse("50,10m", keep: 3).summary, "every 50 steps or 10 min")
        XCTAssertEqual(try CheckpointPolicy.parse("0", keep: 3).summary, "at the end only")
        for bad in ["", "-5", "10x", "5,6", "1m,2m", "m"] {
            XCTAssertThrowsError(try CheckpointPolicy.parse(bad, keep: 3), bad) {
                XCTAssertTrue(describeError($0).hasPrefix("save_every=\(bad) is not valid; expected a step count (50)"), describeError($0))
            }
        }
        XCTAssertThrowsError(try CheckpointPolicy.parse("5", keep: 0)) { XCTAssertTrue(describeError($0).hasPrefix("keep=0 is not valid")) }

        let both = try CheckpointPolicy.parse("50,10m", keep: 3)
        XCTAssertFalse(both.isDue(step: 49, lastSavedStep: 0, secondsSinceSave: 599))
        XCTAssertTrue(both.isDue(step: 50, lastSavedStep: 0, secondsSinceSave: 1))
        XCTAssertTrue(both.isDue(step: 12, lastSavedStep: 10, secondsSinceSave: 600))
        XCTAssertFalse(both.isDue(step: 10, lastSavedStep: 10, secondsSinceSave: 6000), "nothing new to save")
    }

    func testTwoClaimsOnOneRun() throws {
        let run = directory + "/run-1"
        XCTAssertFalse(RunLock.holder(directory: run).held)
        let lock = try RunLock.acquire(directory: run, run: 1)
        let holder = RunLock.holder(directory: run)
        XCTAssertTrue(holder.held)
        XCTAssertEqual(holder.pid, getpid())
        XCTAssertThrowsError(try RunLock.acquire(directory: run, run: 1)) {
            XCTAssertEqual(describeError($0), "run 1 is being trained by another session of this process (\(getpid())); wait for it to finish or stop it first")
        }
        lock.release()
        XCTAssertFalse(RunLock.holder(directory: run).held)
        XCTAssertNoThrow(try RunLock.acquire(directory: run, run: 1).release())
    }

    func testModelDigestSamplesLargeFilesAndSeesAChange() throws {
        let small = directory + "/small.bin", large = directory + "/large.bin"
        try Data((0..<1000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: small))
        // python3 -c "import hashlib; print(hashlib.sha256(b'size 1000\\n'+bytes(i%251 for i in range(1000))).hexdigest())"
        XCTAssertEqual(try ModelDigest.of(path: small), "sha256-sampled:1111d86440673c58a30ec12162c0c04a5d28cd9dd7b222e2009aa0539a3d064c")
        var bytes = [UInt8](repeating: 7, count: (16 << 20) + 12345)
        try Data(bytes).write(to: URL(fileURLWithPath: large))
        let before = try ModelDigest.of(path: large)
        bytes[bytes.count - 1] = 8   // the last byte is always in the last slice
        try Data(bytes).write(to: URL(fileURLWithPath: large))
        XCTAssertNotEqual(try ModelDigest.of(path: large), before)
        XCTAssertThrowsError(try ModelDigest.of(path: directory + "/none")) {
            XCTAssertEqual(describeError($0), directory + "/none: does not exist")
        }
    }

    /// A long import in another process holds the database past the busy timeout: the trainer
    /// keeps its steps in memory and writes them with the next step that gets through.
    func testStepsWaitWhileAnotherConnectionHoldsTheDatabase() throws {
        let path = directory + "/persona.db"
        let store = try RunStore(database: try Database(path: path))
        let run = try store.startRun(adapter: "a", dataset: "d", model: "m", settings: TrainSettings())
        func metrics(_ step: Int) -> StepMetrics {
            StepMetrics(step: step, loss: 2, learningRate: 1e-3, gradientNorm: 1, tokens: 10, countedTokens: 5, seconds: 0.1, evalLoss: nil)
        }
        let importer = try Database(path: path)
        try importer.execute("BEGIN IMMEDIATE")
        XCTAssertFalse(try store.record(run: run, metrics(1)), "busy: kept for later")
        XCTAssertEqual(store.pendingSteps.map(\.step), [1])
        try importer.execute("COMMIT")
        XCTAssertTrue(try store.record(run: run, metrics(2)))
        XCTAssertEqual(store.pendingSteps.count, 0)
        XCTAssertEqual(try store.curve(run: run).map(\.step), [1, 2])
        XCTAssertEqual(try store.run(run)?.stepsDone, 2)
    }
}
