import Foundation
import PersonaCore
import PersonaTestSupport
import XCTest
@testable import PersonaSession

final class SessionFileTests: XCTestCase {
    let sample = """
    # A session: prose is kept.

    set seed=3
    | seed=3 threads=2
    echo one \\
      two
    | one two
    echo
    |
    hlep
    | error: unknown command 'hlep' (did you mean 'help'?)

    """

    func testParseAndRenderRoundTrip() throws {
        let file = try SessionFile.parse(sample, path: "s.persona")
        XCTAssertEqual(file.commands.count, 4)
        XCTAssertEqual(file.commands[0].text, "set seed=3")
        XCTAssertEqual(file.commands[0].lineNumber, 3)
        XCTAssertEqual(file.commands[0].output, ["seed=3 threads=2"])
        XCTAssertEqual(file.commands[1].text, "echo one   two")
        XCTAssertEqual(file.commands[1].outputLineNumber, 7)
        XCTAssertEqual(file.commands[2].output, [""])
        XCTAssertTrue(file.commands[3].expectsError)
        XCTAssertFalse(file.commands[0].expectsError)
        XCTAssertEqual(file.render(), sample)
    }

    func testOutputWithoutCommandIsAnErrorWithLine() {
        XCTAssertThrowsError(try SessionFile.parse("# prose\n| stray\n", path: "x.persona")) {
            XCTAssertEqual($0 as? CommandError, .sessionFile(path: "x.persona", line: 2, reason: "an output line ('|') must sit right under a command"))
        }
    }

