import Foundation
import PersonaCore
import PersonaData
import PersonaEval
import PersonaModel
import PersonaSample
import PersonaStore
import PersonaTrain

/// The eval area's state: the records of evaluations, sweeps and blind tests, and where a
/// blind test reads its answers (the terminal or piped standard input; tests script it).
final class EvalAreaState {
    var records: EvalRecords?
    var readAnswer: () -> String? = { Swift.readLine(strippingNewline: true) }
    /// The base model's held-out loss per conversation, by model and dataset contents: it is
    /// the same for every adapter, so a session (a sweep above all) computes it once.
    var baseLosses: [String: [String: Double]] = [:]
}

extension CommandContext {
    var evalArea: EvalAreaState { bench.state(EvalAreaState.self) { EvalAreaState() } }

    func evalRecords() throws -> EvalRecords {
        if let r = evalArea.records { return r }
        // The message store's connection: one per workspace (see TrainAreaState.runStore).
        let r = try EvalRecords(database: try messageStore().database)
        evalArea.records = r
        return r
    }
}

/// What one evaluation generates and with what.
struct EvalPlan {
    var people: [String]?
    var conversations: Int
    var turns: Int
    var samplerName: String
    var sampler: SamplerSettings
    var seed: UInt64
}

/// Runs an evaluation of one adapter on one dataset: held-out loss (base and adapter),
/// conversations generated in the dataset's format, and the metrics of PersonaEval on them.
enum EvalRunner {
    /// The base model an adapter was made on, as a frozen base (loss) and as a loaded model
    /// (generation), both through the session's own resolution of models.
    static func models(_ ctx: CommandContext, for adapter: LoRAAdapter) throws -> (frozen: FrozenLlama, loaded: LoadedModel, key: String) {
        let name: String? = adapter.baseModel.isEmpty ? nil : adapter.baseModel
        let (frozen, key) = try TrainCommandSupport.model(ctx, name)
        let loaded: LoadedModel
        if let name, let object = ctx.bench.object(name), object.kind == .model {
            loaded = try ctx.loadedModel(name)
        } else if let name {
            loaded = try ctx.openUnnamedModel(path: name)
        } else {
            loaded = try ctx.loadedModel(nil)
        }
        return (frozen, loaded, key)
    }

    /// The people an evaluation judges: those the dataset's loss mask imitates, or the
    /// `people=` list (each of whom must be one of them).
    static func imitable(_ real: RealMessages, _ dataset: Dataset, requested: [String]?, command: String) throws -> [String] {
        let speakers = real.speakers
        let all: [String]
        switch dataset.parameters.imitate {
        case .me: all = speakers.filter { $0 == real.me }
        case .them: all = speakers.filter { $0 != real.me }
        case .both: all = speakers
        }
        guard let requested else {
            guard !all.isEmpty else { throw CommandError.failed(command: command, reason: "dataset '\(dataset.name)' has no imitable person with messages") }
            return all
        }
        for p in requested where !all.contains(p) {
            throw CommandError.badValue(command: command, argument: "people", value: p,
                                        expected: "someone the dataset imitates: " + all.joined(separator: ", "))
        }
        return requested
    }

