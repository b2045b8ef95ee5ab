import Foundation
import PersonaCore
import PersonaData
import PersonaEval
import PersonaSample
import PersonaStore
import PersonaTrain

/// How a sweep runs, stored with it so that `sweep continue` runs the same sweep.
struct SweepOptions: Codable, Equatable {
    var metric: SweepMetric
    var halving: Bool
    var random: Int
    var budgetSeconds: Double?
    var conversations: Int
    var turns: Int
    var samplerName: String
    var samplerAssignments: [String]
    var seed: UInt64
    var targets: String
    /// The base model (a session model or a file); nil: the default model.
    var model: String?

    func samplerSettings() throws -> SamplerSettings {
        var s = SamplerSettings()
        for assignment in samplerAssignments {
            guard let eq = assignment.firstIndex(of: "=") else { continue }
            try s.set(String(assignment[..<eq]), to: String(assignment[assignment.index(after: eq)...]))
        }
        return s
    }
}

/// Runs (and resumes) a sweep: each point a fresh adapter, trained and evaluated; with
/// halving, judged at a quarter and half of its steps and stopped when in the worse half.
enum SweepRunner {
    static let defaults: [String: String] = ["lr": "2e-4", "rank": "8", "alpha": "16", "steps": "100", "batch": "4"]

    static func folder(_ ctx: CommandContext, _ name: String) throws -> String {
        try ctx.bench.workspace().directory("sweeps") + "/" + name
    }

    static func pointSeed(_ options: SweepOptions, _ index: Int) -> UInt64 {
        options.seed &+ UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15
    }

