import Foundation
import XCTest
import PersonaCore
@testable import PersonaSession
import PersonaTestSupport

/// `generate`, the saved generations (`generations`, `generation show`, `generations export`)
/// and the live chat, on a tiny random model that carries the default tokenizer.
final class GenerationCommandTests: XCTestCase {
    var directory = ""
    var modelPath = ""
    var exportPath = ""

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("generations")
        modelPath = directory + "/tiny.gguf"
        try QuantizedBaseTests.writeTinyFloatModel(to: modelPath)
        exportPath = directory + "/chats.jsonl"
        try Self.writeExport(to: exportPath)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// An invented history: 40 messages between Sam Rivera (the owner) and Alex Chen, 3 with Maria Lopez.
    static func writeExport(to path: String) throws {
        let sam = ["are we still on for lunch", "omg tacos rn", "running late sorry", "see you at 6", "haha ok"]
        let alex = ["yes! noon?", "where u at", "no worries", "cool cool", "bring the blue stove"]
        var lines: [String] = []
        for i in 0..<40 {
            let fromSam = i % 2 == 0
            let text = fromSam ? sam[i / 2 % sam.count] : alex[i / 2 % alex.count]
            lines.append(#"{"timestamp": "2024-03-01T10:\#(String(format: "%02d", i)):00Z", "conversation": "Alex Chen", "sender": "\#(fromSam ? "Sam Rivera" : "Alex Chen")", "text": "\#(text)", "is_me": \#(fromSam)}"#)
        }
        for i in 0..<3 {
            lines.append(#"{"timestamp": "2024-03-02T09:0\#(i):00Z", "conversation": "Maria Lopez", "sender": "Maria Lopez", "text": "hi \#(i)", "is_me": false}"#)
        }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A session on its own workspace with the history imported, the tiny model as `tiny`
    /// and a sampler `short` that writes at most 6 tokens a turn.
    /// A workspace with the history imported; `objects`: with the model `tiny` and sampler `short`.
    func session(_ name: String = "ws", objects: Bool = true) throws -> (Workbench, CapturedOutput) {
        let output = CapturedOutput()
        let bench = Workbench(workspacePath: directory + "/" + name, output: output)
        try bench.execute(line: "import \(exportPath) me=\"Sam Rivera\" timezone=UTC")
        if objects {
            try bench.execute(line: "model tiny \(modelPath)")
            try bench.execute(line: "sampler short max_tokens=6 temperature=1.5")
        }
        _ = output.take()
        return (bench, output)
    }

    func run(_ bench: Workbench, _ output: CapturedOutput, _ line: String) throws -> [String] {
        try bench.execute(line: line)
        return SessionFile.lines(of: output.take())
    }

    func errorMessage(_ bench: Workbench, _ line: String, file: StaticString = #filePath, lineNumber: UInt = #line) -> String {
        do {
            try bench.execute(line: line)
            XCTFail("'\(line)' did not fail", file: file, line: lineNumber)
            return ""
        } catch {
            return describeError(error)
        }
    }

    /// A turn as streamed ("Alex Chen: word ") and as stored (trimmed) compare without spaces.
    static func squeezed(_ line: String) -> String { line.filter { $0 != " " } }

    /// The conversation lines ("Name: text") of generate's output, and the seed it printed.
    func conversation(_ lines: [String]) throws -> (turns: [String], seed: String) {
        let summary = try XCTUnwrap(lines.firstIndex { $0.contains(" turns, ") && $0.contains(" seed ") }, lines.joined(separator: "\n"))
        return (Array(lines[..<summary]), String(try XCTUnwrap(lines[summary].split(separator: " ").last)))
    }

    func testGenerationsAreListedShownAndExported() throws {
        let (bench, output) = try session()
        XCTAssertEqual(try run(bench, output, "generations"), ["no generations saved yet ('generate', 'chat' then /save, or 'complete' save them)"])
        let first = try run(bench, output, "generate as=\"Alex Chen\" with=\"Sam Rivera\" turns=3 sampler=short model=tiny")
        XCTAssertEqual(first.last, "saved as generation 1")
        let (turns, seed) = try conversation(first)
        XCTAssertEqual(turns.count, 3)
        XCTAssertEqual(turns.map { String($0.prefix { $0 != ":" }) }, ["Alex Chen", "Sam Rivera", "Alex Chen"])
        // A name is the store's: the start of a name or another case finds the person.
        XCTAssertEqual(try run(bench, output, "generate as=sam with=alex turns=1 sampler=short model=tiny").last, "saved as generation 2")

        let list = try run(bench, output, "generations")
        XCTAssertEqual(list.count, 4, list.joined(separator: "\n"))
        XCTAssertEqual(list[0].split(separator: " ").map(String.init),
                       ["id", "time", "kind", "as", "with", "turns", "model", "adapter", "sampler", "seed", "loop", "copy"])
        func words(_ line: String) -> String { line.split(separator: " ").joined(separator: " ") }
        XCTAssertTrue(words(list[2]).hasPrefix("1 "), list[2])
        XCTAssertTrue(words(list[2]).hasSuffix(" conversation Alex Chen Sam Rivera 3 tiny.gguf - short \(seed) - -"), list[2])
        XCTAssertTrue(words(list[3]).contains(" conversation Sam Rivera Alex Chen 1 tiny.gguf - short "), list[3])
        let recent = try run(bench, output, "generations last=1")
        XCTAssertEqual(recent.count, 4)
        XCTAssertEqual(words(recent[2]), words(list[3]))
        XCTAssertEqual(recent[3], "(the last 1 of 2; last=0 lists all)")

        let shown = try run(bench, output, "generation show 1")
        XCTAssertTrue(shown[0].hasPrefix("generation 1: conversation, "), shown[0])
        XCTAssertEqual(shown[1], "  as: Alex Chen, with: Sam Rivera")
        XCTAssertTrue(shown.contains("  sampler: short (temperature=1.5 max_tokens=6), seed \(seed)"), shown.joined(separator: "\n"))
        XCTAssertTrue(shown.contains("  format: transcript"), shown.joined(separator: "\n"))
        XCTAssertEqual(Array(shown.suffix(3)).map(Self.squeezed), turns.map(Self.squeezed))
        XCTAssertTrue(errorMessage(bench, "generation show 9").contains("no generation 9; 'generations' lists the 2 saved"))
        XCTAssertEqual(errorMessage(bench, "show 1"), "show: no object named '1'; 'generation show 1' shows saved generation 1")

        let file = directory + "/out/generated.jsonl"
        try FileManager.default.createDirectory(atPath: directory + "/out", withIntermediateDirectories: true)
        XCTAssertEqual(try run(bench, output, "generations export \(file)"), ["wrote 2 conversations to \(file)"])
        var st = stat()
        XCTAssertEqual(stat(file, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        let exported = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(exported.count, 2)
        XCTAssertTrue(exported[0].hasPrefix("{\"id\": 1, \"as\": \"Alex Chen\", \"with\": \"Sam Rivera\", \"model\": "), String(exported[0]))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(exported[0].utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["id", "as", "with", "model", "adapter", "sampler", "settings", "seed", "turns"])
        XCTAssertTrue(exported[0].contains(", \"seed\": \(seed), \"turns\": "), String(exported[0]))
        XCTAssertEqual(object["sampler"] as? String, "short")
        XCTAssertTrue(object["adapter"] is NSNull)
        let exportedTurns = try XCTUnwrap(object["turns"] as? [[String: String]])
        XCTAssertEqual(exportedTurns.map { Self.squeezed("\($0["sender"]!): \($0["text"]!)") }, turns.map(Self.squeezed))
        // Nothing is left behind beside it (written under a temporary name, then renamed).
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory + "/out"), ["generated.jsonl"])
    }

    func testSeedReproducesAGeneration() throws {
        let (bench, output) = try session()
        let drawn = try conversation(try run(bench, output, "generate as=\"Alex Chen\" with=\"Sam Rivera\" turns=4 sampler=short model=tiny"))
        let again = try conversation(try run(bench, output, "generate as=\"Alex Chen\" with=\"Sam Rivera\" turns=4 sampler=short model=tiny seed=\(drawn.seed)"))
        XCTAssertEqual(again.seed, drawn.seed)
        XCTAssertEqual(again.turns, drawn.turns)
        let five = try conversation(try run(bench, output, "generate as=\"Alex Chen\" with=\"Sam Rivera\" turns=4 sampler=short model=tiny seed=5"))
        XCTAssertEqual(five.seed, "5")
        XCTAssertEqual(try conversation(try run(bench, output, "generate as=\"Alex Chen\" with=\"Sam Rivera\" turns=4 sampler=short model=tiny seed=5")).turns, five.turns)
        XCTAssertNotEqual(five.turns, drawn.turns)
        XCTAssertTrue(errorMessage(bench, "generate as=\"Alex Chen\" with=\"Sam Rivera\" model=tiny seed=-1")
            .contains("generate: seed=-1 is not valid; expected a whole number from 0 to 18446744073709551615"))
    }

    func testPeopleOutsideTheStoreNeedInvent() throws {
        let (bench, output) = try session()
        let message = errorMessage(bench, "generate as=\"Nobody Here\" with=\"Alex Chen\" model=tiny sampler=short")
        XCTAssertEqual(message, "generate: as=Nobody Here: no one of that name in the store; it has Sam Rivera (you), Alex Chen, Maria Lopez; --invent writes as invented people")
        XCTAssertTrue(errorMessage(bench, "generate as=\"Alex Chen\" with=\"Alex Chan\" model=tiny").contains("did you mean 'Alex Chen'?"))
        XCTAssertTrue(errorMessage(bench, "chat as=\"Nobody Here\" model=tiny").hasPrefix("chat: as=Nobody Here: no one of that name in the store"))
        let invented = try run(bench, output, "generate as=\"Nobody Here\" with=\"Alex Chen\" turns=2 model=tiny sampler=short --invent")
        XCTAssertEqual(invented.last, "saved as generation 1")
        XCTAssertTrue(invented[0].hasPrefix("Nobody Here:"), invented[0])
    }

    func testAnAdapterWritesInItsDatasetsFormat() throws {
        let (bench, output) = try session()
        try bench.execute(line: "dataset build d format=donner max_tokens=64 min_messages=10 --strangers model=\(modelPath)")
        try bench.execute(line: "adapter ed rank=2 alpha=4 targets=q model=tiny")
        try bench.execute(line: "train d steps=1 batch=1 adapter=ed")
        _ = output.take()
        func format(_ line: String) throws -> String? {
            let lines = try run(bench, output, line)
            let id = try XCTUnwrap(lines.last?.split(separator: " ").last)
            return try run(bench, output, "generation show \(id)").first { $0.hasPrefix("  format: ") }
        }
        let people = "as=\"Alex Chen\" with=\"Sam Rivera\" turns=1 sampler=short model=tiny"
        XCTAssertEqual(try format("generate \(people) adapter=ed"), "  format: donner")
        XCTAssertEqual(try format("generate \(people) adapter=ed format=transcript"), "  format: transcript")
        XCTAssertEqual(try format("generate \(people)"), "  format: transcript")
        XCTAssertEqual(try format("generate \(people) format=chat"), "  format: chat/chatml")
    }

    /// The chat as piped input runs it: lines after `chat` are messages until /end, and the
    /// end of the input ends the chat as Ctrl-D does.
    func testLiveChatFromPipedInput() throws {
        let (bench, output) = try session()
        var input = ["chat as=\"Alex Chen\" model=tiny sampler=short seed=11", "hello there", "how are you?", "/undo",
                     "/retry", "\\/end is just text", "/save", "/end", "echo back at the prompt",
                     "chat as=\"Alex Chen\" model=tiny sampler=short", "one more"]
        input.reverse()
        let status = REPL.runScript(bench: bench, source: "<stdin>", readLine: { input.popLast() })
        XCTAssertEqual(status, 0)
        let lines = SessionFile.lines(of: output.take())
        XCTAssertEqual(lines[0], "chat: you are Sam Rivera, the model is Alex Chen (seed 11, format transcript); type your messages; /undo /retry /save /help; /end or Ctrl-D returns to the workbench")
        // Each message gets one answer, streamed as "Alex Chen: …".
        XCTAssertTrue(lines[1].hasPrefix("Alex Chen:"), lines[1])
        XCTAssertTrue(lines[2].hasPrefix("Alex Chen:"), lines[2])
        XCTAssertEqual(lines[3], "took back \"how are you?\" and the answer; 2 turns left")
        XCTAssertTrue(lines[4].hasPrefix("Alex Chen:"), lines[4])   // /retry draws the first answer again
        XCTAssertTrue(lines[5].hasPrefix("Alex Chen:"), lines[5])
        XCTAssertEqual(lines[6], "saved as generation 1")
        XCTAssertEqual(lines[7], "chat with Alex Chen ended: 4 turns, saved")
        XCTAssertEqual(lines[8], "back at the prompt")
        XCTAssertTrue(lines[9].hasPrefix("chat: you are Sam Rivera"), lines[9])
        XCTAssertTrue(lines[10].hasPrefix("Alex Chen:"), lines[10])
        XCTAssertEqual(lines[11], "chat with Alex Chen ended: 2 turns, not saved")
        XCTAssertEqual(lines.count, 12, lines.joined(separator: "\n"))
        XCTAssertNil(bench.lineModePrompt)

        // The saved chat: your lines and the answers, with the chat's settings.
        let shown = try run(bench, output, "generation show 1")
        XCTAssertEqual(shown[1], "  as: Alex Chen, with: Sam Rivera")
        XCTAssertEqual(shown[3], "  sampler: short (temperature=1.5 max_tokens=6), seed 11")
        XCTAssertEqual(Array(shown.suffix(4)).map(Self.squeezed),
                       ["Sam Rivera: hello there", lines[4], "Sam Rivera: /end is just text", lines[5]].map(Self.squeezed))
    }

    func testChatCommandsAndPrompt() throws {
        let (bench, output) = try session()
        _ = try run(bench, output, "chat as=alex model=tiny sampler=short")
        XCTAssertEqual(bench.lineModePrompt, "Sam Rivera (to Alex Chen)> ")
        XCTAssertTrue(errorMessage(bench, "/undo").contains("/undo: nothing to take back"))
        XCTAssertTrue(errorMessage(bench, "/retry").contains("/retry: there is no answer to draw again"))
        XCTAssertTrue(errorMessage(bench, "/save").contains("/save: the chat is empty"))
        XCTAssertEqual(errorMessage(bench, "/undoo"), "chat: unknown chat command '/undoo' (did you mean '/undo'?); /help lists them, \\/undoo sends it as a message")
        XCTAssertEqual(try run(bench, output, "   "), [])
        XCTAssertEqual(try run(bench, output, "/help").count, 6)
        // Commands are messages in the chat: this one is not run.
        let answer = try run(bench, output, "set seed=3; echo hi")
        XCTAssertEqual(answer.count, 1)
        XCTAssertTrue(answer[0].hasPrefix("Alex Chen:"), answer[0])
        XCTAssertEqual(bench.settings.seed, 42)
        // Ctrl-D (the REPL calls endLineMode) ends it.
        try bench.endLineMode()
        XCTAssertEqual(output.take(), "chat with Alex Chen ended: 2 turns, not saved\n")
        XCTAssertNil(bench.lineModePrompt)
        XCTAssertEqual(try run(bench, output, "echo commands again"), ["commands again"])

        // with= defaults to the store's owner; without one it must be given.
        let fresh = Workbench(workspacePath: directory + "/empty", output: CapturedOutput())
        try fresh.execute(line: "model tiny \(modelPath)")
        XCTAssertTrue(errorMessage(fresh, "chat as=Pat --invent model=tiny").contains("the store does not know who you are"))
        XCTAssertNoThrow(try fresh.execute(line: "chat as=Pat with=Lee --invent model=tiny"))
        XCTAssertEqual(fresh.lineModePrompt, "Lee (to Pat)> ")
    }

    func testOneShotChatCarriesOn() throws {
        let (bench, output) = try session()
        let first = try run(bench, output, "chat as=\"Alex Chen\" say=\"hi\" model=tiny sampler=short seed=3")
        XCTAssertEqual(Array(first.prefix(2)), ["new chat: you are Sam Rivera, the model is Alex Chen (seed 3)", "Sam Rivera: hi"])
        XCTAssertTrue(first[2].hasPrefix("Alex Chen:"), first[2])
        let next = try run(bench, output, "chat say=\"what are you up to?\"")
        XCTAssertEqual(next[0], "Sam Rivera: what are you up to?")
        XCTAssertTrue(next[1].hasPrefix("Alex Chen:"), next[1])
        XCTAssertNil(bench.lineModePrompt)
        try bench.execute(line: "chat --reset")
        XCTAssertTrue(errorMessage(bench, "chat say=\"hello?\"").contains("there is no chat to carry on"))
    }

    /// `record` writes the chat so that it replays: the lines after `chat`, escaped where a
    /// session file would read them otherwise, and the /end that Ctrl-D stood for.
    func testRecordedChatReplays() throws {
        let (bench, output) = try session()
        let path = directory + "/chat.persona"
        try bench.execute(line: "record \(path)")
        for line in ["chat as=\"Alex Chen\" model=tiny sampler=short seed=9", "hi", "# not a comment", "| nor output", "/undo",
                     "again", "/retry", "/save"] {
            try bench.execute(line: line)
        }
        try bench.endLineMode()
        try bench.execute(line: "record stop")
        _ = output.take()
        let file = try SessionFile.parse(try String(contentsOfFile: path, encoding: .utf8), path: path)
        // The recording first recreates the model and sampler in use, then the chat.
        let texts = file.commands.map(\.text)
        let start = try XCTUnwrap(texts.firstIndex { $0.hasPrefix("chat ") })
        XCTAssertTrue(texts[..<start].contains { $0.hasPrefix("model tiny ") }, "\(texts)")
        XCTAssertTrue(texts[..<start].contains("sampler short temperature=1.5 max_tokens=6"), "\(texts)")
        XCTAssertEqual(Array(texts[start...]), [
            "chat as=\"Alex Chen\" model=tiny sampler=short seed=9", "hi", "\\# not a comment", "\\| nor output", "/undo",
            "again", "/retry", "/save", "/end",
        ])
        XCTAssertEqual(file.commands[start + 4].output, ["took back \"| nor output\" and the answer; 4 turns left"])
        XCTAssertEqual(file.commands[start + 7].output, ["saved as generation 1"])
        XCTAssertEqual(file.commands[start + 8].output, ["chat with Alex Chen ended: 6 turns, saved"])

        // A session with the same history and no objects replays it to the same output.
        let (replaying, replayed) = try session("ws2", objects: false)
        try replaying.execute(line: "run --check \(path)")
        XCTAssertTrue(replayed.take().hasSuffix("every output matches the recording\n"))
        XCTAssertNil(replaying.lineModePrompt)

        // A chat a file leaves open ends with the file: what follows the replay is a command again.
        let open = directory + "/open.persona"
        try "chat as=\"Alex Chen\" model=tiny sampler=short seed=9\nhi\n".write(toFile: open, atomically: true, encoding: .utf8)
        try replaying.execute(line: "replay \(open)")
        XCTAssertNil(replaying.lineModePrompt)
        _ = replayed.take()
        XCTAssertEqual(try run(replaying, replayed, "echo after the file"), ["after the file"])
    }
}