    static func run(_ ctx: CommandContext, adapter: LoRAAdapter, datasetName: String, plan: EvalPlan,
                    log: (String) -> Void = { _ in }) throws -> EvalReport {
        var timings: [String: Double] = [:]
        func timed<T>(_ part: String, _ body: () throws -> T) rethrows -> T {
            let start = monotonicSeconds()
            defer { timings[part, default: 0] += monotonicSeconds() - start }
            return try body()
        }
        let command = ctx.command.name
        let dataset = try ctx.dataset(named: datasetName)
        let real = RealMessages(dataset: dataset)
        let people = try imitable(real, dataset, requested: plan.people, command: command)
        let (frozen, loaded, modelKey) = try models(ctx, for: adapter)

        // Held-out loss: each conversation's test chunks once per model; a person's figure is
        // over the chunks of their conversations (the owner's over all of them), weighted by
        // counted tokens.
        let losses = try timed("loss") { try heldOutLosses(ctx, frozen: frozen, modelKey: modelKey, adapter: adapter, dataset: dataset) }
        func loss(of person: String, base: Bool) -> Double? {
            var total = 0.0, weight = 0.0
            for partner in real.partners(of: person) {
                let contact = person == real.me ? partner : person
                if let l = losses[contact] { total += (base ? l.base : l.adapter) * l.weight; weight += l.weight }
            }
            return weight > 0 ? total / weight : nil
        }

        // Generation, all from one generator seeded by the plan's seed, in a fixed order.
        let layout = try ChunkLayout(parameters: dataset.parameters)
        let capacity = min(loaded.model.config.contextLength, 256 + plan.turns * (plan.sampler.maxTokens + 24))
        let generator = try ConversationGenerator(model: loaded.model, tokenizer: loaded.tokenizer, settings: plan.sampler,
                                                  capacity: capacity, adapter: adapter)
        var rng = SeededGenerator(seed: plan.seed)
        var conversations: [GeneratedConversation] = []
        let total = people.count * plan.conversations
        ctx.progress.begin("eval: generating", total: total, unit: "conversations")
        defer { ctx.progress.finish() }
        try timed("generation") {
            for person in people {
                let partners = real.partners(of: person)
                for i in 0..<plan.conversations {
                    try ctx.cancellation.check()
                    let partner = partners[i % partners.count]
                    let contact = person == real.me ? partner : person
                    let request = ConversationRequest(me: real.me, them: contact, firstSpeaker: person, turns: plan.turns, layout: layout,
                                                      date: Date(timeIntervalSince1970: 1_710_000_000),
                                                      relationship: dataset.parameters.relationships[contact])
                    let written = try generator.generate(request, rng: &rng, cancellation: ctx.cancellation) { _ in }
                    try ctx.cancellation.check()
                    conversations.append(GeneratedConversation(person: person, partner: partner,
                                                               turns: written.map { .init(speaker: $0.speaker, text: $0.text) }))
                    ctx.progress.advance(to: conversations.count, detail: person)
                }
            }
        }

        let classifier = timed("classifier") { SpeakerClassifier(training: real.trainingBySpeaker) }
        let finder = timed("copies") {
            RegurgitationFinder(messages: real.messages.filter { $0.split == .train }.enumerated().map { .init(id: Int64($0.offset), text: $0.element.text) })
        }
        // Style comparisons draw their windows of real text from a generator of their own, so
        // that they do not depend on how many tokens the generation drew.
        var styleRNG = SeededGenerator(seed: plan.seed ^ 0x5354_594C_4520_5247)
        let share = max(1, (plan.turns + 1) / 2)
        var persons: [PersonEvaluation] = []
        for person in people {
            let mine = conversations.filter { $0.person == person }
            let texts = mine.flatMap(\.personTexts)
            let realTexts = real.texts(of: person)
            let (attribution, ceiling) = timed("attribution") {
                (classifier.score(mine.map { SpeakerSample(partner: $0.partner, texts: $0.personTexts) }, as: person),
                 classifier.score(real.heldOutSamples(of: person, size: share), as: person))
            }
            let words = texts.reduce(0) { $0 + DistinctN.words($1).count }
            let style = timed("style") {
                (StyleProfile(messages: texts), StyleProfile(messages: realTexts),
                 DistinctN.score(texts, n: 1), DistinctN.score(texts, n: 2),
                 DistinctN.matched(real: realTexts, wordCount: words, n: 1, rng: &styleRNG),
                 DistinctN.matched(real: realTexts, wordCount: words, n: 2, rng: &styleRNG))
            }
            let loops = timed("loops") { LoopRate.measure(mine.map(\.transcript)) }
            let (copies, baseline) = timed("copies") {
                (CopyShare.measure(texts, against: finder), CopyShare.measure(real.texts(of: person, split: .test), against: finder))
            }
            persons.append(PersonEvaluation(
                person: person, partners: real.partners(of: person), baseLoss: loss(of: person, base: true), adapterLoss: loss(of: person, base: false),
                attribution: attribution, ceiling: ceiling, style: style.0, realStyle: style.1,
                distinct1: style.2, distinct2: style.3, realDistinct1: style.4, realDistinct2: style.5,
                loopRate: loops, copies: copies, baselineCopies: baseline))
        }
        let settings = EvalSettings(adapter: adapter.name, dataset: datasetName, model: modelKey, sampler: plan.samplerName,
                                    samplerSettings: plan.sampler.changedAssignments.joined(separator: " "),
                                    conversations: plan.conversations, turns: plan.turns, seed: plan.seed, people: people)
        return EvalReport(settings: settings, persons: persons, conversations: conversations, timings: timings)
    }