    static func run(_ ctx: CommandContext, name: String) throws {
        let records = try ctx.evalRecords()
        guard let sweep = try records.sweep(name) else {
            throw CommandError.failed(command: ctx.command.name, reason: "no sweep named '\(name)' ('sweep show' lists them)")
        }
        let options: SweepOptions
        do { options = try JSONDecoder().decode(SweepOptions.self, from: Data(sweep.options.utf8)) } catch {
            throw CommandError.failed(command: ctx.command.name, reason: "sweep '\(name)' is stored in a form this persona cannot read")
        }
        let started = monotonicSeconds()
        var points = try records.points(of: name)
        let rungs = options.halving ? SuccessiveHalving.rungs(points: points.count) : [1.0]
        // The sweep's status records how many rungs have been halved, so a resumed sweep does not halve twice.
        let halved = sweep.status.hasPrefix("halved:") ? Int(sweep.status.dropFirst(7)) ?? 0 : 0
        let (frozen, modelKey) = try TrainCommandSupport.model(ctx, options.model)
        let dataset = try ctx.dataset(named: sweep.dataset)
        let train = dataset.chunks(split: .train).map(TrainingExample.init)
        let test = dataset.chunks(split: .test).map(TrainingExample.init)
        let sampler = try options.samplerSettings()

        for (rung, fraction) in rungs.enumerated() {
            let last = rung == rungs.count - 1
            for i in points.indices where points[i].status != "stopped" && points[i].status != "done" && level(points[i]) <= rung {
                if let budget = options.budgetSeconds, monotonicSeconds() - started > budget {
                    ctx.print("budget of \(Int(budget)) s spent; 'sweep continue \(name)' goes on")
                    return
                }
                let point = SweepSpace.parse(point: points[i].parameters)
                func value(_ key: String) -> String { point[key] ?? defaults[key]! }
                let steps = Int(value("steps")) ?? 100
                let target = last ? steps : max(1, Int((Double(steps) * fraction).rounded(.up)))
                let label = "point \(i + 1)/\(points.count) \(points[i].parameters)"
                let config = try LoRAConfig(rank: Int(value("rank")) ?? 8, alpha: Double(value("alpha")) ?? 16,
                                            targets: LoRAConfig.parseTargets(options.targets))
                var rng = SeededGenerator(seed: pointSeed(options, i))
                let adapter = LoRAAdapter(name: "\(name)-\(i + 1)", config: config, shape: frozen.shape, baseModel: modelKey, rng: &rng)
                var settings = TrainSettings()
                settings.steps = steps
                settings.learningRate = Double(value("lr")) ?? 2e-4
                settings.batchSize = Int(value("batch")) ?? 4
                settings.seed = rng.next()
                settings.threads = ctx.bench.settings.threads
                let trainer = try Trainer(model: frozen, adapter: adapter, train: train, test: test, settings: settings)
                let directory = try folder(ctx, name) + "/point-\(i + 1)"
                if points[i].stepsDone > 0, let checkpoint = points[i].checkpoint {
                    try trainer.restore(from: checkpoint)
                }
                ctx.progress.begin("sweep \(name) \(label)", total: target, unit: "steps")
                while trainer.completedSteps < target && !ctx.cancellation.isCancelled {
                    let m = try trainer.step()
                    ctx.progress.advance(to: m.step, detail: String(format: "loss %.4f", m.loss))
                }
                ctx.progress.finish()
                points[i].stepsDone = trainer.completedSteps
                points[i].checkpoint = try trainer.saveCheckpoint(in: directory)
                try records.updatePoint(points[i])
                if ctx.cancellation.isCancelled {
                    ctx.print("\(label): stopped after \(trainer.completedSteps) steps; 'sweep continue \(name)' resumes")
                    return
                }
                // A point is judged on held-out loss alone when that is the metric and it is not
                // yet finished; otherwise by a full evaluation, which is stored.
                if options.metric == .loss && !last {
                    points[i].score = try trainer.evaluate()
                } else {
                    let plan = EvalPlan(people: nil, conversations: options.conversations, turns: options.turns,
                                        samplerName: options.samplerName, sampler: sampler, seed: pointSeed(options, i) ^ 0xE7A1)
                    let report = try EvalRunner.run(ctx, adapter: adapter, datasetName: sweep.dataset, plan: plan)
                    points[i].evalID = try records.saveEval(adapter: adapter.name, dataset: sweep.dataset, seed: plan.seed,
                                                            summary: "sweep \(name) \(points[i].parameters): " + EvalRunner.summary(report),
                                                            reportJSON: try report.json())
                    points[i].score = EvalRendering.objective(report, metric: options.metric)
                }
                points[i].status = last ? "done" : "rung:\(rung + 1)"
                try records.updatePoint(points[i])
                ctx.print(String(format: "%@: %d steps, %@ %.4f", label, trainer.completedSteps, options.metric.rawValue, points[i].score ?? .nan)
                          + (points[i].evalID.map { " (eval \($0))" } ?? ""))
            }
            if !last && rung >= halved {
                let judged = points.indices.filter { points[$0].status != "stopped" }
                let scores = Dictionary(uniqueKeysWithValues: judged.map { ($0, points[$0].score ?? .nan) })
                let keep = Set(SuccessiveHalving.survivors(scores, lowerIsBetter: options.metric.lowerIsBetter))
                for i in judged where !keep.contains(i) {
                    points[i].status = "stopped"
                    try records.updatePoint(points[i])
                }
                try records.setSweepStatus(name, "halved:\(rung + 1)")
                ctx.print("halving after \(Int(fraction * 100))% of the steps: \(keep.count) of \(judged.count) points go on ("
                          + keep.sorted().map { String($0 + 1) }.joined(separator: ", ") + ")")
            }
        }
        try records.setSweepStatus(name, "finished")
        try printResults(ctx, name: name, registerBest: true)
    }

    /// How many rungs a point has been judged at.
    static func level(_ p: EvalRecords.SweepPointRow) -> Int {
        if p.status.hasPrefix("rung:") { return Int(p.status.dropFirst(5)) ?? 0 }
        return 0
    }

