import Foundation
import PersonaCore
import PersonaData
import PersonaModel
import PersonaStore
import PersonaTensor
import PersonaTrain

/// The train area's state in a session: frozen bases by name, the active adapter, the current
/// run (so that `train step` and `train continue` carry on), its lock and checkpoint schedule,
/// and the run database.
final class TrainAreaState {
    var models: [String: FrozenLlama] = [:]
    var activeAdapter: String?
    var trainer: Trainer?
    var runID: Int64?
    var runDataset = ""
    var runModel = ""
    var store: RunStore?
    /// The current run's claim: held while this session keeps the run, so that no other
    /// process trains it meanwhile (also after Ctrl-C, since `train continue` may follow).
    var lock: RunLock?
    var identity: RunIdentity?
    var policy = CheckpointPolicy(everySteps: nil, everySeconds: nil, keep: 1)
    var lastCheckpoint: (step: Int, time: Double)?
    var bestEvalLoss: Double?

    func runStore(_ ctx: CommandContext) throws -> RunStore {
        if let store { return store }
        // One connection per workspace: a second one in the same process sees stale snapshots
        // ("database is locked") when the other has written.
        let s = try RunStore(database: try ctx.messageStore().database)
        store = s
        return s
    }

    /// Makes `trainer` the session's run, giving up the previous run's claim.
    func adopt(_ trainer: Trainer, run: Int64, lock: RunLock, identity: RunIdentity, policy: CheckpointPolicy) {
        if self.lock !== lock { self.lock?.release() }
        self.trainer = trainer; self.runID = run; self.lock = lock; self.identity = identity; self.policy = policy
        runDataset = identity.dataset; runModel = identity.modelPath
        lastCheckpoint = nil; bestEvalLoss = nil
    }
}

extension CommandContext {
    var train: TrainAreaState { bench.state(TrainAreaState.self) { TrainAreaState() } }
}

enum TrainCommandSupport {
    /// The default base model (`PERSONA_MODEL`, ./models, or beside the checkout).
    static var defaultModelPath: String { get throws { try DefaultModel.resolve(nil) } }

    /// A session model object, or a GGUF path, or (nil) the session's model, else the default
    /// model (`CommandContext.modelReference`): opened through the model area (one mapping
    /// per file for the session) and seen as a frozen base.
    static func model(_ ctx: CommandContext, _ name: String?) throws -> (FrozenLlama, String) {
        let reference = try ctx.modelReference(name)
        let key = reference.reference
        if let cached = ctx.train.models[key] { return (cached, key) }
        let loaded = try ctx.load(reference)
        let frozen = try FrozenLlama(model: loaded.model, source: key)
        ctx.train.models[key] = frozen
        return (frozen, key)
    }

    static func adapter(_ ctx: CommandContext, _ name: String?) throws -> LoRAAdapter {
        guard let name = name ?? ctx.train.activeAdapter else {
            throw CommandError.failed(command: ctx.command.name, reason: "no adapter: make one with 'adapter NAME rank=8 …' or pass adapter=NAME")
        }
        return try ctx.bench.object(name, kind: .adapter, as: LoRAAdapter.self)
    }

    static func register(_ ctx: CommandContext, _ adapter: LoRAAdapter, model: String) {
        let c = adapter.config
        let summary = "LoRA rank \(c.rank), alpha \(format(c.alpha)), \(c.targets.map(\.rawValue).joined(separator: ",")), \(adapter.parameterCount) parameters"
        ctx.bench.register(NamedObject(name: adapter.name, kind: .adapter, summary: summary, value: adapter) { [weak bench = ctx.bench] in
            let trained = bench?.existingState(SessionModelState.self)?.trainedOn[adapter.name]
            return ["model: \(model)", "scaling: \(format(Double(c.scaling)))\(c.useRSLoRA ? " (rsLoRA)" : "")",
                    "dropout: \(format(c.dropout))", "tensors: \(adapter.tensors.count)"]
                + (trained.map { ["trained on: \($0.dataset) (format \($0.parameters.format.rawValue))"] } ?? [])
        })
        ctx.train.activeAdapter = adapter.name
    }

    static func format(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e9 { return String(Int(x)) }
        return String(format: "%.4g", x)
    }

    static func examples(_ ctx: CommandContext, dataset name: String) throws -> (train: [TrainingExample], test: [TrainingExample]) {
        let dataset = try ctx.dataset(named: name)
        return (dataset.chunks(split: .train).map(TrainingExample.init), dataset.chunks(split: .test).map(TrainingExample.init))
    }