    /// Mean held-out loss of base and adapter per contact's conversation, with the counted
    /// tokens as weight.
    static func heldOutLosses(_ ctx: CommandContext, frozen: FrozenLlama, modelKey: String, adapter: LoRAAdapter,
                              dataset: Dataset) throws -> [String: (base: Double, adapter: Double, weight: Double)] {
        let test = dataset.chunks(split: .test).filter { $0.tokens.count >= 2 && $0.countedTokens > 0 }
        guard !test.isEmpty else { return [:] }
        let train = dataset.chunks(split: .train).filter { $0.tokens.count >= 2 && $0.countedTokens > 0 }
        var s = TrainSettings(); s.steps = 1; s.threads = ctx.bench.settings.threads
        let trainer = try Trainer(model: frozen, adapter: adapter, train: (train.isEmpty ? test : train).map(TrainingExample.init),
                                  test: test.map(TrainingExample.init), settings: s)
        var out: [String: (base: Double, adapter: Double, weight: Double)] = [:]
        var contacts: [String] = []
        for c in test where !contacts.contains(c.personName) { contacts.append(c.personName) }
        let cacheKey = modelKey + "\u{1}" + dataset.name + "\u{1}" + dataset.contentDigest
        var base = ctx.evalArea.baseLosses[cacheKey] ?? [:]
        for contact in contacts {
            try ctx.cancellation.check()
            let examples = test.filter { $0.personName == contact }.map(TrainingExample.init)
            let weight = Double(examples.reduce(0) { $0 + $1.countedTokens })
            let baseLoss = try base[contact] ?? trainer.evaluate(examples, useAdapter: false)
            base[contact] = baseLoss
            out[contact] = (baseLoss, try trainer.evaluate(examples, useAdapter: true), weight)
        }
        ctx.evalArea.baseLosses[cacheKey] = base
        return out
    }

    /// One line for `evals` and for the record.
    static func summary(_ r: EvalReport) -> String {
        let persons = r.persons
        guard !persons.isEmpty else { return "no one evaluated" }
        let attribution = persons.map(\.attribution.perConversation).reduce(0, +) / Double(persons.count)
        let ceiling = persons.map(\.ceiling.perConversation).reduce(0, +) / Double(persons.count)
        var s = String(format: "attribution/conv %.0f%% (ceiling %.0f%%)", attribution * 100, ceiling * 100)
        if let loss = EvalRendering.objective(r, metric: .loss) { s += String(format: ", loss %.3f", loss) }
        s += String(format: ", loops %.0f%%, copies %.0f%%", persons.map(\.loopRate).reduce(0, +) / Double(persons.count) * 100,
                    persons.map(\.copies.share).reduce(0, +) / Double(persons.count) * 100)
        return s
    }