    /// The table sorted by the metric, the best point and the marginal means.
    static func printResults(_ ctx: CommandContext, name: String, registerBest: Bool) throws {
        let records = try ctx.evalRecords()
        guard let sweep = try records.sweep(name) else {
            throw CommandError.failed(command: ctx.command.name, reason: "no sweep named '\(name)'")
        }
        let options = try JSONDecoder().decode(SweepOptions.self, from: Data(sweep.options.utf8))
        let space = try SweepSpace(parsing: sweep.space)
        let points = try records.points(of: name)
        let lower = options.metric.lowerIsBetter
        let sorted = points.sorted { a, b in
            switch (a.score, b.score, a.status == "done", b.status == "done") {
            case (_, _, true, false): return true
            case (_, _, false, true): return false
            case (let x?, let y?, _, _) where x != y: return lower ? x < y : x > y
            case (.some, nil, _, _): return true
            case (nil, .some, _, _): return false
            default: return a.index < b.index
            }
        }
        ctx.print("sweep \(name) on \(sweep.dataset): \(points.count) points, metric \(options.metric.rawValue) (\(lower ? "lower" : "higher") is better)"
                  + (options.halving ? ", successive halving" : "") + ", \(sweep.status)")
        ctx.printTable([["point", "parameters", "status", "steps", options.metric.rawValue, "eval"]] + sorted.map { p in
            [String(p.index + 1), p.parameters, p.status, String(p.stepsDone), p.score.map { String(format: "%.4f", $0) } ?? "-",
             p.evalID.map(String.init) ?? "-"]
        }, rightAligned: [0, 3, 4])
        let done = sorted.filter { $0.status == "done" && $0.score != nil }
        guard let best = done.first else { ctx.print("no point finished yet"); return }
        ctx.print("best: point \(best.index + 1), \(best.parameters)" + (best.evalID.map { " (eval \($0))" } ?? ""))
        ctx.print("marginal means of \(options.metric.rawValue) over finished points:")
        ctx.printTable(MarginalMeans.table(space: space, points: done.map { (point: SweepSpace.parse(point: $0.parameters), score: $0.score!) }), rightAligned: [2, 3])
        if registerBest, let checkpoint = best.checkpoint {
            let (frozen, modelKey) = try TrainCommandSupport.model(ctx, options.model)
            let adapter = try AdapterFiles.load(from: checkpoint, name: "\(name)-\(best.index + 1)", shape: frozen.shape)
            adapter.baseModel = modelKey
            TrainCommandSupport.register(ctx, adapter, model: modelKey)
            ctx.print("adapter \(adapter.name) (the best point) is loaded and active")
        }
    }
}

extension CommandTable {
    /// `sweep NAME over "lr=… rank=…"` as the issue writes it: the word `over` followed by
    /// the space is read as `over="…"` (a quoted space holds '=' and would otherwise be
    /// taken for a `lr=` argument), then the words are parsed as usual.
    static var sweepCommands: [CommandSpec] {
        var entry = sweepSpecs[0]
        let parsed = sweepSpecs[0]
        entry.takesRawWords = true
        entry.run = { raw in
            var words: [String] = []
            var i = 0
            while i < raw.words.count {
                if raw.words[i] == "over", i + 1 < raw.words.count {
                    words.append("over=" + raw.words[i + 1]); i += 2
                } else {
                    words.append(raw.words[i]); i += 1
                }
            }
            try parsed.run(CommandContext(bench: raw.bench, arguments: try Arguments(words: words, spec: parsed), command: parsed, words: words))
        }
        return [entry] + sweepSpecs.dropFirst()
    }

