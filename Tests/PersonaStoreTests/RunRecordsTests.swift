import Foundation
import XCTest
import PersonaCore
import PersonaTestSupport
@testable import PersonaStore

/// Training runs in the workspace database: the v2 columns (holder pid, checkpoint step) on a
/// database made before them, and the writes a resumed run makes.
final class RunRecordsTests: StoreTestCase {
    func step(_ n: Int, eval: Double? = nil) -> RunRecords.Step {
        RunRecords.Step(step: n, loss: 3 - Double(n) / 10, learningRate: 1e-3, gradientNorm: 0.5, tokens: 100, countedTokens: 40,
                        seconds: 0.25, evalLoss: eval)
    }

    func testARunRecordsStepsCheckpointsAndRedoneSteps() throws {
        let records = try RunRecords(database: store.database)
        let id = try records.startRun(adapter: "ed", dataset: "chats", model: "m.gguf", settings: "steps=10", stepsPlanned: 10,
                                      pid: 4242, startedAt: "2026-12-06T03:00:00Z")
        try records.record(run: id, [step(1), step(2, eval: 2.5)])
        try records.record(run: id, (3...8).map { step($0) })
        try records.setCheckpoint(run: id, path: "/w/runs/run-1/checkpoint-000006", step: 6)
        var run = try XCTUnwrap(try records.run(id))
        XCTAssertEqual(run.status, "running")
        XCTAssertEqual(run.pid, 4242)
        XCTAssertEqual(run.stepsDone, 8)
        XCTAssertEqual(run.checkpointStep, 6)
        XCTAssertEqual(run.lastEvalLoss, 2.5)
        XCTAssertEqual(run.lastLoss ?? 0, 2.2, accuracy: 1e-12)

        // Resumed from step 6: steps 7 and 8 are forgotten until they are done again.
        try records.truncate(run: id, after: 6)
        try records.setStatus(run: id, "running", pid: 777)
        run = try XCTUnwrap(try records.run(id))
        XCTAssertEqual(run.stepsDone, 6)
        XCTAssertEqual(run.pid, 777)
        XCTAssertEqual(try records.curve(run: id).map(\.step), Array(1...6))
        XCTAssertNil(try records.run(id + 1))
    }

    /// A workspace whose runs were recorded before v2 keeps them, with no pid or checkpoint step.
    func testVersionOneRunsSurviveTheMigration() throws {
        let database = store.database
        try database.migrate(namespace: "train", migrations: Array(RunRecords.migrations.prefix(1)))
        try database.run("INSERT INTO train_runs(adapter, dataset, model, settings, started_at, steps_done, steps_planned, status) VALUES('a', 'd', 'm', 's', 't', 3, 9, 'running')")
        let records = try RunRecords(database: database)
        XCTAssertEqual(try database.schemaVersion(namespace: "train"), 2)
        let old = try XCTUnwrap(try records.runs().first)
        XCTAssertEqual(old.stepsDone, 3)
        XCTAssertNil(old.pid)
        XCTAssertNil(old.checkpointStep)
    }

    func testBusyIsToldApartFromOtherFailures() {
        XCTAssertTrue(RunRecords.isBusy(StoreError.database(path: "p", code: 5, reason: "database is locked")))
        XCTAssertTrue(RunRecords.isBusy(StoreError.database(path: "p", code: 5 | (2 << 8), reason: "database is locked")))
        XCTAssertFalse(RunRecords.isBusy(StoreError.database(path: "p", code: 11, reason: "malformed")))
        XCTAssertFalse(RunRecords.isBusy(StoreError.invalid("x")))
    }
}
