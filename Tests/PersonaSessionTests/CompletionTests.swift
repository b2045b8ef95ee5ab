import Foundation
import PersonaTestSupport
import XCTest
@testable import PersonaSession

final class CompletionTests: XCTestCase {
    final class Thing {}
    let bench = Workbench(workspacePath: "/nonexistent", output: CapturedOutput())

    func candidates(_ line: String) -> [String] { Completion.complete(line: line, bench: bench).candidates }

    func testEveryCommandCompletesByNameAndEveryKeyByPrefix() {
        for spec in CommandTable.all {
            let words = spec.name.split(separator: " ").map(String.init)
            XCTAssertTrue(candidates(String(words[0].prefix(1))).contains(words[0]), "'\(spec.name)' does not complete")
            if words.count == 2 {
                XCTAssertTrue(candidates(words[0] + " " + String(words[1].prefix(1))).contains(words[1]), "'\(spec.name)' second word")
            }
            for a in spec.arguments where a.role == .keyed {
                XCTAssertTrue(candidates(spec.name + " " + String(a.name.prefix(1))).contains(a.name + "="),
                              "'\(spec.name)' does not complete \(a.name)=")
            }
            for a in spec.arguments where a.role == .flag {
                XCTAssertTrue(candidates(spec.name + " --").contains("--" + a.name.replacingOccurrences(of: "_", with: "-")),
                              "'\(spec.name)' does not complete --\(a.name)")
            }
        }
    }

    func testCommandNamesKeysAndChoices() {
        XCTAssertEqual(candidates("he"), ["help"])
        XCTAssertEqual(candidates("set "), ["color=", "editor=", "seed=", "threads="])
        XCTAssertEqual(candidates("set seed=1 th"), ["threads="])
        XCTAssertEqual(candidates("set editor="), ["editor=emacs", "editor=vi"])
        XCTAssertEqual(candidates("set color="), ["color=off", "color=on"])
        XCTAssertEqual(candidates("ls m"), ["model"])
        XCTAssertEqual(candidates("run --ch"), ["--check"])
        XCTAssertEqual(candidates("echo a; se"), ["set"])
        XCTAssertEqual(candidates("help re"), ["record", "replay"])
        XCTAssertEqual(candidates("model base models/x quantize=nf"), ["quantize=nf4", "quantize=nf4-dq"])
        XCTAssertEqual(candidates("model base models/x quantize="), ["quantize=nf4", "quantize=nf4-dq", "quantize=none", "quantize=q8_0"])
        let result = Completion.complete(line: "set thr", bench: bench)
        XCTAssertEqual(result.start, 4)
        XCTAssertEqual(result.partial, "thr")
    }

    func testObjectsPeopleAndIndices() {
        var chats = NamedObject(name: "chats", kind: .dataset, summary: "12 chunks", value: Thing())
        chats.indexCount = 12
        bench.register(chats)
        bench.register(NamedObject(name: "base", kind: .model, summary: "a model", value: Thing()))
        XCTAssertEqual(candidates("show "), ["base", "chats"])
        XCTAssertEqual(candidates("drop b"), ["base"])
        XCTAssertEqual(candidates("show chats[1"), ["chats[10]", "chats[11]", "chats[1]"])
        XCTAssertEqual(candidates("let x = se"), ["set"])
        XCTAssertEqual(candidates("let x = set th"), ["threads="])
        XCTAssertEqual(candidates("let x "), ["="])

        let person = CommandSpec("test person", summary: "takes a person", arguments: [.positional("who", .person, "someone")]) { _ in }
        XCTAssertEqual(Completion.argumentCandidates(spec: person, given: [], partial: "", bench: bench), [])
        Completion.providers[.person] = { _ in ["Ada Quill", "Bo Fenwick"] }
        defer { Completion.providers[.person] = nil }
        XCTAssertEqual(Completion.argumentCandidates(spec: person, given: [], partial: "", bench: bench).sorted(), ["Ada Quill", "Bo Fenwick"])
    }

    func testPathsCompleteFromTheFileSystem() throws {
        let dir = try TestPaths.temporaryDirectory("complete")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "".write(toFile: dir + "/notes.persona", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/nested", withIntermediateDirectories: false)
        try "".write(toFile: dir + "/.hidden", atomically: true, encoding: .utf8)
        XCTAssertEqual(candidates("run \(dir)/n"), ["\(dir)/nested/", "\(dir)/notes.persona"])
        XCTAssertEqual(candidates("run \(dir)/."), ["\(dir)/.hidden"])
        // model= takes a session model or a file.
        XCTAssertEqual(candidates("tokenize model=\(dir)/no"), ["model=\(dir)/notes.persona"])
        let common = Completion.complete(line: "run \(dir)/no", bench: bench)
        XCTAssertEqual(common.commonPrefix, "\(dir)/notes.persona")
    }
}

final class TerminalProgressTests: XCTestCase {
    func testLineShowsBarCountRateAndETA() {
        let line = TerminalProgress.line(label: "train", done: 5, total: 20, unit: "steps", elapsed: 2.5, detail: "loss 2.31", width: 100)
        XCTAssertEqual(line, "train  [#####...............]  5/20 steps  2.00 steps/s  ETA 0:08  loss 2.31")
        let open = TerminalProgress.line(label: "import", done: 1500, total: nil, unit: "rows", elapsed: 1, detail: nil, width: 100)
        XCTAssertEqual(open, "import  1500 rows  1500 rows/s")
        XCTAssertEqual(TerminalProgress.line(label: "x", done: 0, total: 10, unit: "u", elapsed: 0, detail: nil, width: 12).unicodeScalars.count, 11)
        XCTAssertEqual(TerminalProgress.formatClock(3725), "1:02:05")
    }
}

final class ProgressOutputTests: XCTestCase {
    func testOutputClearsTheBarAndRedrawsIt() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]) }
        let progress = TerminalProgress(fileDescriptor: fds[1], interval: 0, clock: { 1 })
        let printed = CapturedOutput()
        let output = ProgressAwareOutput(printed, progress: progress)
        output.write("before\n")
        progress.begin("work", total: 2, unit: "steps")
        output.write("during\n")
        progress.finish()
        close(fds[1])
        let bar = String(decoding: FileHandle(fileDescriptor: fds[0]).readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(printed.text, "before\nduring\n")
        let drawn = "\r\u{1B}[Kwork  [....................]  0/2 steps"
        XCTAssertEqual(bar, drawn + "\r\u{1B}[K" + drawn + "\r\u{1B}[K")
    }
}

final class PeopleCompletionTests: XCTestCase {
    func testPeopleCompleteFromTheStoreOnceItExists() throws {
        let dir = try TestPaths.temporaryDirectory("people")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bench = Workbench(workspacePath: dir + "/ws", output: CapturedOutput())
        // No store yet: nothing is offered, and nothing is created.
        XCTAssertEqual(Completion.complete(line: "messages person=Pr", bench: bench).candidates, [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/ws"))
        try bench.execute(line: "demo-data \(dir)/exports; import \(dir)/exports me=\"Sam Rivera\" timezone=UTC")
        XCTAssertEqual(Completion.complete(line: "messages person=Pr", bench: bench).candidates, ["person=Priya Nair"])
        XCTAssertEqual(LineLexer.quote("person=Priya Nair"), #"person="Priya Nair""#)
    }
}
