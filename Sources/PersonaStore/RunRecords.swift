import CSQLite
import Foundation
import PersonaCore

/// Training runs and their per-step metrics in the workspace database (namespace "train"):
/// the SQL of the train layer, which stores and reads plain values through this type.
///
/// Every write is one short transaction, so that a trainer never holds the write lock across
/// steps and an import or an evaluation in another process keeps working beside it.
public final class RunRecords {
    /// One row of `train_runs`.
    public struct Run: Equatable, Sendable {
        public var id: Int64
        public var adapter: String
        public var dataset: String
        public var model: String
        public var settings: String
        public var startedAt: String
        public var stepsDone: Int
        public var stepsPlanned: Int
        /// As last written: running, stopped or finished. A process that dies leaves "running".
        public var status: String
        /// The process that last claimed the run (nil for runs recorded before it was kept).
        public var pid: Int32?
        public var checkpoint: String?
        public var checkpointStep: Int?
        public var lastLoss: Double?
        public var lastEvalLoss: Double?
    }

    /// What one optimizer step recorded.
    public struct Step: Equatable, Sendable {
        public var step: Int
        public var loss: Double
        public var learningRate: Double
        public var gradientNorm: Double
        public var tokens: Int
        public var countedTokens: Int
        public var seconds: Double
        public var evalLoss: Double?
        public init(step: Int, loss: Double, learningRate: Double, gradientNorm: Double, tokens: Int, countedTokens: Int,
                    seconds: Double, evalLoss: Double?) {
            self.step = step; self.loss = loss; self.learningRate = learningRate; self.gradientNorm = gradientNorm
            self.tokens = tokens; self.countedTokens = countedTokens; self.seconds = seconds; self.evalLoss = evalLoss
        }
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
        // v2: who holds the run, and the step of its latest checkpoint (for an honest status
        // after the process is gone).
        """
        ALTER TABLE train_runs ADD COLUMN pid INTEGER;
        ALTER TABLE train_runs ADD COLUMN checkpoint_step INTEGER;
        """,
    ]

    public let database: Database

    public init(database: Database) throws {
        self.database = database
        try database.migrate(namespace: "train", migrations: RunRecords.migrations)
    }

    /// True when `error` is SQLite saying another connection holds the lock past the busy
    /// timeout: worth retrying later rather than failing a training run.
    public static func isBusy(_ error: Error) -> Bool {
        guard case StoreError.database(_, let code, _)? = error as? StoreError else { return false }
        return code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED
    }

    public func startRun(adapter: String, dataset: String, model: String, settings: String, stepsPlanned: Int,
                         pid: Int32, startedAt: String) throws -> Int64 {
        try database.transaction {
            try database.run("""
                INSERT INTO train_runs(adapter, dataset, model, settings, started_at, steps_planned, status, pid)
                VALUES(?, ?, ?, ?, ?, ?, 'running', ?)
                """, [.text(adapter), .text(dataset), .text(model), .text(settings), .text(startedAt),
                      .int(Int64(stepsPlanned)), .int(Int64(pid))])
            return database.lastInsertRowID
        }
    }

    /// Records steps (in order) and moves the run's step count to the last of them.
    public func record(run: Int64, _ steps: [Step]) throws {
        guard let last = steps.last else { return }
        try database.transaction {
            for m in steps {
                try database.run("INSERT OR REPLACE INTO train_steps(run_id, step, loss, lr, grad_norm, tokens, counted_tokens, seconds, eval_loss) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 [.int(run), .int(Int64(m.step)), .double(m.loss), .double(m.learningRate), .double(m.gradientNorm),
                                  .int(Int64(m.tokens)), .int(Int64(m.countedTokens)), .double(m.seconds), m.evalLoss.map { .double($0) } ?? .null])
            }
            try database.run("UPDATE train_runs SET steps_done = ? WHERE id = ?", [.int(Int64(last.step)), .int(run)])
        }
    }

    /// Forgets the steps after `step` (a resumed run redoes them from its checkpoint).
    public func truncate(run: Int64, after step: Int) throws {
        try database.transaction {
            try database.run("DELETE FROM train_steps WHERE run_id = ? AND step > ?", [.int(run), .int(Int64(step))])
            try database.run("UPDATE train_runs SET steps_done = MIN(steps_done, ?) WHERE id = ?", [.int(Int64(step)), .int(run)])
        }
    }

    public func setStatus(run: Int64, _ status: String, pid: Int32? = nil) throws {
        if let pid {
            try database.run("UPDATE train_runs SET status = ?, pid = ? WHERE id = ?", [.text(status), .int(Int64(pid)), .int(run)])
        } else {
            try database.run("UPDATE train_runs SET status = ? WHERE id = ?", [.text(status), .int(run)])
        }
    }

    public func setCheckpoint(run: Int64, path: String, step: Int) throws {
        try database.run("UPDATE train_runs SET checkpoint = ?, checkpoint_step = ? WHERE id = ?",
                         [.text(path), .int(Int64(step)), .int(run)])
    }

    private static let runColumns = """
        SELECT r.id, r.adapter, r.dataset, r.model, r.settings, r.started_at, r.steps_done, r.steps_planned, r.status,
               r.pid, r.checkpoint, r.checkpoint_step,
               (SELECT loss FROM train_steps s WHERE s.run_id = r.id ORDER BY step DESC LIMIT 1),
               (SELECT eval_loss FROM train_steps s WHERE s.run_id = r.id AND eval_loss IS NOT NULL ORDER BY step DESC LIMIT 1)
        FROM train_runs r
        """

    private static func run(_ s: Statement) -> Run {
        Run(id: s.int64(0), adapter: s.string(1), dataset: s.string(2), model: s.string(3), settings: s.string(4),
            startedAt: s.string(5), stepsDone: s.int(6), stepsPlanned: s.int(7), status: s.string(8),
            pid: s.isNull(9) ? nil : Int32(truncatingIfNeeded: s.int64(9)), checkpoint: s.isNull(10) ? nil : s.string(10),
            checkpointStep: s.isNull(11) ? nil : s.int(11),
            lastLoss: s.isNull(12) ? nil : s.double(12), lastEvalLoss: s.isNull(13) ? nil : s.double(13))
    }

    public func runs() throws -> [Run] {
        try database.query(RunRecords.runColumns + " ORDER BY r.id", [], RunRecords.run)
    }

    public func run(_ id: Int64) throws -> Run? {
        try database.query(RunRecords.runColumns + " WHERE r.id = ?", [.int(id)], RunRecords.run).first
    }

    /// (step, loss, eval loss) of one run, in order.
    public func curve(run: Int64) throws -> [(step: Int, loss: Double, evalLoss: Double?)] {
        try database.query("SELECT step, loss, eval_loss FROM train_steps WHERE run_id = ? ORDER BY step", [.int(run)]) { s in
            (s.int(0), s.double(1), s.isNull(2) ? nil : s.double(2))
        }
    }
}
