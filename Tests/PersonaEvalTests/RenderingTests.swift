import Foundation
import XCTest
@testable import PersonaEval

/// What the tables say: the caricature note, the copy note, which figure `compare` marks.
final class RenderingTests: XCTestCase {
    static func person(attribution: Double, ceiling: Double, length: Double, loss: Double, copies: Double) -> PersonEvaluation {
        let score = { (x: Double) in AttributionScore(perMessage: x, perConversation: x, pairwisePerMessage: x, pairwisePerConversation: x,
                                                       messages: 10, conversations: 5) }
        var style = StyleProfile(messages: ["hello there"])
        style.meanLength = length
        let real = StyleProfile(messages: ["a real message of twenty"])
        return PersonEvaluation(person: "Alex", partners: ["Sam"], baseLoss: 3, adapterLoss: loss, attribution: score(attribution),
                                ceiling: score(ceiling), style: style, realStyle: real, distinct1: 0.8, distinct2: 0.9,
                                realDistinct1: 0.8, realDistinct2: 0.9, loopRate: 0, copies: CopyShare(share: copies, copies: 1, messages: 10, examples: []),
                                baselineCopies: CopyShare(share: 0.05, copies: 1, messages: 20, examples: []))
    }

    static func report(_ p: PersonEvaluation) -> EvalReport {
        EvalReport(settings: EvalSettings(adapter: "ed", dataset: "chats", model: "m", sampler: "default", samplerSettings: "",
                                          conversations: 5, turns: 4, seed: 1, people: ["Alex"]),
                   persons: [p], conversations: [GeneratedConversation(person: "Alex", partner: "Sam", turns: [.init(speaker: "Alex", text: "hi")])],
                   timings: ["generation": 1.5])
    }

    func testCaricatureAndCopyNotes() {
        let caricature = Self.person(attribution: 1.0, ceiling: 0.8, length: 24, loss: 1, copies: 0.2)
        XCTAssertTrue(caricature.looksLikeCaricature)
        let notes = EvalRendering.personNotes(caricature).joined(separator: "\n")
        XCTAssertTrue(notes.contains("caricature"), notes)
        XCTAssertTrue(notes.contains("20% of generated turns copy a real message, more than Alex's own baseline of 5%"), notes)
        let fine = Self.person(attribution: 0.85, ceiling: 0.8, length: 24, loss: 1, copies: 0.01)
        XCTAssertFalse(fine.looksLikeCaricature)
        XCTAssertEqual(EvalRendering.personNotes(fine), [])
        var unmeasured = caricature
        unmeasured.ceiling.messages = 0
        XCTAssertFalse(unmeasured.looksLikeCaricature)
        XCTAssertTrue(EvalRendering.personNotes(unmeasured)[0].contains("no ceiling"))
    }

    func testCompareMarksTheFigureCloserToTheReferenceOrLower() throws {
        // A: attribution at its ceiling, length twice the real one, higher loss.
        // B: attribution above its ceiling by 15 points, length equal to real, lower loss.
        let a = Self.report(Self.person(attribution: 0.8, ceiling: 0.8, length: 48, loss: 2, copies: 0.1))
        let b = Self.report(Self.person(attribution: 0.95, ceiling: 0.8, length: 24, loss: 1, copies: 0.1))
        let rows = EvalRendering.comparison([("A", a), ("B", b)])
        func row(_ metric: String) throws -> [String] { try XCTUnwrap(rows.first { $0[1] == metric }) }
        XCTAssertEqual(try row("held-out loss")[2...].map { $0.hasPrefix("*") }, [false, true])
        XCTAssertEqual(try row("attribution per conversation, all speakers")[2...].map { $0.hasPrefix("*") }, [true, false])
        XCTAssertEqual(try row("mean length (characters)")[2...].map { $0.hasPrefix("*") }, [false, true])
        // Equal figures mark nothing.
        XCTAssertEqual(try row("turns copying ≥ 40 characters")[2...].map { $0.hasPrefix("*") }, [false, false])
        XCTAssertEqual(EvalRendering.objective(b, metric: .attribution)!, 0.8, accuracy: 1e-12, "capped at the ceiling")
        XCTAssertEqual(EvalRendering.objective(a, metric: .loss)!, 2, accuracy: 1e-12)
    }

    func testReportJSONRoundTrips() throws {
        var p = Self.person(attribution: 0.5, ceiling: 0.9, length: 10, loss: 1.25, copies: 0)
        p.baseLoss = nil
        let r = Self.report(p)
        let decoded = try EvalReport.fromJSON(try r.json())
        XCTAssertEqual(decoded, r)
        XCTAssertEqual(decoded.withoutTimings.timings, [:])
    }
}