    static func stepLine(_ m: StepMetrics, of total: Int) -> String {
        var s = String(format: "step %d/%d  loss %.4f  lr %.3g  grad norm %.3f  %.0f tok/s  %.2f s", m.step, total, m.loss,
                       m.learningRate, m.gradientNorm, m.tokensPerSecond, m.seconds)
        if let e = m.evalLoss { s += String(format: "  eval loss %.4f", e) }
        return s
    }

    /// The folder of run `id`'s checkpoints and lock.
    static func runDirectory(_ ctx: CommandContext, _ id: Int64) throws -> String {
        try ctx.bench.workspace().directory("runs") + "/run-\(id)"
    }

    /// Where a base model comes from: the file behind a session model object (and how it was
    /// quantized at load), or the path itself.
    static func modelOrigin(_ ctx: CommandContext, key: String) -> (path: String, quantization: LoadQuantization) {
        if let object = ctx.bench.object(key), object.kind == .model, let loaded = object.value as? LoadedModel {
            return (absolute(loaded.path), loaded.quantization?.kind ?? .none)
        }
        return (absolute(key), .none)
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
    }

    /// Writes a checkpoint of the session's run and records it; `best` also points `best` at it.
    static func checkpoint(_ ctx: CommandContext, _ trainer: Trainer, best: Bool = false) throws {
        let state = ctx.train
        // Only the session's own run checkpoints (a trainer made elsewhere, such as a sweep's, has no run folder).
        guard let run = state.runID, let identity = state.identity, state.trainer === trainer else { return }
        let directory = try runDirectory(ctx, run)
        let path = try trainer.saveCheckpoint(in: directory, identity: identity)
        if best { try PrivateFiles.writeAtomically((path as NSString).lastPathComponent + "\n", to: directory + "/" + Checkpoints.bestPointer) }
        Checkpoints.prune(in: directory, keep: state.policy.keep)
        state.lastCheckpoint = (trainer.completedSteps, monotonicSeconds())
        // The folder is the truth; the database only mirrors it for 'runs', so a busy one can wait.
        do { try state.runStore(ctx).records.setCheckpoint(run: run, path: path, step: trainer.completedSteps) }
        catch where RunRecords.isBusy(error) {}
    }

    static func ago(_ seconds: Double) -> String {
        seconds < 90 ? String(format: "%.0f s ago", seconds) : seconds < 5400 ? String(format: "%.0f min ago", seconds / 60)
            : String(format: "%.1f h ago", seconds / 3600)
    }

    /// Steps to `target` or Ctrl-C (true when stopped), recording and checkpointing each.
    static func trainLoop(_ ctx: CommandContext, _ trainer: Trainer, to target: Int) throws -> Bool {
        let state = ctx.train
        let store = try state.runStore(ctx)
        let total = trainer.settings.steps
        let printEvery = max(1, total / 10)
        // For the crash tests: stop the process (SIGSTOP) once this step is recorded, so that a
        // test can kill it at a known step.
        let pauseAt = ProcessInfo.processInfo.environment["PERSONA_TRAIN_PAUSE_AT_STEP"].flatMap { Int($0) }
        ctx.progress.begin("train", total: total, unit: "steps")
        defer { ctx.progress.finish() }
        while trainer.completedSteps < target {
            if ctx.cancellation.isCancelled { return true }
            let m = try trainer.step()
            if let run = state.runID { try store.record(run: run, m) }
            if let e = m.evalLoss, e < (state.bestEvalLoss ?? .infinity) {
                state.bestEvalLoss = e
                try checkpoint(ctx, trainer, best: true)
            } else if let last = state.lastCheckpoint,
                      state.policy.isDue(step: m.step, lastSavedStep: last.step, secondsSinceSave: monotonicSeconds() - last.time),
                      m.step < total {
                try checkpoint(ctx, trainer)
            }
            // The progress line computes the one ETA from the steps timed in this command.
            var detail = String(format: "loss %.4f  lr %.3g  grad %.3f  %.0f tok/s",
                                m.loss, m.learningRate, m.gradientNorm, m.tokensPerSecond)
            if let last = state.lastCheckpoint { detail += "  saved step \(last.step) \(ago(monotonicSeconds() - last.time))" }
            ctx.progress.advance(to: m.step, detail: detail)
            if m.step % printEvery == 0 || m.step == total || m.evalLoss != nil || total <= 20 {
                ctx.print(stepLine(m, of: total))
            }
            if m.step == pauseAt, let run = state.runID {
                try store.flush(run: run)
                raise(SIGSTOP)
            }
        }
        return false
    }