    func testContinuationCountsBackslashes() {
        XCTAssertTrue(SessionFile.endsWithContinuation(#"echo a \"#))
        XCTAssertFalse(SessionFile.endsWithContinuation(#"echo a \\"#))
        XCTAssertEqual(SessionFile.joinContinuations(["a \\", "b"]), "a b")
    }

    func testNormaliserReplacesTimesRatesAndPaths() {
        let n = OutputNormaliser(workspacePath: "/tmp/persona-x/ws", currentDirectory: "/home/ann/persona", temporaryDirectory: "/tmp/")
        XCTAssertEqual(n.normalise("took 0.123 s (12.3 ms per step, 4s total)"), "took <time> (<time> per step, <time> total)")
        XCTAssertEqual(n.normalise("456 tokens/s, 12.5 MB/s, 1,234.5 GFLOP/s"), "<rate>, <rate>, <rate>")
        XCTAssertEqual(n.normalise("wrote /tmp/persona-x/ws/adapters/a.lora"), "wrote <workspace>/adapters/a.lora")
        XCTAssertEqual(n.normalise("read /home/ann/persona/sessions/x"), "read <cwd>/sessions/x")
        XCTAssertEqual(n.normalise("scratch '/tmp/abc/def.txt' done"), "scratch '<tmp>' done")
        XCTAssertEqual(n.normalise("a    b   "), "a b")
        // Save times are the clock's; message times (to the minute) are data.
        XCTAssertEqual(n.normalise("generation 3: conversation, 2026-12-06 04:20:11 UTC"), "generation <id>: conversation, <clock>")
        XCTAssertEqual(n.normalise("1  2026-12-06T04:20:11Z  conversation"), "1 <clock> conversation")
        XCTAssertEqual(n.normalise("2024-03-01 12:05 Alex Chen: hi"), "2024-03-01 12:05 Alex Chen: hi")
        XCTAssertEqual(n.normalise("saved as eval 12"), "saved as eval <id>")
        XCTAssertEqual(n.normalise("saved as blind test 3"), "saved as blind test <id>")
        // Counts, losses and words stay as they are.
        XCTAssertEqual(n.normalise("step 3 loss 2.4567 steps=50 v2 3 sessions"), "step 3 loss 2.4567 steps=50 v2 3 sessions")
    }

    func testUnifiedDiff() {
        let diff = LineDiff.unified(old: ["a", "b", "c", "d"], new: ["a", "B", "c", "d", "e"], oldLabel: "old", newLabel: "new", context: 1)
        // Changes closer than twice the context share one hunk.
        XCTAssertEqual(diff, ["--- old", "+++ new", "@@ -1,4 +1,5 @@", " a", "-b", "+B", " c", " d", "+e"])
        let far = LineDiff.unified(old: ["x", "a", "b", "c", "d", "e"], new: ["y", "a", "b", "c", "d", "f"], oldLabel: "o", newLabel: "n", context: 1)
        XCTAssertEqual(far, ["--- o", "+++ n", "@@ -1,2 +1,2 @@", "-x", "+y", " a", "@@ -5,2 +5,2 @@", " d", "-e", "+f"])
        XCTAssertEqual(LineDiff.unified(old: ["x"], new: ["x"], oldLabel: "o", newLabel: "n"), [])
        XCTAssertEqual(LineDiff.firstDifference(["a", "b"], ["a"]), 1)
    }

    func testQuotedWordsRoundTripThroughTheLexer() throws {
        let words = ["generate", "start=hi \"you\"\n", "plain", "a;b", "#tag", "", "tab\there", "kéy=välue"]
        XCTAssertEqual(try LineLexer.split(LineLexer.join(words)), [words])
        XCTAssertEqual(LineLexer.join(["echo", "start=two words"]), #"echo start="two words""#)
    }
}

/// Recording, replaying and checking `.persona` files in-process.
final class ReplayTests: XCTestCase {
    var directory = ""
    var out = CapturedOutput()
    var diagnostics = CapturedOutput()

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("replay")
        out = CapturedOutput()
        diagnostics = CapturedOutput()
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func makeBench() -> Workbench {
        let bench = Workbench(workspacePath: directory + "/ws", output: out)
        bench.diagnostics = diagnostics
        return bench
    }

    func testRecordThenCheckPassesAndDetectsAChangeThenUpdateFixesIt() throws {
        let path = directory + "/s.persona"
        let bench = makeBench()
        try bench.execute(line: "set seed=9")
        try bench.execute(line: "record \(path)")
        try bench.execute(line: "echo \"two  spaces\"; set threads=1")
        XCTAssertThrowsError(try bench.execute(line: "hlep"))
        try bench.execute(line: "record stop")
        try bench.execute(line: "echo not recorded")
        let recorded = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(recorded, """
        set seed=9 threads=2
        | seed=9 threads=2
        echo "two  spaces"
        | two  spaces
        set threads=1
        | seed=9 threads=1
        hlep
        | error: unknown command 'hlep' (did you mean 'help'?)

        """)
        var mode = stat()
        XCTAssertEqual(stat(path, &mode), 0)
        XCTAssertEqual(mode.st_mode & 0o777, 0o600)

        // A fresh session replays it to the same output.
        let summary = try SessionReplayer.replay(path: path, in: makeBench(), options: .init(check: true))
        XCTAssertEqual(summary.commands, 4)
        XCTAssertEqual(summary.differing, 0)

        // Change one recorded output: the check fails at that line with a diff.
        try recorded.replacingOccurrences(of: "| seed=9 threads=1", with: "| seed=9 threads=3")
            .write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SessionReplayer.replay(path: path, in: makeBench(), options: .init(check: true))) {
            XCTAssertEqual($0 as? CommandError, .outputDiffers(path: path, line: 5, command: "set threads=1"))
        }
        XCTAssertTrue(diagnostics.text.contains("-seed=9 threads=3\n+seed=9 threads=1\n"), diagnostics.text)

        // --update records the new output; then the check passes and the file is as recorded.
        let updated = try SessionReplayer.replay(path: path, in: makeBench(), options: .init(update: true, printTranscript: false))
        XCTAssertEqual(updated.updated, 1)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), recorded)
        XCTAssertNoThrow(try SessionReplayer.replay(path: path, in: makeBench(), options: .init(check: true)))
    }

    func testReplayPrintsTheFileAndStopsAtAnUnexpectedError() throws {
        let path = directory + "/e.persona"
        try "# note\necho a\n| a\nnope\necho b\n".write(toFile: path, atomically: true, encoding: .utf8)
        let bench = makeBench()
        XCTAssertThrowsError(try bench.execute(line: "run \(path)")) {
            XCTAssertEqual($0 as? CommandError, .scriptFailed(source: path, line: 4, message: "unknown command 'nope' (type 'help' for the list of commands)"))
        }
        XCTAssertEqual(out.take(), "# note\necho a\n| a\nnope\n| error: unknown command 'nope' (type 'help' for the list of commands)\n")

        // With --keep-going it reaches the end, then fails.
        XCTAssertThrowsError(try makeBench().execute(line: "run --keep-going \(path)"))
        XCTAssertTrue(out.take().hasSuffix("echo b\n| b\n"))

        // --update without --keep-going leaves the file alone; with it the error is recorded as expected.
        let before = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertThrowsError(try makeBench().execute(line: "run --update \(path)"))
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), before)
        try makeBench().execute(line: "run --update --keep-going \(path)")
        try makeBench().execute(line: "run \(path)")
        try makeBench().execute(line: "run --check \(path)")
        XCTAssertTrue(out.take().hasSuffix("every output matches the recording\n"))
    }