    /// The tables of one report, as `eval` and `eval show` print them.
    static func printReport(_ ctx: CommandContext, _ r: EvalReport, id: Int64?) {
        let s = r.settings
        ctx.print("eval\(id.map { " \($0)" } ?? ""): adapter \(s.adapter) on \(s.dataset), \(s.conversations) conversations × \(s.turns) turns per person, "
                  + "sampler \(s.sampler)\(s.samplerSettings.isEmpty ? "" : " (\(s.samplerSettings))"), seed \(s.seed)")
        for p in r.persons {
            ctx.print()
            let turns = r.conversations.filter { $0.person == p.person }.reduce(0) { $0 + $1.personTexts.count }
            ctx.print("\(p.person) (with \(p.partners.joined(separator: ", ")); \(turns) generated turns, "
                      + "\(p.realStyle.messages) real messages)")
            ctx.printTable(EvalRendering.personTable(p))
            for note in EvalRendering.personNotes(p) { ctx.print(note) }
        }
        ctx.print()
        ctx.print("summary")
        ctx.printTable(EvalRendering.summaryTable(r), rightAligned: [2, 3, 4, 5, 6])
    }

    static func timingLine(_ timings: [String: Double]) -> String {
        let generation = timings["generation"] ?? 0
        let rest = timings.filter { $0.key != "generation" }
        let beyond = rest.values.reduce(0, +)
        return String(format: "time: generation %.1f s; beyond it %.1f s (", generation, beyond)
            + rest.sorted { $0.key < $1.key }.map { String(format: "%@ %.1f s", $0.key, $0.value) }.joined(separator: ", ") + ")"
    }

    static func plan(_ ctx: CommandContext) throws -> EvalPlan {
        let a = ctx.arguments
        let n = a.int("n", default: 20), turns = a.int("turns", default: 10)
        guard (1...1000).contains(n) else { throw CommandError.badValue(command: ctx.command.name, argument: "n", value: String(n), expected: "1 to 1000") }
        guard (1...200).contains(turns) else { throw CommandError.badValue(command: ctx.command.name, argument: "turns", value: String(turns), expected: "1 to 200") }
        let (samplerName, chosen, drawn) = try CommandTable.samplerAndSeed(ctx)
        var settings = chosen, seed = drawn
        if let given = a.string("seed") {
            guard let s = UInt64(given) else { throw CommandError.badValue(command: ctx.command.name, argument: "seed", value: given, expected: "a whole number from 0") }
            seed = s
        }
        settings.seed = nil
        let people = a.string("people").map { SamplerSettings.parseList($0).filter { !$0.isEmpty } }
        return EvalPlan(people: people, conversations: n, turns: turns, samplerName: samplerName, sampler: settings, seed: seed)
    }

    static func load(_ ctx: CommandContext, _ id: Int64) throws -> EvalReport {
        guard let row = try ctx.evalRecords().eval(id) else {
            throw CommandError.failed(command: ctx.command.name, reason: "no eval \(id) ('evals' lists them)")
        }
        do { return try EvalReport.fromJSON(row.reportJSON) } catch {
            throw CommandError.failed(command: ctx.command.name, reason: "eval \(id) is stored in a form this persona cannot read (\(error))")
        }
    }
}

extension CommandTable {
    static let evalArguments: [ArgumentSpec] = [
        .keyed("people", .string, "only these imitable people (comma-separated)"),
        .keyed("n", .int, default: "20", "conversations generated per person"),
        .keyed("turns", .int, default: "10", "turns per conversation (the person writes the first and every other)"),
        .keyed("sampler", .object(.sampler), "the sampler (default: plain sampling)"),
        .keyed("seed", .string, "the generation seed (default: drawn from the session's generator)"),
    ]

