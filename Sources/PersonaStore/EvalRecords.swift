import Foundation

/// Evaluations, sweeps and blind tests in the workspace database (namespace "eval"). The
/// reports themselves are JSON written by the evaluation layer; this layer only keeps them.
public final class EvalRecords {
    public struct EvalRow: Equatable, Sendable {
        public var id: Int64
        public var createdAt: String
        public var adapter: String
        public var dataset: String
        public var seed: UInt64
        /// One line for `evals`.
        public var summary: String
        public var reportJSON: String
    }

    public struct SweepRow: Equatable, Sendable {
        public var name: String
        public var dataset: String
        public var space: String
        /// The sweep's options as `key=value` words (metric, halving, n, …).
        public var options: String
        public var status: String
        public var createdAt: String
    }

    public struct SweepPointRow: Equatable, Sendable {
        public var sweep: String
        public var index: Int
        /// `lr=1e-4 rank=8 steps=200`
        public var parameters: String
        /// pending, running, stopped (halving), done, failed
        public var status: String
        public var stepsDone: Int
        public var score: Double?
        public var evalID: Int64?
        public var checkpoint: String?
    }

    public struct BlindTestRow: Equatable, Sendable {
        public var id: Int64
        public var createdAt: String
        public var person: String
        public var source: String
        public var pairs: Bool
        public var itemsJSON: String
        public var answers: String
        public var generatedJudgedReal: Double
    }

    static let migrations = [
        """
        CREATE TABLE evals(
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            adapter TEXT NOT NULL,
            dataset TEXT NOT NULL,
            seed INTEGER NOT NULL,
            summary TEXT NOT NULL,
            report TEXT NOT NULL);
        CREATE TABLE sweeps(
            name TEXT PRIMARY KEY,
            dataset TEXT NOT NULL,
            space TEXT NOT NULL,
            options TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL);
        CREATE TABLE sweep_points(
            sweep TEXT NOT NULL REFERENCES sweeps(name) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            parameters TEXT NOT NULL,
            status TEXT NOT NULL,
            steps_done INTEGER NOT NULL DEFAULT 0,
            score REAL,
            eval_id INTEGER,
            checkpoint TEXT,
            PRIMARY KEY(sweep, idx)) WITHOUT ROWID;
        CREATE TABLE blindtests(
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            person TEXT NOT NULL,
            source TEXT NOT NULL,
            pairs INTEGER NOT NULL,
            items TEXT NOT NULL,
            answers TEXT NOT NULL,
            generated_judged_real REAL NOT NULL);
        """,
    ]

    public let database: Database

    public init(database: Database) throws {
        self.database = database
        try database.migrate(namespace: "eval", migrations: EvalRecords.migrations)
    }

    static var now: String { ISO8601DateFormatter().string(from: Date()) }

    // MARK: Evaluations

    public func saveEval(adapter: String, dataset: String, seed: UInt64, summary: String, reportJSON: String) throws -> Int64 {
        try database.run("INSERT INTO evals(created_at, adapter, dataset, seed, summary, report) VALUES(?, ?, ?, ?, ?, ?)",
                         [.text(EvalRecords.now), .text(adapter), .text(dataset), .int(Int64(bitPattern: seed)), .text(summary), .text(reportJSON)])
        return database.lastInsertRowID
    }

    private static let evalColumns = "id, created_at, adapter, dataset, seed, summary, report"

    private static func evalRow(_ s: Statement) -> EvalRow {
        EvalRow(id: s.int64(0), createdAt: s.string(1), adapter: s.string(2), dataset: s.string(3),
                seed: UInt64(bitPattern: s.int64(4)), summary: s.string(5), reportJSON: s.string(6))
    }

    public func evals() throws -> [EvalRow] {
        try database.query("SELECT \(EvalRecords.evalColumns) FROM evals ORDER BY id", [], EvalRecords.evalRow)
    }