    /// Runs steps until the trainer finishes or Ctrl-C; records each step; checkpoints as the
    /// run's policy says, at a new best eval loss, and at the end.
    static func runSteps(_ ctx: CommandContext, _ trainer: Trainer, limit: Int? = nil) throws {
        let state = ctx.train
        let store = try state.runStore(ctx)
        let total = trainer.settings.steps
        let target = min(total, trainer.completedSteps + (limit ?? total))
        if state.lastCheckpoint == nil { state.lastCheckpoint = (trainer.completedSteps, monotonicSeconds()) }
        let stopped: Bool
        do { stopped = try trainLoop(ctx, trainer, to: target) } catch {
            // The session still holds the run: say it stopped rather than leave "running".
            if let run = state.runID { _ = try? store.flush(run: run); try? store.records.setStatus(run: run, "stopped") }
            throw error
        }
        if state.lastCheckpoint?.step != trainer.completedSteps { try checkpoint(ctx, trainer) }
        if let run = state.runID {
            // The last steps wait for a busy database here rather than being lost.
            while !(try store.flush(run: run)) { Thread.sleep(forTimeInterval: 0.5) }
            try store.records.setStatus(run: run, trainer.isFinished ? "finished" : "stopped")
        }
        if stopped {
            ctx.print("stopped after step \(trainer.completedSteps) of \(total) (checkpoint saved); 'train continue' resumes")
        } else if trainer.isFinished {
            let last = trainer.history.last
            ctx.print(String(format: "finished %d steps: loss %.4f", total, last?.loss ?? .nan)
                      + (last?.evalLoss.map { String(format: ", eval loss %.4f", $0) } ?? ""))
        }
    }

    /// The status of a run as it is, not as last written: a run whose process is gone shows
    /// as interrupted, with the step it reached and the step its training can resume from.
    static func honestStatus(_ ctx: CommandContext, _ run: RunStore.Run) -> String {
        guard run.status != "finished", let directory = try? runDirectory(ctx, run.id) else { return run.status }
        let holder = RunLock.holder(directory: directory)
        if holder.held {
            let who = holder.pid.map { $0 == getpid() ? "this process" : "pid \($0)" } ?? "another process"
            return run.status == "running" ? "running (\(who))" : "\(run.status) at step \(run.stepsDone) (held by \(who))"
        }
        let checkpoint = Checkpoints.list(in: directory).last.map { "last checkpoint at \($0.step)" } ?? "no checkpoint"
        return "\(run.status == "running" ? "interrupted" : run.status) at step \(run.stepsDone) (\(checkpoint))"
    }

