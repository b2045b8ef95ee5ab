import Foundation
import XCTest
import PersonaCore
import PersonaData
@testable import PersonaSession
import PersonaTestSupport

/// What a new user expects of a session (issue 15): the model just loaded is the one used,
/// `model=` takes a name or a path, inspection scores the model as it now is, global options
/// anywhere, read-only commands create nothing, recordings that replay on their own.
final class SessionDefaultsTests: XCTestCase {
    var directory = ""
    var out = CapturedOutput()

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("session-defaults")
        out = CapturedOutput()
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func makeBench() -> Workbench {
        let bench = Workbench(workspacePath: directory + "/ws", output: out)
        bench.diagnostics = CapturedOutput()
        return bench
    }

    /// Two tiny float models with the default model's tokenizer (fast to load and train).
    func tinyModels() throws -> (String, String) {
        let a = directory + "/tiny-a.gguf", b = directory + "/tiny-b.gguf"
        try QuantizedBaseTests.writeTinyFloatModel(to: a)
        try QuantizedBaseTests.writeTinyFloatModel(to: b, dFF: 96)
        return (a, b)
    }

    /// The first line of a command's output.
    func header(_ bench: Workbench, _ line: String) throws -> String {
        _ = out.take()
        try bench.execute(line: line)
        return SessionFile.lines(of: out.take()).first ?? ""
    }

    /// The mean loss `loss` prints for a text.
    func meanLoss(_ bench: Workbench, _ line: String) throws -> String {
        _ = out.take()
        try bench.execute(line: line + " view=map")
        return try XCTUnwrap(SessionFile.lines(of: out.take()).last { $0.hasPrefix("mean loss") })
    }

    // Row 1: the model loaded last (or chosen with `model use`) is what model= defaults to,
    // and an adapter made without model= is made on it.
    func testTheModelLoadedLastIsTheSessionsModel() throws {
        let (a, b) = try tinyModels()
        let bench = makeBench()
        // No default model to fall back on: what runs below runs on the session's model.
        let configured = ProcessInfo.processInfo.environment["PERSONA_MODEL"]
        setenv("PERSONA_MODEL", directory + "/no-default-model.gguf", 1)
        defer { if let configured { setenv("PERSONA_MODEL", configured, 1) } else { unsetenv("PERSONA_MODEL") } }
        XCTAssertThrowsError(try bench.execute(line: "loss \"hello there\""))
        try bench.execute(line: "demo-data \(directory)/exports; import \(directory)/exports me=\"Sam Rivera\" timezone=UTC")
        try bench.execute(line: "model base \(a)")
        for line in ["generate as=\"Sam Rivera\" with=\"Alex Chen\" turns=1 --nosave", "complete \"hello\" --nosave",
                     "chat as=\"Alex Chen\" with=\"Sam Rivera\" say=hi", "tokenize hello",
                     "dataset build d format=transcript max_tokens=64 min_messages=40 since=2024-11-20 imitate=me"] {
            XCTAssertNoThrow(try bench.execute(line: line), line)
        }
        XCTAssertEqual(try header(bench, "loss \"hello there\""), "model base, no adapter")
        try bench.execute(line: "model other \(b)")
        XCTAssertEqual(try header(bench, "lens \"hello there\""), "model other, no adapter")
        try bench.execute(line: "model use base")
        XCTAssertEqual(try header(bench, "attention \"hello there\" head=all"), "model base, no adapter")
        try bench.execute(line: "adapter ed rank=2 targets=q,v")
        _ = out.take()
        try bench.execute(line: "show ed")
        XCTAssertTrue(out.take().contains("model: base"))
        // The adapter's base, not the session's model, when the adapter is chosen.
        try bench.execute(line: "model use other")
        XCTAssertTrue(out.take().contains("adapter ed is no longer active: it was made for base"))
        XCTAssertEqual(try header(bench, "loss \"hello there\""), "model other, no adapter")
        XCTAssertEqual(try header(bench, "loss \"hello there\" adapter=ed"), "model base, adapter ed")
        XCTAssertThrowsError(try bench.execute(line: "loss hi adapter=ed model=other")) {
            XCTAssertTrue(describeError($0).contains("adapter ed was made for base, not other"), describeError($0))
        }
        XCTAssertThrowsError(try bench.execute(line: "model use nothing")) {
            XCTAssertEqual($0 as? CommandError, .noSuchObject(name: "nothing", kind: .model))
        }
    }