    func testTimingsAndWorkspacePathsDoNotFailTheCheck() throws {
        let path = directory + "/t.persona"
        try "echo took 0.52 s at 1200 tokens/s in \(directory)/ws/runs\n| took 3.1 s at 77.5 tokens/s in /elsewhere/ws/runs\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        // The recorded path differs: only the workspace folder is a placeholder.
        XCTAssertThrowsError(try SessionReplayer.replay(path: path, in: makeBench(), options: .init(check: true)))
        try "echo took 0.52 s at 1200 tokens/s in \(directory)/ws/runs\n| took 3.1 s at 77.5 tokens/s in <workspace>/runs\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertNoThrow(try SessionReplayer.replay(path: path, in: makeBench(), options: .init(check: true)))
        // Recordings write the placeholder, not the folder.
        let recording = directory + "/r.persona"
        let bench = makeBench()
        try bench.execute(line: "record \(recording); echo \(directory)/ws/x; record stop")
        XCTAssertTrue(try String(contentsOfFile: recording, encoding: .utf8).hasSuffix("| <workspace>/x\n"))
    }

    /// The rule `run --check` applies to numbers, which lets a recording made on one CPU pass
    /// on another (the last digits of a float differ between AVX2 and AVX-512 builds).
    func testNumbersCompareUnderTheDocumentedTolerance() {
        let match = ReplayTolerance.linesMatch
        // Seen between an AMD EPYC (AVX2) recording and an Intel Xeon (AVX-512) replay.
        XCTAssertTrue(match("mean loss 9.9058 over 12 tokens, perplexity 20046.87", "mean loss 9.9059 over 12 tokens, perplexity 20047.47"))
        XCTAssertTrue(match("attribution 31.2%", "attribution 31.3%"))            // one unit in the last digit
        XCTAssertTrue(match("p=1.5e-06", "p=1.6e-06"))
        XCTAssertTrue(match("loss -0.0000", "loss 0.0000"))
        // A loss that moved in the second decimal fails, whatever its printed precision.
        XCTAssertFalse(match("mean loss 9.9058", "mean loss 9.9258"))
        XCTAssertFalse(match("test loss 2.93", "test loss 2.95"))
        // Integers, ids and text are exact.
        XCTAssertFalse(match("12 tokens", "13 tokens"))
        XCTAssertFalse(match("token 20046", "token 20047"))
        XCTAssertFalse(match("saw 1,204 messages", "saw 1,205 messages"))
        XCTAssertFalse(match("mean loss 9.9058 (Alex)", "mean loss 9.9058 (Alec)"))
        XCTAssertFalse(match("loss 1.0", "loss 1.0 2.0"))
        XCTAssertFalse(match("loss 1.0", "loss 1"))
        // Digits inside words are text: "v2", "x86_64", "1.2.3".
        XCTAssertFalse(match("built for x86_64", "built for x86_65"))
        XCTAssertFalse(match("version 1.2.3", "version 1.2.4"))
        XCTAssertEqual(ReplayTolerance.lastDigitUnit(of: "9.9058"), 1e-4, accuracy: 1e-12)
        XCTAssertEqual(ReplayTolerance.lastDigitUnit(of: "1.5e-06"), 1e-7, accuracy: 1e-15)
    }