    /// `train continue RUN` in a session that does not hold the run (a new process, after a
    /// kill or a reboot): rebuilds model, dataset, adapter and trainer from the run's newest
    /// readable checkpoint and claims the run.
    static func resume(_ ctx: CommandContext, run requested: Int64?) throws -> Trainer {
        let command = "train continue"
        let store = try ctx.train.runStore(ctx)
        let runs = try store.runs()
        guard let run = requested.flatMap({ id in runs.first { $0.id == id } }) ?? (requested == nil ? runs.last { $0.status != "finished" } : nil) else {
            if let requested { throw CommandError.failed(command: command, reason: "no run \(requested) in this workspace ('runs' lists them)") }
            throw CommandError.failed(command: command, reason: runs.isEmpty ? "no run in this workspace; start one with 'train DATASET steps=N'"
                                      : "every run in this workspace has finished; start one with 'train DATASET steps=N'")
        }
        let directory = try runDirectory(ctx, run.id)
        let lock: RunLock
        do { lock = try RunLock.acquire(directory: directory, run: run.id) } catch {
            throw CommandError.failed(command: command, reason: describeError(error))
        }
        Checkpoints.removeStaging(in: directory)
        let candidates = Checkpoints.list(in: directory).reversed()
        guard let newest = candidates.lazy.compactMap({ c in (try? CheckpointState.read(checkpoint: c.path)).map { (c.path, $0) } }).first else {
            throw CommandError.failed(command: command, reason: "run \(run.id) has no readable checkpoint in \(directory); start it again with 'train \(run.dataset) …'")
        }
        let (statePath, state) = newest
        guard let identity = state.identity else {
            throw CommandError.failed(command: command, reason: "\(statePath) does not name its model and dataset (written by an older persona); start the run again")
        }
        guard FileManager.default.fileExists(atPath: identity.modelPath) else {
            throw CommandError.failed(command: command, reason: "run \(run.id)'s base model \(identity.modelPath) is missing; put it back at that path to continue")
        }
        let digest = try ModelDigest.of(path: identity.modelPath)
        guard digest == identity.modelDigest else {
            throw CommandError.failed(command: command, reason: "the base model \(identity.modelPath) has changed since run \(run.id) started (digest \(digest), the run's \(identity.modelDigest)); continuing would not give the same adapter")
        }
        let dataset: Dataset
        do { dataset = try ctx.dataset(named: identity.dataset) } catch {
            throw CommandError.failed(command: command, reason: "run \(run.id)'s dataset '\(identity.dataset)' cannot be loaded from the workspace (\(describeError(error))); rebuild it as it was to continue")
        }
        guard dataset.contentDigest == identity.datasetDigest else {
            throw CommandError.failed(command: command, reason: "dataset '\(identity.dataset)' has changed since run \(run.id) started (digest \(dataset.contentDigest), the run's \(identity.datasetDigest)); rebuild it as it was or start a new run")
        }
        let settings = try state.settings()
        guard let quantization = LoadQuantization(rawValue: identity.modelQuantization) else {
            throw CommandError.failed(command: command, reason: "\(statePath): model_quantization \(identity.modelQuantization) is not one of \(LoadQuantization.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let model: FrozenLlama
        if quantization == .none {
            model = try TrainCommandSupport.model(ctx, identity.modelPath).0
        } else {
            let loaded = try LoadedModel.open(path: identity.modelPath, threads: settings.threads, quantize: quantization)
            model = try FrozenLlama(model: loaded.model, source: identity.modelPath)
        }
        let adapter = try AdapterFiles.load(from: statePath, name: identity.adapter, shape: model.shape)
        adapter.baseModel = identity.modelPath
        let trainer = try Trainer(model: model, adapter: adapter, train: dataset.chunks(split: .train).map(TrainingExample.init),
                                  test: dataset.chunks(split: .test).map(TrainingExample.init), settings: settings)
        let (path, skipped) = try trainer.restoreLatest(in: directory)
        for s in skipped { ctx.print("skipped \((s.path as NSString).lastPathComponent): \(s.reason)") }
        let policy = try CheckpointPolicy.parse(identity.saveEvery, keep: identity.keep)
        TrainCommandSupport.register(ctx, adapter, model: identity.modelPath)
        ctx.train.adopt(trainer, run: run.id, lock: lock, identity: identity, policy: policy)
        if let best = Checkpoints.pointer(Checkpoints.bestPointer, in: directory) {
            ctx.train.bestEvalLoss = (try? CheckpointState.read(checkpoint: best))?.evalLoss
        }
        try store.records.truncate(run: run.id, after: trainer.completedSteps)
        try store.records.setStatus(run: run.id, "running", pid: getpid())
        let redone = run.stepsDone == trainer.completedSteps + 1 ? ", redoing step \(run.stepsDone)"
            : run.stepsDone > trainer.completedSteps ? ", redoing steps \(trainer.completedSteps + 1)–\(run.stepsDone)" : ""
        ctx.print("run \(run.id): adapter \(adapter.name) on \(identity.dataset), resumed from \((path as NSString).lastPathComponent) (step \(trainer.completedSteps) of \(settings.steps)\(redone)), \(settings.threads) threads")
        return trainer
    }
}

extension CommandTable {
    /// Commands of the train area.
    static let trainCommands: [CommandSpec] = [
        CommandSpec("adapter", summary: "Make a LoRA adapter for a model (PEFT initialisation) and make it active",
                    details: "A is Kaiming-uniform (as PEFT), B zero, so the adapted model starts equal to the base. The scaling is alpha/rank, or alpha/√rank with rslora=true.",
                    examples: ["adapter ed rank=8 alpha=16 targets=q,k,v,o,gate,up,down", "adapter small rank=4 targets=q,v dropout=0.05"],
                    arguments: [
                        .positional("name", .string, "the adapter's name"),
                        .keyed("rank", .int, default: "8", "LoRA rank r"),
                        .keyed("alpha", .double, default: "16", "LoRA alpha"),
                        .keyed("targets", .string, default: "q,k,v,o,gate,up,down", "projections to adapt"),
                        .keyed("dropout", .double, default: "0", "dropout on the LoRA input"),
                        .keyed("rslora", .bool, default: "false", "scale by alpha/√r (rsLoRA)"),
                        .keyed("model", .string, "base model: a session model or a GGUF file (default: the session's model)"),
                    ]) { ctx in
            let name = try ctx.arguments.required("name")
            let config = try LoRAConfig(rank: ctx.arguments.int("rank", default: 8), alpha: ctx.arguments.double("alpha", default: 16),
                                        dropout: ctx.arguments.double("dropout", default: 0),
                                        targets: LoRAConfig.parseTargets(ctx.arguments.string("targets", default: "all")),
                                        useRSLoRA: ctx.arguments.flag("rslora"))
            let (model, modelName) = try TrainCommandSupport.model(ctx, ctx.arguments.string("model"))
            let adapter = LoRAAdapter(name: name, config: config, shape: model.shape, baseModel: modelName, rng: &ctx.bench.rng)
            TrainCommandSupport.register(ctx, adapter, model: modelName)
            ctx.print("adapter \(name): rank \(config.rank), alpha \(TrainCommandSupport.format(config.alpha)), scaling \(TrainCommandSupport.format(Double(config.scaling))), targets \(config.targets.map(\.rawValue).joined(separator: ",")), \(adapter.tensors.count) tensors, \(adapter.parameterCount) parameters")
        },
        CommandSpec("adapter use", summary: "Make an adapter the active one",
                    arguments: [.positional("name", .object(.adapter), "the adapter")]) { ctx in
            let adapter = try TrainCommandSupport.adapter(ctx, try ctx.arguments.required("name"))
            ctx.train.activeAdapter = adapter.name
            ctx.print("active adapter: \(adapter.name)")
        },
        CommandSpec("adapter save", summary: "Save an adapter in PEFT's format (adapter_model.safetensors, adapter_config.json)",
                    details: "Hugging Face peft loads the folder onto the same base model. Q/K rows are written in Hugging Face order.",
                    examples: ["adapter save ed adapters/ed"],
                    arguments: [.positional("name", .object(.adapter), "the adapter"), .positional("dir", .path, "the folder to write")]) { ctx in
            let adapter = try TrainCommandSupport.adapter(ctx, try ctx.arguments.required("name"))
            let dir = try ctx.arguments.required("dir")
            try AdapterFiles.save(adapter, to: dir)
            ctx.print("saved \(adapter.name) to \(dir) (\(adapter.tensors.count) tensors)")
        },
        CommandSpec("adapter load", summary: "Load a PEFT LoRA adapter folder (F32, F16 or BF16) and make it active",
                    examples: ["adapter load ed adapters/ed"],
                    arguments: [.positional("name", .string, "the name to give it"), .positional("dir", .path, "the PEFT adapter folder"),
                                .keyed("model", .string, "base model (default: the session's model)")]) { ctx in
            let name = try ctx.arguments.required("name")
            let (model, modelName) = try TrainCommandSupport.model(ctx, ctx.arguments.string("model"))
            let adapter = try AdapterFiles.load(from: try ctx.arguments.required("dir"), name: name, shape: model.shape)
            TrainCommandSupport.register(ctx, adapter, model: modelName)
            ctx.print("loaded \(name): rank \(adapter.config.rank), alpha \(TrainCommandSupport.format(adapter.config.alpha)), targets \(adapter.config.targets.map(\.rawValue).joined(separator: ",")), \(adapter.tensors.count) tensors")
        },
        CommandSpec("adapter merge", summary: "Write the base model with an adapter folded in, as float32 safetensors (HF names)",
                    examples: ["adapter merge ed merged.safetensors"],
                    arguments: [.positional("name", .object(.adapter), "the adapter"), .positional("file", .path, "the safetensors file to write"),
                                .keyed("model", .string, "base model (default: the session's model)")]) { ctx in
            let adapter = try TrainCommandSupport.adapter(ctx, try ctx.arguments.required("name"))
            let (model, _) = try TrainCommandSupport.model(ctx, ctx.arguments.string("model") ?? (adapter.baseModel.isEmpty ? nil : adapter.baseModel))
            let file = try ctx.arguments.required("file")
            try AdapterMerge.writeMerged(model: model, adapter: adapter, to: file)
            ctx.print("wrote \(file): base + \(adapter.name) merged, float32")
        },
        CommandSpec("train", summary: "Train the active adapter on a dataset's train split",
                    details: "Progress shows step, loss, learning rate, gradient norm, tokens/s, ETA and when the last checkpoint was written. Ctrl-C stops between steps; 'train continue' carries on. Every step is recorded in the workspace database ('runs'). Checkpoints (adapter, optimizer state, data order and position, step, settings, and the model and dataset by digest) go to <workspace>/runs/run-N at the start, every save_every, at each new best eval loss and at the end; the newest keep= are kept, and the best. After a kill or a reboot, 'train continue' in a new process resumes from the newest one and ends with the same adapter, bit for bit.",
                    examples: ["train chats steps=100", "train chats steps=300 lr=1e-4 batch=4 accum=2 schedule=cosine warmup=10 eval_every=50",
                               "train chats steps=2000 save_every=100,15m keep=2"],
                    arguments: [
                        .positional("dataset", .object(.dataset), "the dataset"),
                        .keyed("steps", .int, required: true, "optimizer steps"),
                        .keyed("lr", .double, default: "2e-4", "peak learning rate"),
                        .keyed("batch", .int, default: "4", "chunks per micro-batch"),
                        .keyed("accum", .int, default: "1", "micro-batches per step (gradient accumulation)"),
                        .keyed("schedule", .choice(LearningRateSchedule.Kind.allCases.map(\.rawValue)), default: "cosine", "learning-rate schedule"),
                        .keyed("warmup", .int, "warm-up steps (default: 5% of steps)"),
                        .keyed("clip", .double, default: "1.0", "clip the global gradient norm (0: off)"),
                        .keyed("eval_every", .int, default: "0", "evaluate on the test split every K steps"),
                        .keyed("weight_decay", .double, default: "0", "AdamW decoupled weight decay"),
                        .keyed("max_length", .int, default: "512", "cut chunks to this many tokens"),
                        .keyed("recompute", .bool, default: "false", "recompute activations per block in the backward pass (less memory)"),
                        .keyed("save_every", .string, default: "50,10m", "checkpoint every N steps, every time (90s, 10m, 2h), or both: whichever comes first (0: only at the end)"),
                        .keyed("keep", .int, default: "3", "checkpoints kept (the newest; the best by eval loss is kept besides)"),
                        .keyed("adapter", .object(.adapter), "the adapter (default: the active one)"),
                        .keyed("model", .string, "base model (default: the adapter's)"),
                    ]) { ctx in
            let datasetName = try ctx.arguments.required("dataset")
            let adapter = try TrainCommandSupport.adapter(ctx, ctx.arguments.string("adapter"))
            let (model, modelName) = try TrainCommandSupport.model(ctx, ctx.arguments.string("model") ?? (adapter.baseModel.isEmpty ? nil : adapter.baseModel))
            var s = TrainSettings()
            s.steps = ctx.arguments.int("steps", default: 100)
            s.learningRate = ctx.arguments.double("lr", default: 2e-4)
            s.batchSize = ctx.arguments.int("batch", default: 4)
            s.accumulation = ctx.arguments.int("accum", default: 1)
            s.schedule = LearningRateSchedule.Kind(rawValue: ctx.arguments.string("schedule", default: "cosine")) ?? .cosine
            s.warmupSteps = ctx.arguments.int("warmup")
            s.clip = ctx.arguments.double("clip", default: 1)
            s.evalEvery = ctx.arguments.int("eval_every", default: 0)
            s.weightDecay = ctx.arguments.double("weight_decay", default: 0)
            s.maxLength = ctx.arguments.int("max_length", default: 512)
            s.recompute = ctx.arguments.flag("recompute")
            let saveEvery = ctx.arguments.string("save_every", default: "50,10m")
            let policy = try CheckpointPolicy.parse(saveEvery, keep: ctx.arguments.int("keep", default: 3))
            s.seed = ctx.bench.rng.next()
            s.threads = ctx.bench.settings.threads
            let (train, test) = try TrainCommandSupport.examples(ctx, dataset: datasetName)
            let trainer = try Trainer(model: model, adapter: adapter, train: train, test: test, settings: s)
            let origin = TrainCommandSupport.modelOrigin(ctx, key: modelName)
            let modelDigest = try ModelDigest.of(path: origin.path)
            let datasetDigest = try ctx.dataset(named: datasetName).contentDigest
            try ctx.noteTraining(adapter: adapter.name, dataset: datasetName)
            let state = ctx.train
            let run = try state.runStore(ctx).startRun(adapter: adapter.name, dataset: datasetName, model: modelName, settings: s)
            let directory = try TrainCommandSupport.runDirectory(ctx, run)
            let lock = try RunLock.acquire(directory: directory, run: run)
            let identity = RunIdentity(run: run, adapter: adapter.name, modelPath: origin.path, modelQuantization: origin.quantization.rawValue,
                                       modelDigest: modelDigest, dataset: datasetName, datasetDigest: datasetDigest,
                                       saveEvery: saveEvery, keep: policy.keep)
            state.adopt(trainer, run: run, lock: lock, identity: identity, policy: policy)
            state.runModel = modelName
            ctx.print("run \(run): adapter \(adapter.name) on \(datasetName) (\(trainer.trainExamples.count) train, \(trainer.testExamples.count) test chunks), \(s.steps) steps, batch \(s.batchSize)×\(s.accumulation), lr \(TrainCommandSupport.format(s.learningRate)) \(s.schedule.rawValue), warm-up \(s.effectiveWarmup)\(s.recompute ? ", recomputing activations" : "")")
            ctx.print("checkpoints: \(directory) (\(policy.summary), newest \(policy.keep) kept); 'train continue' resumes after an interruption")
            // Step 0 too: a run killed before its first periodic checkpoint still resumes.
            try TrainCommandSupport.checkpoint(ctx, trainer)
            try TrainCommandSupport.runSteps(ctx, trainer)
        },
        CommandSpec("train step", summary: "Run exactly one optimizer step of the current run, with full detail") { ctx in
            guard let trainer = ctx.train.trainer else {
                throw CommandError.failed(command: "train step", reason: "no run in this session; start one with 'train DATASET steps=N'")
            }
            guard !trainer.isFinished else {
                throw CommandError.failed(command: "train step", reason: "the run has done all \(trainer.settings.steps) steps")
            }
            let m = try trainer.step()
            if let run = ctx.train.runID { try ctx.train.runStore(ctx).record(run: run, m) }
            let clipped = trainer.settings.clip > 0 && m.gradientNorm > trainer.settings.clip
            var rows: [[String]] = [["quantity", "value"]]
            rows.append(["step", "\(m.step) of \(trainer.settings.steps)"])
            rows.append(["loss", String(format: "%.6f", m.loss)])
            rows.append(["learning rate", String(format: "%.6g", m.learningRate)])
            rows.append(["gradient norm", String(format: "%.6f%@", m.gradientNorm, clipped ? " (clipped to \(trainer.settings.clip))" : "")])
            rows.append(["tokens", "\(m.tokens) (\(m.countedTokens) counted)"])
            rows.append(["data position", "epoch \(trainer.epoch), example \(trainer.position) of \(trainer.trainExamples.count)"])
            rows.append(["time", String(format: "%.2f s (%.0f tok/s)", m.seconds, m.tokensPerSecond)])
            if let e = m.evalLoss { rows.append(["eval loss", String(format: "%.6f", e)]) }
            ctx.printTable(rows, rightAligned: [])
            // Where the update went: the largest parameter gradients after this step's backward.
            let adapter = trainer.adapter
            let largest = adapter.tensors.map { ($0.name, adapter.gradientNorm(of: $0)) }.sorted { $0.1 > $1.1 }.prefix(5)
            ctx.printTable([["largest gradients (after clipping)", "norm"]] + largest.map { [$0.0.replacingOccurrences(of: "base_model.model.model.", with: ""), String(format: "%.5f", $0.1)] }, rightAligned: [1])
        },
        CommandSpec("train continue", summary: "Continue a run to its last step: this session's after Ctrl-C, or any run from its checkpoint",
                    details: "In a new process (after a kill, a crash or a reboot) it loads the run's newest readable checkpoint, checks that the base model and the dataset are the ones the run started with (by digest), redoes the steps since that checkpoint, and ends with the same adapter, bit for bit, as an uninterrupted run on the same number of threads. A run another process is training is refused.",
                    examples: ["train continue", "train continue 3", "train continue steps=20"],
                    arguments: [.positional("run", .int, required: false, "the run (default: this session's, else the newest unfinished one)"),
                                .keyed("steps", .int, "run at most this many more steps")]) { ctx in
            let requested = ctx.arguments.int("run").map(Int64.init)
            let trainer: Trainer
            if let current = ctx.train.trainer, requested == nil || requested == ctx.train.runID {
                trainer = current
            } else {
                trainer = try TrainCommandSupport.resume(ctx, run: requested)
            }
            guard !trainer.isFinished else {
                ctx.print("the run has done all \(trainer.settings.steps) steps"); return
            }
            if let run = ctx.train.runID { try ctx.train.runStore(ctx).records.setStatus(run: run, "running", pid: getpid()) }
            try TrainCommandSupport.runSteps(ctx, trainer, limit: ctx.arguments.int("steps"))
        },
        CommandSpec("train eval", summary: "Mean loss of the active adapter on a dataset's test split (and of the base model)",
                    arguments: [.positional("dataset", .object(.dataset), "the dataset"),
                                .keyed("adapter", .object(.adapter), "the adapter (default: the active one)")]) { ctx in
            let datasetName = try ctx.arguments.required("dataset")
            let adapter = try TrainCommandSupport.adapter(ctx, ctx.arguments.string("adapter"))
            let (model, _) = try TrainCommandSupport.model(ctx, adapter.baseModel.isEmpty ? nil : adapter.baseModel)
            let (train, test) = try TrainCommandSupport.examples(ctx, dataset: datasetName)
            var s = TrainSettings(); s.steps = 1; s.threads = ctx.bench.settings.threads
            let trainer = try Trainer(model: model, adapter: adapter, train: train.isEmpty ? test : train, test: test, settings: s)
            let withAdapter = try trainer.evaluate()
            let base = try trainer.evaluate(useAdapter: false)
            ctx.print(String(format: "test loss: %.4f with %@, %.4f base model (%d chunks)", withAdapter, adapter.name, base, trainer.testExamples.count))
        },
        CommandSpec("runs", summary: "List training runs recorded in the workspace") { ctx in
            let runs = try ctx.train.runStore(ctx).runs()
            if runs.isEmpty { ctx.print("no runs"); return }
            ctx.printTable([["run", "adapter", "dataset", "steps", "status", "loss", "eval loss"]] + runs.map { r in
                ["\(r.id)", r.adapter, r.dataset, "\(r.stepsDone)/\(r.stepsPlanned)", TrainCommandSupport.honestStatus(ctx, r),
                 r.lastLoss.map { String(format: "%.4f", $0) } ?? "-", r.lastEvalLoss.map { String(format: "%.4f", $0) } ?? "-"]
            }, rightAligned: [0, 3, 5, 6])
        }.readingOnly,
        CommandSpec("train curve", summary: "Show a run's loss curve in the terminal, or save it as SVG",
                    examples: ["train curve", "train curve 3 --svg loss.svg"],
                    arguments: [.positional("run", .int, required: false, "the run (default: the latest)"),
                                .keyed("svg", .path, "write the curve to this SVG file")]) { ctx in
            let store = try ctx.train.runStore(ctx)
            let latest = try store.runs().last?.id
            guard let run = ctx.arguments.int("run").map(Int64.init) ?? ctx.train.runID ?? latest else {
                ctx.print("no runs"); return
            }
            let points = try store.curve(run: run)
            if let svg = ctx.arguments.string("svg") {
                try PrivateFiles.writeAtomically(LossCurve.svg(points, title: "run \(run) loss"), to: svg)
                ctx.print("wrote \(svg) (\(points.count) steps)")
            } else {
                for line in LossCurve.terminal(points) { ctx.print(line) }
            }
        }.readingOnly,
    ]
}

extension BenchTable {
    /// Benchmarks of the train area.
    static let trainBenches: [BenchSpec] = [
        BenchSpec("train", summary: "Full LoRA training steps (forward, backward, AdamW) at batch 4 × 200 tokens, rank 8 on all projections; PyTorch+peft peer") { ctx in
            try TrainBenchRunner.run(ctx)
        },
    ]
}

/// `bench train`: persona's steps, then the PyTorch+peft peer on the same model in the same run.
enum TrainBenchRunner {
    static func run(_ ctx: CommandContext) throws -> BenchReport {
        let threads = ctx.arguments.int("threads") ?? ctx.bench.settings.threads
        let runs = max(1, ctx.arguments.int("runs") ?? 3)
        let modelPath = try ctx.arguments.string("model") ?? TrainCommandSupport.defaultModelPath
        let (model, _) = try TrainCommandSupport.model(ctx, modelPath)
        let m = try TrainBenchmark.measure(model: model, threads: threads, runs: runs)
        var report = BenchReport(bench: "train")
        report.results.append(BenchResult(name: "persona tokens/s", unit: "tok/s", samples: m.stepSeconds.map { Double(m.tokensPerStep) / $0 }))
        report.results.append(BenchResult(name: "persona step", unit: "s", samples: m.stepSeconds))
        report.results.append(BenchResult(name: "persona peak RSS", value: peakResidentMB() ?? .nan, unit: "MB", runs: 1,
                                          min: peakResidentMB() ?? .nan, max: peakResidentMB() ?? .nan))
        let stepMedian = report.results[1].value
        let profiled = m.sections.reduce(0) { $0 + $1.seconds }
        report.notes.append("where a step's time goes: " + m.sections.map { String(format: "%@ %.2f s", $0.name, $0.seconds) }.joined(separator: ", ")
                            + String(format: ", other %.2f s", max(0, stepMedian - profiled)))
        report.notes.append("batch 4 × 200 tokens, LoRA rank 8 on q,k,v,o,gate,up,down, \(threads) threads, OpenBLAS \(BLASThreads.coreName), model \(modelPath)")
        // The peer runs as a separate process so that its memory is its own.
        let python = ProcessInfo.processInfo.environment["PERSONA_TORCH_PYTHON"] ?? "python3"
        let script = "scripts/bench-torch-train.py"
        guard FileManager.default.fileExists(atPath: script) else {
            report.notes.append("PyTorch peer not run: \(script) not found (run from the package root)")
            return report
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script, "--model", modelPath, "--threads", String(threads), "--runs", String(runs)]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            report.notes.append("PyTorch peer not run: \(error.localizedDescription)")
            return report
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let steps = json["step_seconds"] as? [Double], let peak = json["peak_rss_mb"] as? Double else {
            report.notes.append("PyTorch peer failed (exit \(process.terminationStatus)); install torch, peft, transformers and gguf for \(python) (PERSONA_TORCH_PYTHON)")
            return report
        }
        let tokens = (json["tokens_per_step"] as? Double) ?? 800
        report.results.append(BenchResult(name: "pytorch tokens/s", unit: "tok/s", samples: steps.map { tokens / $0 }))
        report.results.append(BenchResult(name: "pytorch step", unit: "s", samples: steps))
        report.results.append(BenchResult(name: "pytorch peak RSS", value: peak, unit: "MB", runs: 1, min: peak, max: peak))
        if let versions = json["versions"] as? String { report.notes.append("peer: \(versions)") }
        return report
    }
}