    public func eval(_ id: Int64) throws -> EvalRow? {
        try database.query("SELECT \(EvalRecords.evalColumns) FROM evals WHERE id = ?", [.int(id)], EvalRecords.evalRow).first
    }

    // MARK: Sweeps

    public func createSweep(name: String, dataset: String, space: String, options: String, points: [String]) throws {
        try database.transaction {
            try database.run("INSERT INTO sweeps(name, dataset, space, options, status, created_at) VALUES(?, ?, ?, ?, 'running', ?)",
                             [.text(name), .text(dataset), .text(space), .text(options), .text(EvalRecords.now)])
            for (i, p) in points.enumerated() {
                try database.run("INSERT INTO sweep_points(sweep, idx, parameters, status) VALUES(?, ?, ?, 'pending')",
                                 [.text(name), .int(Int64(i)), .text(p)])
            }
        }
    }

    public func sweep(_ name: String) throws -> SweepRow? {
        try database.query("SELECT name, dataset, space, options, status, created_at FROM sweeps WHERE name = ?", [.text(name)]) { s in
            SweepRow(name: s.string(0), dataset: s.string(1), space: s.string(2), options: s.string(3), status: s.string(4), createdAt: s.string(5))
        }.first
    }

    public func sweeps() throws -> [SweepRow] {
        try database.query("SELECT name, dataset, space, options, status, created_at FROM sweeps ORDER BY created_at, name", []) { s in
            SweepRow(name: s.string(0), dataset: s.string(1), space: s.string(2), options: s.string(3), status: s.string(4), createdAt: s.string(5))
        }
    }

    public func setSweepStatus(_ name: String, _ status: String) throws {
        try database.run("UPDATE sweeps SET status = ? WHERE name = ?", [.text(status), .text(name)])
    }

    public func points(of sweep: String) throws -> [SweepPointRow] {
        try database.query("SELECT sweep, idx, parameters, status, steps_done, score, eval_id, checkpoint FROM sweep_points WHERE sweep = ? ORDER BY idx",
                           [.text(sweep)]) { s in
            SweepPointRow(sweep: s.string(0), index: s.int(1), parameters: s.string(2), status: s.string(3), stepsDone: s.int(4),
                          score: s.isNull(5) ? nil : s.double(5), evalID: s.optionalInt64(6), checkpoint: s.optionalString(7))
        }
    }

    public func updatePoint(_ p: SweepPointRow) throws {
        try database.run("UPDATE sweep_points SET status = ?, steps_done = ?, score = ?, eval_id = ?, checkpoint = ? WHERE sweep = ? AND idx = ?",
                         [.text(p.status), .int(Int64(p.stepsDone)), p.score.map { .double($0) } ?? .null, p.evalID.map { .int($0) } ?? .null,
                          p.checkpoint.map { .text($0) } ?? .null, .text(p.sweep), .int(Int64(p.index))])
    }

    // MARK: Blind tests

    public func saveBlindTest(person: String, source: String, pairs: Bool, itemsJSON: String, answers: String,
                              generatedJudgedReal: Double) throws -> Int64 {
        try database.run("""
            INSERT INTO blindtests(created_at, person, source, pairs, items, answers, generated_judged_real) VALUES(?, ?, ?, ?, ?, ?, ?)
            """, [.text(EvalRecords.now), .text(person), .text(source), .int(pairs ? 1 : 0), .text(itemsJSON), .text(answers), .double(generatedJudgedReal)])
        return database.lastInsertRowID
    }

    public func blindTests() throws -> [BlindTestRow] {
        try database.query("SELECT id, created_at, person, source, pairs, items, answers, generated_judged_real FROM blindtests ORDER BY id", []) { s in
            BlindTestRow(id: s.int64(0), createdAt: s.string(1), person: s.string(2), source: s.string(3), pairs: s.bool(4),
                         itemsJSON: s.string(5), answers: s.string(6), generatedJudgedReal: s.double(7))
        }
    }
}