    /// Commands of the eval area.
    static let evalCommands: [CommandSpec] = [
        CommandSpec("eval", summary: "Does it sound like them? Evaluate an adapter against the real messages of a dataset",
                    details: """
                    Per imitable person of the dataset: held-out loss and perplexity on the test split (base model and adapter, \
                    over the test chunks of that person's conversations); speaker attribution of n generated conversations by a \
                    naive Bayes classifier of character 1–4-grams and words trained on the training split, per message and per \
                    conversation, among all speakers and against the partner alone, beside its ceiling on held-out real messages \
                    cut to the same size (well above the ceiling means a caricature: read it with distinct-n and loops); style \
                    (length, emoji, '?', lower case, repeated letters, distinct-1/2 against real text of the same word count); \
                    the share of conversations ending in a loop; and the share of turns copying at least 40 characters of a real \
                    message, beside the person's own baseline (held-out real messages against the training split). The result \
                    is stored: 'evals', 'eval show N', 'compare A B'.
                    """,
                    examples: ["eval ed on=chats", "eval ed on=chats people=\"Alex Chen\" n=5 turns=6 sampler=warm seed=7", "eval ed on=chats --json"],
                    arguments: [
                        .positional("adapter", .object(.adapter), "the adapter to evaluate"),
                        .keyed("on", .object(.dataset), required: true, "the dataset whose splits and format to use"),
                    ] + evalArguments + [.flag("json", "print the stored report as JSON")]) { ctx in
            let adapter = try TrainCommandSupport.adapter(ctx, try ctx.arguments.required("adapter"))
            let datasetName = try ctx.arguments.required("on")
            let plan = try EvalRunner.plan(ctx)
            let report = try EvalRunner.run(ctx, adapter: adapter, datasetName: datasetName, plan: plan)
            let id = try ctx.evalRecords().saveEval(adapter: adapter.name, dataset: datasetName, seed: plan.seed,
                                                    summary: EvalRunner.summary(report), reportJSON: try report.json())
            if ctx.arguments.flag("json") {
                ctx.print(try report.withoutTimings.json())
                return
            }
            EvalRunner.printReport(ctx, report, id: id)
            ctx.print(EvalRunner.timingLine(report.timings))
            ctx.print("saved as eval \(id)")
        },
        CommandSpec("eval show", summary: "Print a stored evaluation",
                    examples: ["eval show 3", "eval show 3 --json", "eval show 3 --conversations"],
                    arguments: [.positional("id", .int, "the eval ('evals' lists them)"),
                                .flag("json", "print it as JSON"),
                                .flag("conversations", "also print the generated conversations")]) { ctx in
            let id = Int64(ctx.arguments.int("id") ?? 0)
            let report = try EvalRunner.load(ctx, id)
            if ctx.arguments.flag("json") { ctx.print(try report.withoutTimings.json()); return }
            EvalRunner.printReport(ctx, report, id: id)
            if ctx.arguments.flag("conversations") {
                for (i, c) in report.conversations.enumerated() {
                    ctx.print()
                    ctx.print("conversation \(i + 1) (\(c.person) with \(c.partner)):")
                    ctx.print(c.transcript)
                }
            }
        },
        CommandSpec("evals", summary: "List the stored evaluations") { ctx in
            let rows = try ctx.evalRecords().evals()
            if rows.isEmpty { ctx.print("no evals"); return }
            ctx.printTable([["eval", "adapter", "dataset", "seed", "summary"]] + rows.map {
                [String($0.id), $0.adapter, $0.dataset, String($0.seed), $0.summary]
            }, rightAligned: [0])
        },
        CommandSpec("compare", summary: "Stored evaluations side by side, the better figure of each row marked with *",
                    details: """
                    One row per person and metric. Better means lower for loss, loops and copies, and closer to the reference \
                    for style (the real figure) and attribution (the ceiling: a score above it is a caricature, not a success); \
                    the reference is shown in brackets.
                    """,
                    examples: ["compare 1 2", "compare 3 4 5"],
                    arguments: [.variadic("evals", .int, "two or more eval numbers")]) { ctx in
            let ids = ctx.arguments.variadic.compactMap { Int64($0) }
            guard ids.count >= 2 else {
                throw CommandError.badValue(command: "compare", argument: "evals", value: ctx.arguments.variadic.joined(separator: " "), expected: "two or more eval numbers")
            }
            let reports = try ids.map { id -> (label: String, report: EvalReport) in
                let report = try EvalRunner.load(ctx, id)
                return ("eval \(id) (\(report.settings.adapter))", report)
            }
            for (label, r) in reports {
                ctx.print("\(label): \(r.settings.dataset), \(r.settings.conversations)×\(r.settings.turns), sampler \(r.settings.sampler), seed \(r.settings.seed)")
            }
            ctx.printTable(EvalRendering.comparison(reports))
        },
    ] + blindTestCommands + sweepCommands
}
