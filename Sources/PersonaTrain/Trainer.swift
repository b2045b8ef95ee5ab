import Foundation
import PersonaCore

/// What one optimizer step did.
public struct StepMetrics: Sendable, Equatable {
    /// 1-based.
    public var step: Int
    /// Mean cross-entropy over the counted tokens of the step's batches.
    public var loss: Double
    public var learningRate: Double
    /// Global gradient norm before clipping.
    public var gradientNorm: Double
    /// Real (unpadded) tokens through the model, and those the loss counted.
    public var tokens: Int
    public var countedTokens: Int
    public var seconds: Double
    public var evalLoss: Double?
    public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
}

/// Trains one adapter on a frozen base: seeded data order over epochs, micro-batches with
/// gradient accumulation, clipping, AdamW with a schedule, evaluation on held-out examples.
/// One call of `step()` is one optimizer update, so a caller can stop between any two steps
/// and continue later (in memory, or from a checkpoint).
public final class Trainer {
    public let model: FrozenLlama
    public let adapter: LoRAAdapter
    public let optimizer: AdamW
    public let settings: TrainSettings
    public let trainExamples: [TrainingExample]
    public let testExamples: [TrainingExample]
    public private(set) var completedSteps = 0
    /// Data order: epoch and the next index into that epoch's permutation.
    public private(set) var epoch = 0
    public private(set) var position = 0
    public private(set) var history: [StepMetrics] = []
    private var order: [Int] = []
    private let graph: TrainingGraph
    private let sequenceLength: Int
    /// Evaluation runs forward only, on more sequences at once (every forward dequantizes the
    /// whole base, so small batches would spend their time there).
    private lazy var evaluationGraph: TrainingGraph = TrainingGraph(
        model: model, maxSequences: evaluationSequences, maxLength: sequenceLength, rank: adapter.config.rank,
        threads: settings.threads, forwardOnly: true)
    private var evaluationSequences: Int { max(settings.batchSize, min(64, 4096 / max(1, sequenceLength))) }

    public init(model: FrozenLlama, adapter: LoRAAdapter, train: [TrainingExample], test: [TrainingExample],
                settings: TrainSettings) throws {
        try settings.validate()
        let usable = train.filter { $0.tokens.count >= 2 && $0.countedTokens > 0 }
        guard !usable.isEmpty else { throw TrainError.noData("no training example has a token the loss counts") }
        guard adapter.shape == model.shape else {
            throw TrainError.invalid("adapter '\(adapter.name)' was made for a model of another shape than \(model.source)")
        }
        self.model = model; self.adapter = adapter; self.settings = settings
        self.trainExamples = usable
        self.testExamples = test.filter { $0.tokens.count >= 2 && $0.countedTokens > 0 }
        optimizer = AdamW(count: adapter.parameterCount, settings: AdamW.Settings(
            beta1: Float(settings.beta1), beta2: Float(settings.beta2), epsilon: Float(settings.epsilon),
            weightDecay: Float(settings.weightDecay)))
        let longest = (usable + testExamples).map(\.tokens.count).max() ?? 2
        sequenceLength = min(settings.maxLength, longest)
        graph = TrainingGraph(model: model, maxSequences: settings.batchSize, maxLength: sequenceLength,
                              rank: adapter.config.rank, recompute: settings.recompute, threads: settings.threads)
        order = Trainer.permutation(count: usable.count, seed: settings.seed, epoch: 0)
    }

    public var isFinished: Bool { completedSteps >= settings.steps }

