import Foundation
import PersonaCore
import PersonaData
import PersonaModel
import PersonaStore
import PersonaTensor
import PersonaTrain

/// The train area's state in a session: frozen bases by name, the active adapter, the current
/// run (so that `train step` and `train continue` carry on) and the run database.
final class TrainAreaState {
    var models: [String: FrozenLlama] = [:]
    var activeAdapter: String?
    var trainer: Trainer?
    var runID: Int64?
    var runDataset = ""
    var runModel = ""
    var store: RunStore?

    func runStore(_ ctx: CommandContext) throws -> RunStore {
        if let store { return store }
        // One connection per workspace: a second one in the same process sees stale snapshots
        // ("database is locked") when the other has written.
        let s = try RunStore(database: try ctx.messageStore().database)
        store = s
        return s
    }
}

extension CommandContext {
    var train: TrainAreaState { bench.state(TrainAreaState.self) { TrainAreaState() } }
}

enum TrainCommandSupport {
    /// The default base model (`PERSONA_MODEL`, ./models, or beside the checkout).
    static var defaultModelPath: String { DefaultModel.resolve(nil) }

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

    /// Runs steps until the trainer finishes or Ctrl-C; records each step; checkpoints at the end.
    static func runSteps(_ ctx: CommandContext, _ trainer: Trainer, limit: Int? = nil) throws {
        let state = ctx.train
        let store = try state.runStore(ctx)
        let total = trainer.settings.steps
        let target = min(total, trainer.completedSteps + (limit ?? total))
        let printEvery = max(1, total / 10)
        ctx.progress.begin("train", total: total, unit: "steps")
        defer { ctx.progress.finish() }
        var stopped = false
        while trainer.completedSteps < target {
            if ctx.cancellation.isCancelled { stopped = true; break }
            let m = try trainer.step()
            if let run = state.runID { try store.record(run: run, m) }
            // The progress line computes the one ETA from the steps timed in this command.
            ctx.progress.advance(to: m.step, detail: String(format: "loss %.4f  lr %.3g  grad %.3f  %.0f tok/s",
                                                              m.loss, m.learningRate, m.gradientNorm, m.tokensPerSecond))
            if m.step % printEvery == 0 || m.step == total || m.evalLoss != nil || total <= 20 {
                ctx.print(stepLine(m, of: total))
            }
        }
        let checkpoint = try trainer.saveCheckpoint(in: try ctx.bench.workspace().directory("runs") + "/run-\(state.runID ?? 0)")
        if let run = state.runID { try store.setStatus(run: run, trainer.isFinished ? "finished" : "stopped", checkpoint: checkpoint) }
        if stopped {
            ctx.print("stopped after step \(trainer.completedSteps) of \(total); 'train continue' resumes")
        } else if trainer.isFinished {
            let last = trainer.history.last
            ctx.print(String(format: "finished %d steps: loss %.4f", total, last?.loss ?? .nan)
                      + (last?.evalLoss.map { String(format: ", eval loss %.4f", $0) } ?? ""))
        }
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
                    details: "Progress shows step, loss, learning rate, gradient norm, tokens/s and ETA. Ctrl-C stops between steps; 'train continue' carries on. Every step is recorded in the workspace database ('runs'); a checkpoint (adapter, optimizer state, data position) is written when the command ends.",
                    examples: ["train chats steps=100", "train chats steps=300 lr=1e-4 batch=4 accum=2 schedule=cosine warmup=10 eval_every=50"],
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
            s.seed = ctx.bench.rng.next()
            s.threads = ctx.bench.settings.threads
            let (train, test) = try TrainCommandSupport.examples(ctx, dataset: datasetName)
            let trainer = try Trainer(model: model, adapter: adapter, train: train, test: test, settings: s)
            try ctx.noteTraining(adapter: adapter.name, dataset: datasetName)
            let state = ctx.train
            state.trainer = trainer; state.runDataset = datasetName; state.runModel = modelName
            state.runID = try state.runStore(ctx).startRun(adapter: adapter.name, dataset: datasetName, model: modelName, settings: s)
            ctx.print("run \(state.runID ?? 0): adapter \(adapter.name) on \(datasetName) (\(trainer.trainExamples.count) train, \(trainer.testExamples.count) test chunks), \(s.steps) steps, batch \(s.batchSize)×\(s.accumulation), lr \(TrainCommandSupport.format(s.learningRate)) \(s.schedule.rawValue), warm-up \(s.effectiveWarmup)\(s.recompute ? ", recomputing activations" : "")")
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
        CommandSpec("train continue", summary: "Continue the current run (after Ctrl-C) to its last step",
                    arguments: [.keyed("steps", .int, "run at most this many more steps")]) { ctx in
            guard let trainer = ctx.train.trainer else {
                throw CommandError.failed(command: "train continue", reason: "no run in this session; start one with 'train DATASET steps=N'")
            }
            guard !trainer.isFinished else {
                ctx.print("the run has done all \(trainer.settings.steps) steps"); return
            }
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
                ["\(r.id)", r.adapter, r.dataset, "\(r.stepsDone)/\(r.stepsPlanned)", r.status,
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
        let modelPath = ctx.arguments.string("model") ?? TrainCommandSupport.defaultModelPath
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
