import XCTest
@testable import PersonaSession

final class LineLexerTests: XCTestCase {
    func testQuotingEscapesCommentsAndSeparators() throws {
        XCTAssertEqual(try LineLexer.split(#"generate as=Ed start="hi \"you\"\n" # a comment"#),
                       [["generate", "as=Ed", "start=hi \"you\"\n"]])
        XCTAssertEqual(try LineLexer.split("set seed=1; ls ;; help"), [["set", "seed=1"], ["ls"], ["help"]])
        XCTAssertEqual(try LineLexer.split("say 'it''s'"), [["say", "its"]])
        XCTAssertEqual(try LineLexer.split(#"x "\u{1F600}""#), [["x", "😀"]])
        XCTAssertEqual(try LineLexer.split("   # only a comment"), [])
    }

    func testErrorsCarryColumn() {
        XCTAssertThrowsError(try LineLexer.split(#"say "open"#)) { error in
            XCTAssertEqual(error as? LexError, LexError(column: 5, reason: "unterminated double-quoted string"))
        }
        XCTAssertThrowsError(try LineLexer.split(#"say "\q""#)) { error in
            XCTAssertEqual((error as? LexError)?.column, 6)
        }
    }
}

final class ArgumentsTests: XCTestCase {
    let spec = CommandSpec("demo", summary: "a test command", arguments: [
        .positional("file", .path, "a file"),
        .keyed("steps", .int, default: "10", "steps"),
        .keyed("lr", .double, "learning rate"),
        .keyed("mode", .choice(["a", "b"]), "a mode"),
        .flag("json", "JSON output"),
    ]) { _ in }

    func testKeyValueAndShellForms() throws {
        let a = try Arguments(words: ["f.txt", "steps=2k", "--lr", "2e-4", "--json", "--mode=b"], spec: spec)
        XCTAssertEqual(a.string("file"), "f.txt")
        XCTAssertEqual(a.int("steps"), 2000)
        XCTAssertEqual(a.double("lr"), 2e-4)
        XCTAssertTrue(a.flag("json"))
        XCTAssertEqual(a.string("mode"), "b")
        let defaults = try Arguments(words: ["f"], spec: spec)
        XCTAssertEqual(defaults.int("steps"), 10)
        XCTAssertFalse(defaults.flag("json"))
    }

    func testErrorsNameTheArgument() {
        XCTAssertThrowsError(try Arguments(words: [], spec: spec)) {
            XCTAssertEqual($0 as? CommandError, .missingArgument(command: "demo", argument: "file"))
        }
        XCTAssertThrowsError(try Arguments(words: ["f", "stepz=3"], spec: spec)) {
            XCTAssertEqual($0 as? CommandError, .unknownKey(command: "demo", key: "stepz", suggestion: "steps", known: ["steps=", "lr=", "mode=", "--json"]))
        }
        // Nothing close: the hint lists every argument the command takes.
        XCTAssertThrowsError(try Arguments(words: ["f", "adapter=a"], spec: spec)) {
            XCTAssertEqual(($0 as? CommandError)?.hint, "'demo' takes steps=, lr=, mode=, --json")
        }
        XCTAssertThrowsError(try Arguments(words: ["f", "steps=abc"], spec: spec)) {
            XCTAssertEqual($0 as? CommandError, .badValue(command: "demo", argument: "steps", value: "abc", expected: "an integer"))
        }
        XCTAssertThrowsError(try Arguments(words: ["f", "g"], spec: spec)) {
            XCTAssertEqual($0 as? CommandError, .tooManyArguments(command: "demo", extra: "g"))
        }
    }
}

final class CommandTableTests: XCTestCase {
    func testEveryCommandHasHelpAndUniqueName() {
        var seen = Set<String>()
        for c in CommandTable.all {
            XCTAssertFalse(c.summary.isEmpty, "\(c.name) has no summary")
            XCTAssertTrue(seen.insert(c.name).inserted, "\(c.name) is declared twice")
            for a in c.arguments { XCTAssertFalse(a.help.isEmpty, "\(c.name) \(a.name) has no help") }
        }
    }

    func testUnknownCommandSuggests() {
        let bench = Workbench(workspacePath: "/nonexistent", output: CapturedOutput())
        XCTAssertThrowsError(try bench.execute(line: "hlep")) {
            XCTAssertEqual($0 as? CommandError, .unknownCommand("hlep", suggestion: "help"))
        }
    }

    func testSetReseedsAndPrints() throws {
        let out = CapturedOutput()
        let bench = Workbench(workspacePath: "/nonexistent", output: out)
        try bench.execute(line: "set seed=7 threads=1")
        XCTAssertEqual(out.take(), "seed=7 threads=1\n")
        var expected = PersonaCore.SeededGenerator(seed: 7)
        XCTAssertEqual(bench.rng.next(), expected.next())
    }
}

import PersonaCore
