import Foundation
import XCTest
import PersonaCore
import PersonaEval
import PersonaStore
@testable import PersonaSession
import PersonaTestSupport

/// `eval`, `evals`, `eval show`, `compare`, `blindtest` and `sweep` on a tiny random model
/// (the default model's tokenizer, two layers of 64) and a small slice of the demo history.
final class EvalCommandTests: XCTestCase {
    var directory = ""
    var bench: Workbench!
    let out = CapturedOutput()

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("eval-commands")
        let model = directory + "/tiny-f16.gguf"
        try QuantizedBaseTests.writeTinyFloatModel(to: model)
        bench = try QuantizedBaseTests.tinyDemoSession(directory: directory, workspace: directory + "/workspace", output: out, imitate: "both")
        for line in [
            "model base \(model)",
            "adapter ed rank=4 alpha=8 targets=q,v model=base",
            "train tiny steps=2 batch=2 lr=1e-3",
            "sampler short max_tokens=6 temperature=0.9",
        ] { try bench.execute(line: line) }
        _ = out.take()
    }

    override func tearDownWithError() throws {
        bench = nil
        try? FileManager.default.removeItem(atPath: directory)
    }

    func run(_ line: String) throws -> String {
        try bench.execute(line: line)
        return out.take()
    }

    func testEvalIsStoredShownComparedAndTheSameSeedGivesTheSameEval() throws {
        let first = try run("eval ed on=tiny n=2 turns=3 sampler=short seed=7 --json")
        let second = try run("eval ed on=tiny n=2 turns=3 sampler=short seed=7 --json")
        XCTAssertEqual(first, second)
        let report = try EvalReport.fromJSON(first.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(report.settings.seed, 7)
        XCTAssertGreaterThanOrEqual(report.persons.count, 2, "imitate=both judges the owner and the contacts")
        XCTAssertTrue(report.persons.contains { $0.person == "Sam Rivera" })
        XCTAssertEqual(report.conversations.count, report.persons.count * 2)
        for c in report.conversations {
            XCTAssertLessThanOrEqual(c.turns.count, 3)
            XCTAssertEqual(c.turns.first?.speaker, c.person, "the judged person writes first")
        }
        for p in report.persons {
            XCTAssertEqual(p.attribution.conversations, 2)
            for x in [p.attribution.perMessage, p.attribution.perConversation, p.ceiling.perMessage, p.ceiling.pairwisePerConversation,
                      p.loopRate, p.copies.share, p.baselineCopies.share] {
                XCTAssertTrue((0...1).contains(x), "\(p.person): \(x)")
            }
            XCTAssertGreaterThan(p.ceiling.messages, 0, p.person)
            XCTAssertTrue(p.baseLoss?.isFinite == true && p.adapterLoss?.isFinite == true, p.person)
            XCTAssertGreaterThan(p.realStyle.meanLength, 0)
        }

        let text = try run("eval ed on=tiny n=2 turns=3 sampler=short seed=8")
        for expected in ["eval 3: adapter ed on tiny", "attribution per conversation, all speakers", "attribution per message, vs partner",
                         "distinct-2 (same word count)", "turns copying ≥ 40 characters", "own baseline", "summary", "time: generation",
                         "saved as eval 3"] {
            XCTAssertTrue(text.contains(expected), "missing '\(expected)' in:\n\(text)")
        }
        let list = try run("evals")
        XCTAssertEqual(list.split(separator: "\n").count, 5, list)  // header, rule, three evals
        let shown = try run("eval show 1 --conversations")
        XCTAssertTrue(shown.contains("eval 1: adapter ed on tiny") && shown.contains("conversation 1 ("), shown)
        XCTAssertEqual(try run("eval show 2 --json"), second)

        let compared = try run("compare 1 3")
        XCTAssertTrue(compared.contains("eval 1 (ed)") && compared.contains("eval 3 (ed)"), compared)
        XCTAssertTrue(compared.contains("held-out loss") && compared.contains("Sam Rivera"), compared)
        // Eval 1 and 2 are the same: no row has a better figure.
        XCTAssertFalse(try run("compare 1 2").contains("*"))

        XCTAssertThrowsError(try bench.execute(line: "compare 1")) { XCTAssertTrue(describeError($0).contains("two or more"), describeError($0)) }
        XCTAssertThrowsError(try bench.execute(line: "eval show 9")) { XCTAssertTrue(describeError($0).contains("no eval 9"), describeError($0)) }
        XCTAssertThrowsError(try bench.execute(line: "eval ed on=tiny people=Nobody n=1")) {
            XCTAssertTrue(describeError($0).contains("people=Nobody is not valid"), describeError($0))
        }
    }

    func testBlindTestWithScriptedAndPipedAnswers() throws {
        _ = try run("eval ed on=tiny n=2 turns=4 sampler=short seed=3 people=\"Sam Rivera\"")
        // answers=: calling every message real means every generated one was judged real.
        let scripted = try run("blindtest with=\"Sam Rivera\" n=4 answers=r,real,r,R")
        XCTAssertTrue(scripted.contains("generated messages judged real: 2 of 2 (100%"), scripted)
        XCTAssertTrue(scripted.contains("2 of 4 right"), scripted)
        XCTAssertTrue(scripted.contains("saved as blind test 1"), scripted)

        // Answers read line by line (as from a terminal or a pipe); a bad answer is asked again,
        // and running out of answers scores those given.
        var lines = ["1", "maybe", "2"]
        bench.state(EvalAreaState.self) { EvalAreaState() }.readAnswer = { lines.isEmpty ? nil : lines.removeFirst() }
        let pairs = try run("blindtest with=\"Sam Rivera\" n=3 --pairs")
        XCTAssertEqual(pairs.components(separatedBy: "which is real? [1/2]").count - 1, 4, pairs)
        XCTAssertTrue(pairs.contains("(no more answers: scoring the 2 given)"), pairs)
        XCTAssertTrue(pairs.contains("of 2 (") && pairs.contains("saved as blind test 2"), pairs)
        let stored = try records().blindTests()
        XCTAssertEqual(stored.map(\.answers), ["r,real,r,R", "1,2"])

        XCTAssertThrowsError(try bench.execute(line: "blindtest with=Nobody")) {
            XCTAssertTrue(describeError($0).contains("no stored eval judged Nobody"), describeError($0))
        }
    }

    /// The session's own records (a second connection could read a stale snapshot).
    func records() throws -> EvalRecords {
        try XCTUnwrap(bench.existingState(EvalAreaState.self)?.records)
    }

    /// Cancels the session's work when a progress bar whose label contains `marker` begins.
    final class CancelAt: ProgressReporter {
        let marker: String
        let token: CancellationToken
        init(_ marker: String, _ token: CancellationToken) { self.marker = marker; self.token = token }
        func begin(_ label: String, total: Int?, unit: String) { if label.contains(marker) { token.cancel() } }
        func advance(to done: Int, detail: String?) {}
        func finish() {}
    }

    func testSweepResumesWithoutRepeatingFinishedPoints() throws {
        bench.progress = CancelAt("point 2/2", bench.cancellation)
        let interrupted = try run("sweep s on=tiny over \"lr=1e-3,2e-3 steps=2\" metric=loss n=1 turns=2 sampler=short model=base targets=q,v")
        XCTAssertTrue(interrupted.contains("point 1/2 lr=1e-3 steps=2: 2 steps, loss"), interrupted)
        XCTAssertTrue(interrupted.contains("point 2/2 lr=2e-3 steps=2: stopped after 0 steps; 'sweep continue s' resumes"), interrupted)
        bench.progress = SilentProgress()
        let resumed = try run("sweep continue s")
        XCTAssertFalse(resumed.contains("point 1/2"), resumed)
        XCTAssertTrue(resumed.contains("point 2/2 lr=2e-3 steps=2: 2 steps, loss"), resumed)
        XCTAssertTrue(resumed.contains("best: point "), resumed)
        XCTAssertTrue(resumed.contains("marginal means of loss"), resumed)
        XCTAssertTrue(resumed.contains("(the best point) is loaded and active"), resumed)
        // One evaluation per point: nothing ran twice.
        XCTAssertEqual(try run("evals").split(separator: "\n").count, 4)  // header, rule, two evals
        let shown = try run("sweep show s")
        XCTAssertEqual(shown.components(separatedBy: " done ").count - 1, 2, shown)
        XCTAssertThrowsError(try bench.execute(line: "sweep s on=tiny over=\"lr=1e-3\"")) {
            XCTAssertTrue(describeError($0).contains("'sweep continue s'"), describeError($0))
        }
        XCTAssertThrowsError(try bench.execute(line: "sweep t on=tiny over=\"lr=1e-3 depth=2\"")) {
            XCTAssertTrue(describeError($0).contains("unknown parameter 'depth'"), describeError($0))
        }
    }

    func testSweepHalvingKeepsTheBetterHalf() throws {
        let text = try run("sweep h on=tiny over=\"lr=1e-6,3e-3,3e-2,1e-3 steps=4\" metric=loss halving=on n=1 turns=2 sampler=short model=base targets=q,v")
        // The first rung's losses as printed, then the survivors the command named.
        var firstRung: [Int: Double] = [:]
        for line in text.split(separator: "\n") where line.contains(": 1 steps, loss ") {
            let point = Int(line.split(separator: " ")[1].split(separator: "/")[0])!
            firstRung[point] = Double(line.components(separatedBy: "loss ").last!.split(separator: " ")[0])!
        }
        XCTAssertEqual(firstRung.count, 4, text)
        let expected = firstRung.sorted { $0.value < $1.value }.prefix(2).map(\.key).sorted()
        XCTAssertTrue(text.contains("2 of 4 points go on (\(expected.map(String.init).joined(separator: ", ")))"), text)
        let points = try records().points(of: "h")
        let stopped = Set(points.filter { $0.status == "stopped" }.map { $0.index + 1 })
        XCTAssertTrue(stopped.isSuperset(of: Set(1...4).subtracting(expected)), "\(stopped)")
        XCTAssertEqual(stopped.count, 3)
        XCTAssertEqual(points.filter { $0.status == "done" }.count, 1)
        XCTAssertTrue(expected.contains(points.first { $0.status == "done" }!.index + 1))
        XCTAssertEqual(points.first { $0.status == "done" }?.stepsDone, 4)
        XCTAssertTrue(text.contains("1 of 2 points go on"), text)
    }
}