    // Row 2: model= is a session name or a path, in every command that takes it.
    func testModelTakesASessionNameOrAPathEverywhere() throws {
        let (a, _) = try tinyModels()
        let bench = makeBench()
        try bench.execute(line: "model base \(a)")
        XCTAssertEqual(try header(bench, "loss \"hello there\" model=\(a)"), "model \(a), no adapter")
        XCTAssertEqual(try meanLoss(bench, "loss \"hello there\" model=\(a)"), try meanLoss(bench, "loss \"hello there\" model=base"))
        XCTAssertNoThrow(try bench.execute(line: "tokenize \"hello there\" model=base"))
        XCTAssertNoThrow(try bench.execute(line: "model info base"))
        try bench.execute(line: "demo-data \(directory)/exports; import \(directory)/exports me=\"Sam Rivera\" timezone=UTC")
        try bench.execute(line: "dataset build d format=transcript max_tokens=64 min_messages=40 since=2024-11-20 imitate=me model=base")
        try bench.execute(line: "dataset build e format=transcript max_tokens=64 min_messages=40 since=2024-11-20 imitate=me model=\(a)")
        XCTAssertThrowsError(try bench.execute(line: "tokenize hi model=nowhere.gguf")) {
            XCTAssertTrue(describeError($0).contains("model=nowhere.gguf: no model named 'nowhere.gguf' in the session and no file or folder at that path (session models: base)"),
                          describeError($0))
        }
        XCTAssertThrowsError(try bench.execute(line: "loss hi model=d")) {
            XCTAssertTrue(describeError($0).contains("'d' is a dataset, not a model"), describeError($0))
        }
    }

    /// Details of the progress lines a command drew.
    final class RecordedProgress: ProgressReporter {
        var details: [String] = []
        func begin(_ label: String, total: Int?, unit: String) {}
        func advance(to done: Int, detail: String?) { if let detail { details.append(detail) } }
        func finish() {}
    }

    // Row 3: after training, inspection scores the model with the active adapter; adapter=none
    // scores the base alone, and each output names what it scored. (Also: one ETA.)
    func testInspectionScoresTheModelAsItNowIs() throws {
        let (a, _) = try tinyModels()
        let bench = makeBench()
        for line in [
            "set seed=42 threads=2",
            "demo-data \(directory)/exports",
            "import \(directory)/exports me=\"Sam Rivera\" timezone=UTC",
            "model base \(a)",
            "dataset build d format=transcript max_tokens=64 min_messages=40 since=2024-11-20 imitate=me test_fraction=0.3",
            "adapter ed rank=4 alpha=8 targets=q,k,v,o",
        ] { try bench.execute(line: line) }
        let text = "loss \"Alex Chen: omg tacos rn\""
        let before = try meanLoss(bench, text)
        let chunkBefore = try meanLoss(bench, "loss d[0]")
        let progress = RecordedProgress()
        bench.progress = progress
        try bench.execute(line: "train d steps=6 batch=2 lr=5e-2")
        XCTAssertFalse(progress.details.isEmpty)
        XCTAssertFalse(progress.details.contains { $0.contains("ETA") }, "the progress line computes the one ETA")
        // Trained, the adapter carries its dataset's format.
        let trained = try XCTUnwrap(bench.existingState(SessionModelState.self)?.trainedOn["ed"])
        XCTAssertEqual(trained.dataset, "d")
        XCTAssertEqual(trained.parameters.format, .transcript)
        _ = out.take()
        try bench.execute(line: "show ed")
        XCTAssertTrue(out.take().contains("trained on: d (format transcript)"))

        XCTAssertEqual(try header(bench, text), "model base, adapter ed")
        XCTAssertNotEqual(try meanLoss(bench, text), before)
        XCTAssertNotEqual(try meanLoss(bench, "loss d[0]"), chunkBefore)
        XCTAssertEqual(try meanLoss(bench, text + " adapter=none"), before)
        XCTAssertEqual(try header(bench, text + " adapter=none"), "model base, no adapter")
        XCTAssertEqual(try meanLoss(bench, text + " adapter=ed"), try meanLoss(bench, text))

        _ = out.take()
        try bench.execute(line: "perplexity d limit=3")
        let withAdapter = out.take()
        try bench.execute(line: "perplexity d limit=3 adapter=none")
        let alone = out.take()
        XCTAssertTrue(withAdapter.contains("model base, adapter ed"), withAdapter)
        XCTAssertTrue(alone.contains("model base, no adapter"), alone)
        XCTAssertNotEqual(withAdapter.split(separator: "\n").last, alone.split(separator: "\n").last)
        XCTAssertEqual(try header(bench, "lens \"omg tacos\" adapter=none"), "model base, no adapter")
    }

