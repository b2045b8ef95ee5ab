/// Settings of a training run (the `train` command's arguments).
public struct TrainSettings: Equatable, Sendable {
    public var steps: Int = 100
    public var learningRate: Double = 2e-4
    /// Chunks per micro-batch.
    public var batchSize: Int = 4
    /// Micro-batches per optimizer step.
    public var accumulation: Int = 1
    public var schedule: LearningRateSchedule.Kind = .cosine
    /// Warm-up steps (default: 5% of the steps).
    public var warmupSteps: Int? = nil
    /// Clip the global gradient norm to this (0: no clipping).
    public var clip: Double = 1.0
    /// Evaluate on the test split every K steps (0: never).
    public var evalEvery: Int = 0
    public var weightDecay: Double = 0.0
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var epsilon: Double = 1e-8
    /// Longest sequence fed to the model; longer chunks are cut.
    public var maxLength: Int = 512
    /// Recompute each block's activations in the backward pass (less memory, more time).
    public var recompute: Bool = false
    /// Seed of the data order and dropout masks.
    public var seed: UInt64 = 42
    public var threads: Int = 2

    public init() {}

    public var effectiveWarmup: Int { warmupSteps ?? max(0, steps / 20) }

    public var scheduleForRun: LearningRateSchedule {
        LearningRateSchedule(kind: schedule, peak: learningRate, warmupSteps: effectiveWarmup, totalSteps: steps)
    }

    public func validate() throws {
        guard steps >= 1 && steps <= 10_000_000 else { throw TrainError.badSetting(name: "steps", value: String(steps), expected: "a positive integer") }
        guard learningRate > 0 && learningRate < 1 else { throw TrainError.badSetting(name: "lr", value: String(learningRate), expected: "a number in (0, 1)") }
        guard batchSize >= 1 && batchSize <= 256 else { throw TrainError.badSetting(name: "batch", value: String(batchSize), expected: "an integer from 1 to 256") }
        guard accumulation >= 1 && accumulation <= 1024 else { throw TrainError.badSetting(name: "accum", value: String(accumulation), expected: "an integer from 1 to 1024") }
        guard clip >= 0 else { throw TrainError.badSetting(name: "clip", value: String(clip), expected: "0 (off) or a positive number") }
        guard evalEvery >= 0 else { throw TrainError.badSetting(name: "eval_every", value: String(evalEvery), expected: "0 (never) or a positive integer") }
        if let w = warmupSteps, w < 0 || w > steps { throw TrainError.badSetting(name: "warmup", value: String(w), expected: "an integer from 0 to steps") }
        guard maxLength >= 2 && maxLength <= 65_536 else { throw TrainError.badSetting(name: "max_length", value: String(maxLength), expected: "an integer from 2 to 65536") }
        guard weightDecay >= 0 && weightDecay < 1 else { throw TrainError.badSetting(name: "weight_decay", value: String(weightDecay), expected: "a number in [0, 1)") }
    }
}
