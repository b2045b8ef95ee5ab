import Foundation
import PersonaCore
import PersonaStore

/// Training runs and their per-step metrics in the workspace database, in the train layer's
/// types (the SQL is `RunRecords`'s, in the store layer).
public final class RunStore {
    public typealias Run = RunRecords.Run

    public let records: RunRecords
    public var database: Database { records.database }
    /// Steps not yet written because another process held the database past the busy
    /// timeout (a long import): written with the next step that gets through.
    public private(set) var pendingSteps: [RunRecords.Step] = []

    public init(database: Database) throws {
        records = try RunRecords(database: database)
    }

    /// The settings as the `runs` table shows them.
    public static func settingsText(_ s: TrainSettings) -> String {
        "steps=\(s.steps) lr=\(s.learningRate) batch=\(s.batchSize) accum=\(s.accumulation) schedule=\(s.schedule.rawValue) warmup=\(s.effectiveWarmup) clip=\(s.clip) eval_every=\(s.evalEvery) seed=\(s.seed)"
    }

    public func startRun(adapter: String, dataset: String, model: String, settings: TrainSettings) throws -> Int64 {
        try records.startRun(adapter: adapter, dataset: dataset, model: model, settings: RunStore.settingsText(settings),
                             stepsPlanned: settings.steps, pid: getpid(), startedAt: ISO8601DateFormatter().string(from: Date()))
    }

    /// Records one step. A database kept busy by another process does not stop training:
    /// the step waits in `pendingSteps` and the call returns false.
    @discardableResult
    public func record(run: Int64, _ m: StepMetrics) throws -> Bool {
        pendingSteps.append(RunRecords.Step(step: m.step, loss: m.loss, learningRate: m.learningRate, gradientNorm: m.gradientNorm,
                                            tokens: m.tokens, countedTokens: m.countedTokens, seconds: m.seconds, evalLoss: m.evalLoss))
        return try flush(run: run)
    }

    /// Writes the pending steps; false when the database is still busy.
    @discardableResult
    public func flush(run: Int64) throws -> Bool {
        guard !pendingSteps.isEmpty else { return true }
        do {
            try records.record(run: run, pendingSteps)
            pendingSteps.removeAll()
            return true
        } catch where RunRecords.isBusy(error) {
            return false
        }
    }

    public func setStatus(run: Int64, _ status: String, checkpoint: String? = nil) throws {
        try records.setStatus(run: run, status)
        if let checkpoint { try records.setCheckpoint(run: run, path: checkpoint, step: Checkpoints.step(ofFolder: checkpoint) ?? 0) }
    }

    public func runs() throws -> [Run] { try records.runs() }

    public func run(_ id: Int64) throws -> Run? { try records.run(id) }

    /// (step, loss, eval loss) of one run, in order.
    public func curve(run: Int64) throws -> [(step: Int, loss: Double, evalLoss: Double?)] {
        try records.curve(run: run)
    }
}
