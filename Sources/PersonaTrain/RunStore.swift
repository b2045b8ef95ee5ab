import Foundation
import PersonaCore
import PersonaStore

/// Training runs and their per-step metrics in the workspace database (namespace "train").
public final class RunStore {
    public struct Run: Equatable, Sendable {
        public var id: Int64
        public var adapter: String
        public var dataset: String
        public var model: String
        public var settings: String
        public var startedAt: String
        public var stepsDone: Int
        public var stepsPlanned: Int
        public var status: String
        public var lastLoss: Double?
        public var lastEvalLoss: Double?
    }

    static let migrations = [
        """
        CREATE TABLE train_runs(
            id INTEGER PRIMARY KEY,
            adapter TEXT NOT NULL,
            dataset TEXT NOT NULL,
            model TEXT NOT NULL,
            settings TEXT NOT NULL,
            started_at TEXT NOT NULL,
            steps_done INTEGER NOT NULL DEFAULT 0,
            steps_planned INTEGER NOT NULL,
            status TEXT NOT NULL,
            checkpoint TEXT);
        CREATE TABLE train_steps(
            run_id INTEGER NOT NULL REFERENCES train_runs(id) ON DELETE CASCADE,
            step INTEGER NOT NULL,
            loss REAL NOT NULL,
            lr REAL NOT NULL,
            grad_norm REAL NOT NULL,
            tokens INTEGER NOT NULL,
            counted_tokens INTEGER NOT NULL,
            seconds REAL NOT NULL,
            eval_loss REAL,
            PRIMARY KEY(run_id, step)) WITHOUT ROWID;
        """,
    ]

    public let database: Database

    public init(database: Database) throws {
        self.database = database
        try database.migrate(namespace: "train", migrations: RunStore.migrations)
    }

    public func startRun(adapter: String, dataset: String, model: String, settings: TrainSettings) throws -> Int64 {
        let text = "steps=\(settings.steps) lr=\(settings.learningRate) batch=\(settings.batchSize) accum=\(settings.accumulation) schedule=\(settings.schedule.rawValue) warmup=\(settings.effectiveWarmup) clip=\(settings.clip) eval_every=\(settings.evalEvery) seed=\(settings.seed)"
        let now = ISO8601DateFormatter().string(from: Date())
        try database.run("INSERT INTO train_runs(adapter, dataset, model, settings, started_at, steps_planned, status) VALUES(?, ?, ?, ?, ?, ?, 'running')",
                         [.text(adapter), .text(dataset), .text(model), .text(text), .text(now), .int(Int64(settings.steps))])
        return database.lastInsertRowID
    }

    public func record(run: Int64, _ m: StepMetrics) throws {
        try database.transaction {
            try database.run("INSERT OR REPLACE INTO train_steps(run_id, step, loss, lr, grad_norm, tokens, counted_tokens, seconds, eval_loss) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [.int(run), .int(Int64(m.step)), .double(m.loss), .double(m.learningRate), .double(m.gradientNorm),
                              .int(Int64(m.tokens)), .int(Int64(m.countedTokens)), .double(m.seconds), m.evalLoss.map { .double($0) } ?? .null])
            try database.run("UPDATE train_runs SET steps_done = ? WHERE id = ?", [.int(Int64(m.step)), .int(run)])
        }
    }

    public func setStatus(run: Int64, _ status: String, checkpoint: String? = nil) throws {
        if let checkpoint {
            try database.run("UPDATE train_runs SET status = ?, checkpoint = ? WHERE id = ?", [.text(status), .text(checkpoint), .int(run)])
        } else {
            try database.run("UPDATE train_runs SET status = ? WHERE id = ?", [.text(status), .int(run)])
        }
    }

    public func runs() throws -> [Run] {
        try database.query("""
            SELECT r.id, r.adapter, r.dataset, r.model, r.settings, r.started_at, r.steps_done, r.steps_planned, r.status,
                   (SELECT loss FROM train_steps s WHERE s.run_id = r.id ORDER BY step DESC LIMIT 1),
                   (SELECT eval_loss FROM train_steps s WHERE s.run_id = r.id AND eval_loss IS NOT NULL ORDER BY step DESC LIMIT 1)
            FROM train_runs r ORDER BY r.id
            """) { s in
            Run(id: s.int64(0), adapter: s.string(1), dataset: s.string(2), model: s.string(3), settings: s.string(4),
                startedAt: s.string(5), stepsDone: s.int(6), stepsPlanned: s.int(7), status: s.string(8),
                lastLoss: s.isNull(9) ? nil : s.double(9), lastEvalLoss: s.isNull(10) ? nil : s.double(10))
        }
    }

    /// (step, loss, eval loss) of one run, in order.
    public func curve(run: Int64) throws -> [(step: Int, loss: Double, evalLoss: Double?)] {
        try database.query("SELECT step, loss, eval_loss FROM train_steps WHERE run_id = ? ORDER BY step", [.int(run)]) { s in
            (s.int(0), s.double(1), s.isNull(2) ? nil : s.double(2))
        }
    }
}
