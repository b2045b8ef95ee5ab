import Foundation
import PersonaCore
import PersonaData
import PersonaStore
import PersonaTestSupport
import XCTest
@testable import PersonaSession

/// Training that survives its process: a `persona` trainer killed with SIGKILL between
/// checkpoints is resumed by `train continue` in a new process and ends with the adapter an
/// uninterrupted run gives; meanwhile the run's status is honest and nobody else trains it.
final class DurableTrainingTests: XCTestCase {
    var directory = ""
    var workspace: String { directory + "/ws" }
    var model: String { directory + "/tiny-f16.gguf" }

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("durable")
        try QuantizedBaseTests.writeTinyFloatModel(to: model)
        // The dataset is built in this process: it needs the default model's tokenizer, found
        // from the package root.
        _ = try QuantizedBaseTests.tinyDemoSession(directory: directory, workspace: workspace, output: CapturedOutput())
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    struct Finished { var status: Int32; var stdout: String; var stderr: String }

    func launch(_ commands: String, environment extra: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ProcessTests.personaBinary())
        process.arguments = ["--workspace", workspace, "-c", commands]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        process.standardInput = FileHandle.nullDevice
        // Files rather than pipes: a stopped process must not hold a pipe the test waits on.
        let tag = UUID().uuidString
        FileManager.default.createFile(atPath: directory + "/\(tag).out", contents: nil)
        FileManager.default.createFile(atPath: directory + "/\(tag).err", contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: directory + "/\(tag).out")
        process.standardError = FileHandle(forWritingAtPath: directory + "/\(tag).err")
        outputs[ObjectIdentifier(process)] = tag
        try process.run()
        return process
    }

    var outputs: [ObjectIdentifier: String] = [:]

    func finish(_ process: Process) -> Finished {
        process.waitUntilExit()
        let tag = outputs[ObjectIdentifier(process)] ?? ""
        func read(_ suffix: String) -> String { (try? String(contentsOfFile: directory + "/\(tag).\(suffix)", encoding: .utf8)) ?? "" }
        return Finished(status: process.terminationStatus, stdout: read("out"), stderr: read("err"))
    }

    func persona(_ commands: String) throws -> Finished { finish(try launch(commands)) }

    /// Waits until `pid` is stopped (state T in /proc/PID/stat); fails if it exits first.
    func waitUntilStopped(_ process: Process) throws {
        let deadline = monotonicSeconds() + 300
        while monotonicSeconds() < deadline {
            guard process.isRunning else {
                let f = finish(process)
                XCTFail("the trainer exited (\(f.status)) before pausing: \(f.stdout)\n\(f.stderr)")
                throw CancellationError()
            }
            if let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
               let close = stat.lastIndex(of: ")"),
               stat[stat.index(close, offsetBy: 2)] == "T" {
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("the trainer never paused")
        throw CancellationError()
    }

    func adapterBytes(_ folder: String) throws -> Data {
        try XCTUnwrap(FileManager.default.contents(atPath: folder + "/adapter_model.safetensors"), "no adapter in \(folder)")
    }

    func checkpointSteps(run: Int) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: workspace + "/runs/run-\(run)")) ?? []
        return names.filter { $0.hasPrefix("checkpoint-") }.compactMap { Int($0.dropFirst("checkpoint-".count)) }.sorted()
    }

    var trainLines: String {
        "set seed=42 threads=2; adapter sam rank=4 alpha=8 targets=q,v model=\(model); train tiny steps=10 batch=2 lr=1e-3 save_every=3"
    }

    func testKilledTrainerResumesInANewProcessToTheSameAdapter() throws {
        // Killed at step 8, two steps after its checkpoint at 6 (save_every=3: 0, 3, 6).
        let trainer = try launch(trainLines, environment: ["PERSONA_TRAIN_PAUSE_AT_STEP": "8"])
        try waitUntilStopped(trainer)
        let pid = trainer.processIdentifier

        // While it holds the run: the status says so, a second trainer is refused with one
        // line, and other commands (a write: a dataset build; a read: people) keep working.
        let during = try persona("runs")
        XCTAssertEqual(during.status, 0, during.stderr)
        XCTAssertTrue(during.stdout.contains("running (pid \(pid))"), during.stdout)
        XCTAssertTrue(during.stdout.contains("8/10"), during.stdout)
        let second = try persona("train continue")
        XCTAssertEqual(second.status, 1)
        XCTAssertEqual(second.stderr, "persona: train continue: run 1 is being trained by process \(pid); wait for it to finish or stop it first\n")
        let other = try persona("people min=1; dataset build other format=transcript max_tokens=64 min_messages=40 since=2024-11-20 model=\(TestPaths.defaultModel); dataset list")
        XCTAssertEqual(other.status, 0, other.stderr)
        XCTAssertTrue(other.stdout.contains("other"), other.stdout)

        kill(pid, SIGKILL)
        let killed = finish(trainer)
        XCTAssertEqual(killed.status, SIGKILL)
        XCTAssertEqual(checkpointSteps(run: 1), [0, 3, 6])

        let after = try persona("runs")
        XCTAssertTrue(after.stdout.contains("interrupted at step 8 (last checkpoint at 6)"), after.stdout)
        XCTAssertFalse(after.stdout.contains("running"), after.stdout)

        // A new process resumes from step 6 (at most save_every = 3 steps lost) and finishes.
        let resumed = try persona("train continue; adapter save sam \(directory)/resumed; runs")
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resumed from checkpoint-000006 (step 6 of 10, redoing steps 7–8)"), resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("finished 10 steps"), resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("10/10  finished"), resumed.stdout)

        // The same recipe, never interrupted (run 2), ends with the same adapter, bit for bit.
        let straight = try persona(trainLines + "; adapter save sam \(directory)/straight")
        XCTAssertEqual(straight.status, 0, straight.stderr)
        XCTAssertTrue(straight.stdout.contains("checkpoints: \(workspace)/runs/run-2 (every 3 steps"), straight.stdout)
        XCTAssertEqual(try adapterBytes(directory + "/resumed"), try adapterBytes(directory + "/straight"))
        // Both runs recorded the same losses for steps 7 to 10 (the redone steps replaced the lost ones).
        let curves = try persona("train curve 1 --svg \(directory)/1.svg; train curve 2 --svg \(directory)/2.svg")
        XCTAssertTrue(curves.stdout.contains("wrote \(directory)/1.svg (10 steps)"), curves.stdout)
        XCTAssertEqual(checkpointSteps(run: 2), [6, 9, 10], "keep=3 newest")
    }

    /// Killed while writing checkpoint 9 (a staging folder is left), on a disk that also lost
    /// part of checkpoint 6: the run resumes from checkpoint 3 and still ends on the same adapter.
    func testAHalfWrittenCheckpointIsPassedOver() throws {
        let trainer = try launch(trainLines, environment: ["PERSONA_TRAIN_PAUSE_AT_STEP": "8"])
        try waitUntilStopped(trainer)
        kill(trainer.processIdentifier, SIGKILL)
        _ = finish(trainer)
        let run = workspace + "/runs/run-1"
        let optimizer = run + "/checkpoint-000006/optimizer.safetensors"
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: optimizer))
        try bytes.prefix(bytes.count - 10).write(to: URL(fileURLWithPath: optimizer))
        try FileManager.default.createDirectory(atPath: run + "/.checkpoint-000009.partial-1", withIntermediateDirectories: false)
        try Data(bytes.prefix(64)).write(to: URL(fileURLWithPath: run + "/.checkpoint-000009.partial-1/optimizer.safetensors"))

        let resumed = try persona("train continue 1; adapter save sam \(directory)/resumed")
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("skipped checkpoint-000006: \(optimizer):"), resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("resumed from checkpoint-000003 (step 3 of 10, redoing steps 4–8)"), resumed.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/.checkpoint-000009.partial-1"), "staging left by the killed writer is cleared")
        let straight = try persona(trainLines + "; adapter save sam \(directory)/straight")
        XCTAssertEqual(straight.status, 0, straight.stderr)
        XCTAssertEqual(try adapterBytes(directory + "/resumed"), try adapterBytes(directory + "/straight"))
    }

    func testResumeRefusesAChangedModelOrDataset() throws {
        let trainer = try launch(trainLines, environment: ["PERSONA_TRAIN_PAUSE_AT_STEP": "4"])
        try waitUntilStopped(trainer)
        kill(trainer.processIdentifier, SIGKILL)
        _ = finish(trainer)

        // Another model at the same path.
        let original = try XCTUnwrap(FileManager.default.contents(atPath: model))
        try QuantizedBaseTests.writeTinyFloatModel(to: model, dFF: 64)
        let changedModel = try persona("train continue 1")
        XCTAssertEqual(changedModel.status, 1)
        XCTAssertTrue(changedModel.stderr.hasPrefix("persona: train continue: the base model \(model) has changed since run 1 started (digest sha256-sampled:"),
                      changedModel.stderr)
        XCTAssertEqual(changedModel.stderr.filter { $0 == "\n" }.count, 1, changedModel.stderr)
        try FileManager.default.removeItem(atPath: model)
        let missing = try persona("train continue 1")
        XCTAssertEqual(missing.stderr, "persona: train continue: run 1's base model \(model) is missing; put it back at that path to continue\n")
        try original.write(to: URL(fileURLWithPath: model))

        // The dataset rebuilt differently under the same name, then gone.
        let bench = Workbench(workspacePath: workspace, output: CapturedOutput())
        try bench.execute(line: "dataset build tiny format=transcript max_tokens=48 min_messages=40 since=2024-11-20 imitate=me test_fraction=0.3")
        let changedData = try persona("train continue 1")
        XCTAssertEqual(changedData.status, 1)
        XCTAssertTrue(changedData.stderr.hasPrefix("persona: train continue: dataset 'tiny' has changed since run 1 started"), changedData.stderr)
        try DatasetStore(database: try Database(path: workspace + "/persona.db")).delete("tiny")
        let gone = try persona("train continue 1")
        XCTAssertTrue(gone.stderr.hasPrefix("persona: train continue: run 1's dataset 'tiny' cannot be loaded from the workspace"), gone.stderr)
        // Refusals leave the run as it was: interrupted, resumable once the dataset is back.
        let runs = try persona("runs")
        XCTAssertTrue(runs.stdout.contains("interrupted at step 4 (last checkpoint at 3)"), runs.stdout)
    }
}
