import Foundation
import XCTest
@testable import PersonaStore

/// Evaluations, sweep points and blind tests survive a reopen of the database.
final class EvalRecordsTests: StoreTestCase {
    func testEvalsSweepPointsAndBlindTestsAreKept() throws {
        let records = try EvalRecords(database: store.database)
        let id = try records.saveEval(adapter: "ed", dataset: "chats", seed: UInt64.max, summary: "ed on chats", reportJSON: "{}")
        XCTAssertEqual(try records.eval(id)?.seed, UInt64.max)
        XCTAssertEqual(try records.evals().map(\.adapter), ["ed"])
        XCTAssertNil(try records.eval(id + 1))

        try records.createSweep(name: "s", dataset: "chats", space: "rank=4,8", options: "metric=loss", points: ["rank=4", "rank=8"])
        var points = try records.points(of: "s")
        XCTAssertEqual(points.map(\.status), ["pending", "pending"])
        points[1].status = "done"; points[1].score = 1.5; points[1].stepsDone = 4; points[1].evalID = id
        try records.updatePoint(points[1])
        try records.setSweepStatus("s", "finished")

        let reopened = try EvalRecords(database: store.database)
        XCTAssertEqual(try reopened.points(of: "s")[1], points[1])
        XCTAssertEqual(try reopened.sweep("s")?.status, "finished")
        XCTAssertNil(try reopened.sweep("t"))
        // A second sweep of the same name is refused by the key.
        XCTAssertThrowsError(try reopened.createSweep(name: "s", dataset: "chats", space: "", options: "", points: []))
        XCTAssertEqual(try reopened.points(of: "s").count, 2)

        let test = try reopened.saveBlindTest(person: "Alex", source: "eval 1", pairs: true, itemsJSON: "[]", answers: "1,2", generatedJudgedReal: 0.5)
        XCTAssertEqual(try reopened.blindTests().first?.id, test)
        XCTAssertEqual(try reopened.blindTests().first?.generatedJudgedReal, 0.5)
    }
}