    static let sweepSpecs: [CommandSpec] = [
        CommandSpec("sweep", summary: "Train and evaluate a fresh adapter for each point of a grid (or N random points), and rank them",
                    details: """
                    over= names the parameters and their values: lr, rank, alpha, steps, batch (others keep train's defaults). \
                    Each point is a fresh adapter trained on the dataset's train split, then evaluated as 'eval' does (n= and turns= \
                    conversations per person; metric=loss judges by held-out loss alone until a point's last rung). halving=on runs \
                    successive halving: every point is judged at a quarter of its steps, the better half goes on to half, and \
                    the better half of those to the end. budget= stops starting points after that long (2h, 30m, 90s). Everything \
                    is stored: Ctrl-C or a crash loses at most the point in progress, and 'sweep continue NAME' goes on without \
                    repeating finished points. At the end: the points sorted by the metric, the best one (loaded as an adapter), \
                    and the mean of the metric for each value of each parameter.
                    """,
                    examples: ["sweep lrs on=chats over \"lr=1e-4,3e-4,1e-3 rank=8,16 steps=200,400\" metric=attribution n=5",
                               "sweep quick on=chats --over \"lr=3e-4,1e-3 steps=100\" metric=loss halving=on budget=2h"],
                    arguments: [
                        .positional("name", .string, "the sweep's name"),
                        .keyed("on", .object(.dataset), required: true, "the dataset"),
                        .keyed("over", .string, required: true, "the parameters and values, as \"lr=1e-4,3e-4 rank=8,16\""),
                        .keyed("random", .int, default: "0", "run this many random points of the grid instead of all (0: all)"),
                        .keyed("halving", .bool, default: "off", "successive halving"),
                        .keyed("metric", .choice(SweepMetric.allCases.map(\.rawValue)), default: "attribution",
                               "rank by attribution per conversation (capped at its ceiling) or held-out loss"),
                        .keyed("budget", .string, "stop starting points after this long (2h, 30m, 90s)"),
                        .keyed("n", .int, default: "5", "conversations per person in each evaluation"),
                        .keyed("turns", .int, default: "10", "turns per evaluated conversation"),
                        .keyed("sampler", .object(.sampler), "the sampler of the evaluations (default: plain sampling)"),
                        .keyed("targets", .string, default: "q,k,v,o,gate,up,down", "projections each adapter adapts"),
                        .keyed("model", .string, "base model: a session model or a GGUF file (default: the default model)"),
                    ]) { ctx in
            let a = ctx.arguments
            let name = try a.required("name")
            guard Arguments.isKey(Substring(name)) else {
                throw CommandError.badValue(command: "sweep", argument: "name", value: name, expected: "a name of letters, digits and underscores")
            }
            let records = try ctx.evalRecords()
            guard try records.sweep(name) == nil else {
                throw CommandError.failed(command: "sweep", reason: "a sweep named '\(name)' exists; 'sweep continue \(name)' goes on with it")
            }
            let spaceText = try a.required("over")
            let space: SweepSpace
            do { space = try SweepSpace(parsing: spaceText) } catch let error as EvalError {
                throw CommandError.badValue(command: "sweep", argument: "over", value: spaceText, expected: error.description)
            }
            let random = a.int("random", default: 0)
            guard random >= 0 else { throw CommandError.badValue(command: "sweep", argument: "random", value: String(random), expected: "0 or more") }
            var budget: Double?
            if let text = a.string("budget") {
                guard let seconds = DatasetParameters.parseDuration(text) else {
                    throw CommandError.badValue(command: "sweep", argument: "budget", value: text, expected: "a duration such as 2h, 30m or 90s")
                }
                budget = seconds
            }
            let n = a.int("n", default: 5), turns = a.int("turns", default: 10)
            guard (1...1000).contains(n), (1...200).contains(turns) else {
                throw CommandError.badValue(command: "sweep", argument: "n", value: "\(n) (turns \(turns))", expected: "n 1 to 1000 and turns 1 to 200")
            }
            _ = try LoRAConfig.parseTargets(a.string("targets", default: "q,k,v,o,gate,up,down"))
            _ = try ctx.dataset(named: try a.required("on"))
            let (samplerName, settings, seed) = try samplerAndSeed(ctx)
            let halving = ["on", "true", "yes", "1"].contains(a.string("halving", default: "off").lowercased())
            let options = SweepOptions(metric: SweepMetric(rawValue: a.string("metric", default: "attribution")) ?? .attribution,
                                       halving: halving, random: random, budgetSeconds: budget, conversations: n, turns: turns,
                                       samplerName: samplerName, samplerAssignments: settings.changedAssignments.filter { !$0.hasPrefix("seed=") },
                                       seed: seed, targets: a.string("targets", default: "q,k,v,o,gate,up,down"), model: a.string("model"))
            var rng = SeededGenerator(seed: seed)
            let points = random > 0 ? space.randomPoints(random, rng: &rng) : space.grid
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try records.createSweep(name: name, dataset: try a.required("on"), space: spaceText,
                                    options: String(decoding: try encoder.encode(options), as: UTF8.self),
                                    points: points.map { space.describe($0) })
            ctx.print("sweep \(name): \(points.count) points\(random > 0 ? " drawn from \(space.grid.count)" : ""), metric \(options.metric.rawValue)"
                      + (halving ? ", successive halving" : "") + ", seed \(seed)")
            try SweepRunner.run(ctx, name: name)
        },
        CommandSpec("sweep continue", summary: "Go on with a stopped sweep; finished points are not repeated",
                    examples: ["sweep continue lrs"],
                    arguments: [.positional("name", .string, "the sweep")]) { ctx in
            try SweepRunner.run(ctx, name: try ctx.arguments.required("name"))
        },
        CommandSpec("sweep show", summary: "List the sweeps, or show one's table, best point and marginal means",
                    examples: ["sweep show", "sweep show lrs"],
                    arguments: [.positional("name", .string, required: false, "the sweep")]) { ctx in
            if let name = ctx.arguments.string("name") {
                try SweepRunner.printResults(ctx, name: name, registerBest: false)
                return
            }
            let sweeps = try ctx.evalRecords().sweeps()
            if sweeps.isEmpty { ctx.print("no sweeps"); return }
            ctx.printTable([["sweep", "dataset", "over", "status"]] + sweeps.map { [$0.name, $0.dataset, $0.space, $0.status] })
        },
    ]
}