    /// The same rule through a replay: a recording's last digits pass, a moved loss fails.
    func testCheckAcceptsLastDigitsAndRejectsAMovedLoss() throws {
        let path = directory + "/n.persona"
        try "echo mean loss 9.9059 perplexity 20047.47\n| mean loss 9.9058 perplexity 20046.87\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertNoThrow(try SessionReplayer.replay(path: path, in: makeBench(), options: .init(check: true)))
        try "echo mean loss 9.9258 perplexity 20047.47\n| mean loss 9.9058 perplexity 20046.87\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SessionReplayer.replay(path: path, in: makeBench(), options: .init(check: true)))
    }

    func testNestedReplayStopsAtTheCap() throws {
        let path = directory + "/self.persona"
        try "replay \(path)\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try makeBench().execute(line: "replay \(path)")) { error in
            XCTAssertTrue(describeError(error).contains("more than \(SessionReplayer.nestingLimit) deep"), describeError(error))
        }
    }

    func testQuitEndsTheFileOnly() throws {
        let path = directory + "/q.persona"
        try "echo a\nquit\necho never\n".write(toFile: path, atomically: true, encoding: .utf8)
        let bench = makeBench()
        try bench.execute(line: "replay \(path)")
        XCTAssertFalse(bench.wantsToQuit)
        XCTAssertFalse(out.take().contains("never"))
    }

    func testRecordRefusesToOverwrite() throws {
        let path = directory + "/exists.persona"
        try "echo x\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try makeBench().execute(line: "record \(path)"))
        let bench = makeBench()
        try bench.execute(line: "record \(path) --append; echo y; record stop")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "echo x\nset seed=42 threads=2\n| seed=42 threads=2\necho y\n| y\n")
    }
}

/// `let NAME = COMMAND …` names what a command creates.
final class LetTests: XCTestCase {
    final class Thing {}

    func testLetRenamesTheCreatedObjectOrPassesName() throws {
        let out = CapturedOutput()
        let bench = Workbench(workspacePath: "/nonexistent", output: out)
        let makeAnonymous = CommandSpec("test make", summary: "makes an object") { ctx in
            ctx.bench.register(NamedObject(name: "thing1", kind: .sampler, summary: "a thing", value: Thing()))
        }
        let makeNamed = CommandSpec("test named", summary: "makes a named object",
                                    arguments: [.keyed("name", .string, default: "auto", "its name")]) { ctx in
            ctx.bench.register(NamedObject(name: ctx.arguments.string("name") ?? "auto", kind: .model, summary: "named", value: Thing()))
        }
        let makePositional = CommandSpec("test positional", summary: "makes an object named by its first argument",
                                         arguments: [.positional("name", .string, "its name"), .positional("size", .int, "a size")]) { ctx in
            ctx.bench.register(NamedObject(name: try ctx.arguments.required("name"), kind: .run, summary: "positional", value: Thing()))
        }
        bench.extraCommands = [makeAnonymous, makeNamed, makePositional]
        do {
            try bench.execute(line: "let hot = test make")
            XCTAssertEqual(bench.objects.map(\.name), ["hot"])
            try bench.execute(line: "let base = test named")
            XCTAssertEqual(bench.objects.map(\.name), ["hot", "base"])
            try bench.execute(line: "let r1 = test positional 3")
            XCTAssertEqual(bench.objects.map(\.name), ["hot", "base", "r1"])
            XCTAssertThrowsError(try bench.execute(line: "let x = echo hi")) {
                XCTAssertEqual($0 as? CommandError, .failed(command: "let", reason: "'echo' created no object to name"))
            }
            XCTAssertThrowsError(try bench.execute(line: "let 9x = test make"))
            XCTAssertThrowsError(try bench.execute(line: "let x test make"))
        }
        try bench.execute(line: "drop hot")
        XCTAssertEqual(bench.objects.map(\.name), ["base", "r1"])
    }
}