    // Row 4: --workspace anywhere on the line; `--` keeps a literal one.
    func testWorkspaceOptionAnywhereOnTheLine() {
        var words = ["people", "--workspace", "ws"]
        XCTAssertEqual(Launcher.extractWorkspace(&words).found, "ws")
        XCTAssertEqual(words, ["people"])
        words = ["--workspace=a", "loss", "hi", "--workspace=b", "--json"]
        XCTAssertEqual(Launcher.extractWorkspace(&words).found, "b")
        XCTAssertEqual(words, ["loss", "hi", "--json"])
        words = ["echo", "--", "--workspace", "x"]
        XCTAssertNil(Launcher.extractWorkspace(&words).found)
        XCTAssertEqual(words, ["echo", "--", "--workspace", "x"])
        words = ["people", "--workspace"]
        XCTAssertTrue(Launcher.extractWorkspace(&words).incomplete)
        XCTAssertNotNil(CommandTable.command(named: "exit"))
    }

    // Row 5: a command that only reads says there is no workspace, and creates none.
    func testReadOnlyCommandsDoNotCreateAWorkspace() throws {
        let bench = makeBench()
        for line in ["people", "messages", "stats", "dataset list", "runs"] {
            XCTAssertThrowsError(try bench.execute(line: line), line) {
                XCTAssertEqual($0 as? CommandError, .noWorkspace(command: line, path: directory + "/ws"))
                XCTAssertTrue(describeError($0).contains("'import FILE'"), describeError($0))
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/ws"))
        XCTAssertTrue(REPL.banner(bench).contains("workspace \(directory)/ws (none there yet"), REPL.banner(bench))
        // A command that writes makes it; then the readers read it.
        try bench.execute(line: "demo-data \(directory)/exports; import \(directory)/exports me=\"Sam Rivera\" timezone=UTC")
        XCTAssertNoThrow(try bench.execute(line: "people"))
        XCTAssertEqual(REPL.banner(bench).split(separator: "\n").first.map(String.init), "persona workbench, workspace \(directory)/ws")
    }

    // Row 6: a recording begins with the commands that recreate the session's objects, so that
    // it replays in a new session; an adapter changed by training cannot be, and record says so.
    func testRecordingReplaysOnItsOwn() throws {
        let (a, _) = try tinyModels()
        let bench = makeBench()
        let path = directory + "/s.persona"
        try bench.execute(line: "model base \(a)")
        try bench.execute(line: "sampler calm temperature=0.7")
        try bench.execute(line: "sampler calm top_k=20")
        try bench.execute(line: "adapter ed rank=2 targets=q,v")
        try bench.execute(line: "record \(path)")
        XCTAssertTrue(out.take().contains("it begins with the commands that recreate base, calm, ed"))
        try bench.execute(line: "loss \"hello there\" view=map")
        try bench.execute(line: "sampler show calm")
        try bench.execute(line: "record stop")
        let recorded = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(recorded.hasPrefix("model base \(a)\n"), recorded)
        XCTAssertTrue(recorded.contains("\nsampler calm temperature=0.7 top_k=20\n"), recorded)
        XCTAssertTrue(recorded.contains("\nadapter ed rank=2 targets=q,v model=base\n"), recorded)
        XCTAssertTrue(recorded.contains("| model base, adapter ed\n"), recorded)

        let fresh = Workbench(workspacePath: directory + "/ws2", output: CapturedOutput())
        fresh.diagnostics = CapturedOutput()
        let summary = try SessionReplayer.replay(path: path, in: fresh, options: .init(check: true, printTranscript: false))
        XCTAssertEqual(summary.differing, 0)

        // Trained, the adapter is no longer what its command makes: no file, and a reason.
        try bench.execute(line: "demo-data \(directory)/exports; import \(directory)/exports me=\"Sam Rivera\" timezone=UTC")
        try bench.execute(line: "dataset build d format=transcript max_tokens=64 min_messages=40 since=2024-11-20 imitate=me test_fraction=0.3")
        try bench.execute(line: "train d steps=1 batch=2")
        XCTAssertThrowsError(try bench.execute(line: "record \(directory)/t.persona")) {
            XCTAssertTrue(describeError($0).contains("cannot recreate adapter 'ed': it changed (trained)"), describeError($0))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/t.persona"))
        try bench.execute(line: "drop ed")
        XCTAssertNoThrow(try bench.execute(line: "record \(directory)/t.persona"))
    }

    // Row 7: ids the workspace hands out in order do not fail a check: --update then --check
    // of a session that saves a generation, in one workspace.
    func testWorkspaceIdsDoNotFailACheck() throws {
        let (a, _) = try tinyModels()
        let path = directory + "/g.persona"
        try "model base \(a)\nset seed=5\ncomplete \"hello\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertNoThrow(try SessionReplayer.replay(path: path, in: makeBench(), options: .init(update: true, printTranscript: false)))
        XCTAssertTrue(try String(contentsOfFile: path, encoding: .utf8).contains("| saved as generation 1\n"))
        XCTAssertNoThrow(try SessionReplayer.replay(path: path, in: makeBench(), options: .init(check: true, printTranscript: false)))


        let n = OutputNormaliser(workspacePath: "/w", currentDirectory: "/c", temporaryDirectory: "/tmp")
        XCTAssertEqual(n.normalise("saved as generation 6"), n.normalise("saved as generation 7"))
        XCTAssertEqual(n.normalise("run 3: adapter ed on d"), "run <id>: adapter ed on d")
        XCTAssertEqual(n.normalise("checkpoint runs/run-12/adapter"), "checkpoint runs/run-<id>/adapter")
        // Other numbers still count.
        XCTAssertNotEqual(n.normalise("6 turns, saved"), n.normalise("7 turns, saved"))
        XCTAssertEqual(n.normalise("generation 6 of run"), "generation <id> of run")
    }

    // Row 8: a failed check names the command's own line, and the command in whole words.
    func testCheckNamesTheCommandsLineInWholeWords() throws {
        let path = directory + "/c.persona"
        let long = "echo sampler=calm the quick brown fox jumps over the lazy dog and runs on"
        try "# prose\n\(long)\n| something else\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SessionReplayer.replay(path: path, in: makeBench(), options: .init(check: true, printTranscript: false))) {
            XCTAssertEqual($0 as? CommandError,
                           .outputDiffers(path: path, line: 2, command: "echo sampler=calm the quick brown fox jumps over the lazy …"))
        }
    }

    // Row 9: Tab offers people after as= and with=, and stored datasets after `dataset show`.
    func testPeopleAndDatasetsComplete() throws {
        let bench = makeBench()
        try bench.execute(line: "demo-data \(directory)/exports; import \(directory)/exports me=\"Sam Rivera\" timezone=UTC")
        try bench.execute(line: "dataset build chats max_tokens=64 min_messages=40 since=2024-11-20")
        XCTAssertEqual(Completion.complete(line: "generate as=Pr", bench: bench).candidates, ["as=Priya Nair"])
        XCTAssertEqual(Completion.complete(line: "generate as=\"Priya Nair\" with=Al", bench: bench).candidates, ["with=Alex Chen"])
        XCTAssertEqual(Completion.complete(line: "chat as=To", bench: bench).candidates, ["as=Tom Fischer"])
        // A new session: the dataset is in the workspace, not yet in the session.
        let later = Workbench(workspacePath: directory + "/ws", output: CapturedOutput())
        XCTAssertEqual(Completion.complete(line: "dataset show ch", bench: later).candidates, ["chats"])
        XCTAssertEqual(Completion.complete(line: "dataset stats ch", bench: later).candidates, ["chats"])
    }
}