    /// A Fisher–Yates permutation from the run's seed and the epoch (written out rather than
    /// `shuffled(using:)` so that the order never changes with the standard library).
    static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var rng = SeededGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        var p = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))
                p.swapAt(i, j)
            }
        }
        return p
    }

    private func nextExamples(_ n: Int) -> [TrainingExample] {
        var out: [TrainingExample] = []
        while out.count < n {
            if position >= order.count {
                epoch += 1; position = 0
                order = Trainer.permutation(count: trainExamples.count, seed: settings.seed, epoch: epoch)
            }
            out.append(trainExamples[order[position]])
            position += 1
        }
        return out
    }

    private func batch(_ examples: [TrainingExample]) throws -> TrainingBatch {
        try TrainingBatch(sequences: examples.map(\.tokens), counted: examples.map(\.counted), maxLength: sequenceLength)
    }

    /// One optimizer step over `accumulation` micro-batches of `batchSize` examples.
    @discardableResult
    public func step() throws -> StepMetrics {
        let start = monotonicSeconds()
        let batches = try (0..<settings.accumulation).map { _ in try batch(nextExamples(settings.batchSize)) }
        let counted = batches.reduce(0) { $0 + $1.countedTokens }
        // Every counted token of the step weighs the same: the loss is the mean over all of them.
        let weight = 1 / Float(max(1, counted))
        adapter.zeroGradients()
        var loss = 0.0
        for (i, b) in batches.enumerated() {
            graph.dropoutSeed = settings.seed ^ (UInt64(completedSteps) &* 1_000_003 &+ UInt64(i) &+ 1)
            loss += try graph.lossAndGradients(batch: b, adapter: adapter, tokenWeight: weight).loss
        }
        let norm = clipGradientNorm(adapter.gradients, count: adapter.parameterCount, maxNorm: settings.clip)
        let lr = settings.scheduleForRun.rate(at: completedSteps)
        optimizer.update(parameters: adapter.parameters, gradients: adapter.gradients, lr: Float(lr))
        completedSteps += 1
        var metrics = StepMetrics(step: completedSteps, loss: loss, learningRate: lr, gradientNorm: norm,
                                  tokens: batches.reduce(0) { $0 + $1.realTokens }, countedTokens: counted,
                                  seconds: monotonicSeconds() - start, evalLoss: nil)
        if settings.evalEvery > 0, completedSteps % settings.evalEvery == 0 || completedSteps == settings.steps, !testExamples.isEmpty {
            metrics.evalLoss = try evaluate()
        }
        history.append(metrics)
        return metrics
    }

    /// Mean cross-entropy over the counted tokens of `examples` (default: the test split).
    public func evaluate(_ examples: [TrainingExample]? = nil, useAdapter: Bool = true) throws -> Double {
        let list = examples ?? testExamples
        guard !list.isEmpty else { throw TrainError.noData("no held-out examples to evaluate on") }
        var total = 0.0, count = 0
        var i = 0
        let size = evaluationSequences
        while i < list.count {
            let group = Array(list[i..<min(list.count, i + size)])
            let b = try batch(group)
            let nll = try evaluationGraph.tokenLosses(batch: b, adapter: useAdapter ? adapter : nil)
            for (row, target) in b.targets.enumerated() where target >= 0 { total += Double(nll[row]); count += 1 }
            i += size
        }
        return total / Double(max(1, count))
    }

    // MARK: Checkpoints

    /// Where training stands and every setting that decides the next steps (see `CheckpointState`).
    public func checkpointState(identity: RunIdentity? = nil) -> CheckpointState {
        let s = settings
        return CheckpointState(
            format: CheckpointState.currentFormat, completedSteps: completedSteps, adamStep: optimizer.step, epoch: epoch,
            position: position, seed: String(s.seed), evalLoss: history.last.flatMap { $0.step == completedSteps ? $0.evalLoss : nil },
            steps: s.steps, lr: s.learningRate, batch: s.batchSize, accum: s.accumulation, schedule: s.schedule.rawValue,
            warmup: s.effectiveWarmup, clip: s.clip, evalEvery: s.evalEvery, weightDecay: s.weightDecay,
            beta1: s.beta1, beta2: s.beta2, epsilon: s.epsilon, maxLength: s.maxLength, recompute: s.recompute,
            threads: s.threads, identity: identity)
    }

    /// Writes adapter (PEFT files), optimizer moments and `trainer_state.json` into a new folder
    /// `checkpoint-NNNNNN` under `directory`, built under a staging name beside it and renamed
    /// into place, then points `directory/latest` at it: a kill at any moment leaves the
    /// previous checkpoint whole.
    @discardableResult
    public func saveCheckpoint(in directory: String, identity: RunIdentity? = nil) throws -> String {
        try PrivateFiles.makeDirectory(directory)
        let name = Checkpoints.folderName(step: completedSteps)
        let final = directory + "/" + name
        let staging = directory + "/.\(name).partial-\(getpid())"
        try? FileManager.default.removeItem(atPath: staging)
        try PrivateFiles.makeDirectory(staging)
        try AdapterFiles.save(adapter, to: staging)
        let moments = try SafetensorsCodec.encode([
            (name: "exp_avg", shape: [optimizer.count], values: UnsafeBufferPointer(optimizer.firstMoment)),
            (name: "exp_avg_sq", shape: [optimizer.count], values: UnsafeBufferPointer(optimizer.secondMoment)),
        ], metadata: ["row_order": "gguf"])
        try PrivateFiles.writeAtomically(moments, to: staging + "/" + Checkpoints.optimizerFile)
        let state = try CheckpointState.encoder().encode(checkpointState(identity: identity))
        try PrivateFiles.writeAtomically(state + Data("\n".utf8), to: staging + "/" + Checkpoints.stateFile)
        if FileManager.default.fileExists(atPath: final) { try FileManager.default.removeItem(atPath: final) }
        guard rename(staging, final) == 0 else {
            throw TrainError.badFile(path: final, reason: "cannot move the checkpoint into place: \(String(cString: strerror(errno)))")
        }
        try PrivateFiles.writeAtomically(name + "\n", to: directory + "/" + Checkpoints.latestPointer)
        return final
    }

    /// Restores adapter values, optimizer moments and the data position from a checkpoint
    /// folder written by `saveCheckpoint` (for a trainer made with the same settings and data).
    /// Every file is read and checked before anything changes, so a damaged checkpoint leaves
    /// the trainer as it was.
    public func restore(from checkpoint: String) throws {
        let state = try CheckpointState.read(checkpoint: checkpoint)
        let statePath = checkpoint + "/" + Checkpoints.stateFile
        guard state.position <= trainExamples.count, state.adamStep <= state.completedSteps else {
            throw TrainError.badFile(path: statePath, reason: "holds data position \(state.position) of \(trainExamples.count) examples, or more optimizer steps than steps")
        }
        let restored = try state.settings()
        var mine = settings, theirs = restored
        mine.threads = 0; theirs.threads = 0; mine.warmupSteps = mine.effectiveWarmup
        guard mine == theirs else {
            throw TrainError.badFile(path: statePath, reason: "was written with other settings than this trainer's (\(RunStore.settingsText(restored)))")
        }
        let values = adapter.copy(named: adapter.name)
        try AdapterFiles.fill(values, fromSafetensors: checkpoint + "/" + AdapterFiles.weightsFile)
        let optimizerPath = checkpoint + "/" + Checkpoints.optimizerFile
        let (tensors, _) = try SafetensorsCodec.read(path: optimizerPath)
        guard let m = tensors["exp_avg"], let v = tensors["exp_avg_sq"], m.values.count == optimizer.count, v.values.count == optimizer.count else {
            throw TrainError.badFile(path: optimizerPath, reason: "lacks exp_avg/exp_avg_sq of \(optimizer.count) values")
        }
        for i in 0..<adapter.parameterCount { adapter.parameters[i] = values.parameters[i] }
        for i in 0..<optimizer.count { optimizer.firstMoment[i] = m.values[i]; optimizer.secondMoment[i] = v.values[i] }
        optimizer.step = state.adamStep
        completedSteps = state.completedSteps
        epoch = state.epoch; position = state.position
        history.removeAll()
        order = Trainer.permutation(count: trainExamples.count, seed: settings.seed, epoch: epoch)
    }

    /// The folder `directory/latest` names, if any.
    public static func latestCheckpoint(in directory: String) -> String? {
        Checkpoints.pointer(Checkpoints.latestPointer, in: directory)
    }
}

extension Trainer {
    /// Restores the newest checkpoint in `directory` that reads whole, skipping damaged ones
    /// (a disk that lost the last write); returns it and what was skipped, with the reason.
    public func restoreLatest(in directory: String) throws -> (path: String, skipped: [(path: String, reason: String)]) {
        var skipped: [(path: String, reason: String)] = []
        for entry in Checkpoints.list(in: directory).reversed() {
            do {
                try restore(from: entry.path)
                return (entry.path, skipped)
            } catch {
                skipped.append((entry.path, describeError(error)))
            }
        }
        throw TrainError.noData("no checkpoint in \(directory) can be read"
                                + (skipped.first.map { " (the newest: \($0.reason))" } ?? ""))
    }
}
