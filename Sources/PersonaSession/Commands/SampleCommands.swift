import Foundation
import PersonaCore
import PersonaData
import PersonaModel
import PersonaSample
import PersonaStore
import PersonaText

/// A named sampler of the session: its settings, turned into a chain when a generation
/// knows the model's vocabulary.
final class SamplerObject {
    var settings: SamplerSettings
    init(settings: SamplerSettings) { self.settings = settings }

    var summary: String {
        let changed = settings.changedAssignments.filter { !$0.hasPrefix("mode=") }
        return settings.mode.rawValue + (changed.isEmpty ? " (defaults)" : ": " + changed.joined(separator: " "))
    }

    /// The lines of `sampler show` (and `show NAME`).
    var detailLines: [String] {
        var rows = [["parameter", "value", "default"]]
        let defaults = SamplerSettings()
        for p in SamplerSettings.parameters {
            let value = settings.text(of: p.key), fallback = defaults.text(of: p.key)
            rows.append([p.key, value.isEmpty ? "-" : value, value == fallback ? "" : (fallback.isEmpty ? "-" : fallback)])
        }
        var lines = TextTable.render(rows)
        lines.append("chain, applied in this order:")
        lines.append(contentsOf: SamplerChain.stageLines(for: settings).map { "  " + $0 })
        return lines
    }
}

extension CommandTable {
    static let samplerParameterArguments: [ArgumentSpec] = SamplerSettings.parameters.map { p in
        let type: ValueType
        switch p.kind {
        case .int: type = .int
        case .double: type = .double
        case .bool: type = .bool
        case .text: type = .string
        case .choice(let words): type = .choice(words)
        }
        return .keyed(p.key, type, default: SamplerSettings().text(of: p.key), p.help)
    }

    /// The settings of sampler `name` (a new one starts from the defaults) with the given keys applied.
    static func applySamplerArguments(_ ctx: CommandContext, to start: SamplerSettings) throws -> SamplerSettings {
        var settings = start
        for p in SamplerSettings.parameters where ctx.arguments.has(p.key) {
            var text = ctx.arguments.string(p.key) ?? ""
            if case .int = p.kind, let i = ctx.arguments.int(p.key) { text = String(i) }
            try settings.set(p.key, to: text)
        }
        if settings.mode == .beam && settings.n > settings.numBeams {
            throw SampleError.badParameter(key: "n", value: String(settings.n), expected: "at most num_beams (\(settings.numBeams)) in beam mode")
        }
        return settings
    }

    static func samplerObject(_ ctx: CommandContext, _ name: String) throws -> SamplerObject {
        try ctx.bench.object(name, kind: .sampler, as: SamplerObject.self)
    }

    /// Parses "2,1,0.5" as numbers.
    static func numberList(_ text: String, command: String, argument: String) throws -> [Double] {
        var out: [Double] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let t = part.trimmingCharacters(in: .whitespaces)
            guard let v = Double(t), v.isFinite || v == -.infinity else {
                throw CommandError.badValue(command: command, argument: argument, value: text, expected: "numbers separated by commas")
            }
            out.append(v)
        }
        return out
    }

    /// Commands of the sample area.
    static let sampleCommands: [CommandSpec] = [
        CommandSpec("sampler", summary: "Create or change a named sampler",
                    details: """
                    Parameters not given keep their value (a new sampler starts from the defaults). The chain always runs \
                    in one order: logit_bias, suppression, repetition_penalty, frequency/presence, dry, no_repeat_ngram, \
                    temperature, top_k, typical_p, top_p, min_p, then a sampled or greedy choice; beam mode uses the \
                    penalties only. 'sampler show NAME' prints the chain.
                    """,
                    examples: [
                        "sampler warm temperature=0.8 top_p=0.95 repetition_penalty=1.1",
                        "sampler clean suppress=\"http,www\" suppress_sets=\"urls,phone numbers,reactions\"",
                        "sampler beams mode=beam num_beams=4 length_penalty=1 no_repeat_ngram_size=3",
                    ],
                    arguments: [.positional("name", .object(.sampler), "the sampler (created when new)")] + samplerParameterArguments) { ctx in
            let name = try ctx.arguments.required("name")
            guard Arguments.isKey(Substring(name)) else {
                throw CommandError.badValue(command: "sampler", argument: "name", value: name, expected: "a name of letters, digits and underscores")
            }
            let existing = try? samplerObject(ctx, name)
            if existing == nil, ctx.bench.object(name) != nil {
                throw CommandError.failed(command: "sampler", reason: "'\(name)' is already a \(ctx.bench.object(name)!.kind.rawValue)")
            }
            let settings = try applySamplerArguments(ctx, to: existing?.settings ?? SamplerSettings())
            let object = existing ?? SamplerObject(settings: settings)
            object.settings = settings
            ctx.bench.register(NamedObject(name: name, kind: .sampler, summary: object.summary, value: object,
                                           details: { object.detailLines }))
            ctx.print("sampler \(name) \(existing == nil ? "created" : "updated"): \(object.summary)")
        },
        CommandSpec("sampler show", summary: "Show a sampler's parameters and the order of its chain",
                    examples: ["sampler show warm"],
                    arguments: [.positional("name", .object(.sampler), "the sampler")]) { ctx in
            let name = try ctx.arguments.required("name")
            let object = try samplerObject(ctx, name)
            ctx.print("sampler \(name): \(object.summary)")
            for line in object.detailLines { ctx.print(line) }
        },
        CommandSpec("sampler try", summary: "Run a sampler on logits you give and show the distribution it draws from",
                    details: "Needs no model: the logits are token 0, 1, 2, …; history is the prompt tokens before them.",
                    examples: ["sampler try warm logits=2,1,0.5,-1 draws=10000", "sampler try rep logits=2,-1,0.5,-0.5 history=0,1"],
                    arguments: [
                        .positional("name", .object(.sampler), "the sampler"),
                        .keyed("logits", .string, required: true, "the logits of the next token, comma-separated"),
                        .keyed("history", .string, "token ids before it (the prompt), comma-separated"),
                        .keyed("draws", .int, default: "10000", "draws to count"),
                    ]) { ctx in
            let name = try ctx.arguments.required("name")
            let object = try samplerObject(ctx, name)
            let logits = try numberList(try ctx.arguments.required("logits"), command: "sampler try", argument: "logits").map(Float.init)
            guard logits.count >= 1, logits.count <= 100_000 else {
                throw CommandError.badValue(command: "sampler try", argument: "logits", value: String(logits.count) + " values", expected: "1 to 100000 values")
            }
            var history: [Int32] = []
            if let h = ctx.arguments.string("history"), !h.isEmpty {
                for v in try numberList(h, command: "sampler try", argument: "history") {
                    guard v >= 0, v < Double(logits.count), v == v.rounded() else {
                        throw CommandError.badValue(command: "sampler try", argument: "history", value: h, expected: "token ids from 0 to \(logits.count - 1)")
                    }
                    history.append(Int32(v))
                }
            }
            let draws = ctx.arguments.int("draws", default: 10000)
            guard (1...10_000_000).contains(draws) else {
                throw CommandError.badValue(command: "sampler try", argument: "draws", value: String(draws), expected: "1 to 10000000")
            }
            var settings = object.settings
            if settings.mode == .beam { settings.mode = .greedy }
            // Without a model there are no token texts: strings cannot be matched here.
            if !settings.suppressStrings.isEmpty || !settings.suppressSets.isEmpty {
                ctx.print("(suppress and suppress_sets need the model's tokenizer: not applied here)")
                settings.suppressStrings = []
                settings.suppressSets = []
            }
            let chain = try SamplerChain(settings: settings, vocabularySize: logits.count)
            let tokenHistory = TokenHistory(prompt: history)
            var shaped = logits
            shaped.withUnsafeMutableBufferPointer { buffer in
                var view = LogitsView(values: buffer, scratch: LogitsScratch(vocabularySize: logits.count))
                chain.process(&view, history: tokenHistory)
            }
            let top = shaped.max() ?? -.infinity
            let weights = shaped.map { top > -.infinity ? Foundation.exp(Double($0 - top)) : 0 }
            let total = weights.reduce(0, +)
            var rng = settings.seed.map { SeededGenerator(seed: $0) } ?? ctx.bench.rng.fork()
            var counts = [Int](repeating: 0, count: logits.count)
            var work = logits
            for i in 0..<draws {
                if i % 4096 == 0 { try ctx.cancellation.check() }
                work = logits
                if let t = work.withUnsafeMutableBufferPointer({ chain.choose($0, history: tokenHistory, rng: &rng) }) { counts[Int(t)] += 1 }
            }
            func fmt(_ x: Float) -> String { x == -.infinity ? "-inf" : String(format: "%.4f", Double(x)) }
            var rows = [["token", "logit", "after chain", "probability", "drawn"]]
            for i in 0..<min(logits.count, 50) {
                rows.append([String(i), fmt(logits[i]), fmt(shaped[i]),
                             String(format: "%.4f", total > 0 ? weights[i] / total : 0),
                             String(format: "%.4f", Double(counts[i]) / Double(draws))])
            }
            ctx.printTable(rows, rightAligned: [0, 1, 2, 3, 4])
            if logits.count > 50 { ctx.print("(first 50 of \(logits.count) tokens shown)") }
            ctx.print("chain: " + (chain.description.isEmpty ? "plain softmax" : chain.description) + (chain.isGreedy ? " → greedy" : " → sample"))
        },
    ] + generationCommands + chatCommands + generationRecordCommands
}

extension BenchTable {
    /// Benchmarks of the sample area.
    static let sampleBenches: [BenchSpec] = [
        BenchSpec("generate", summary: "Sampling overhead per token (full chain, 49,152 tokens) against a decode step") { ctx in
            try SamplingBenchmark.run(ctx)
        },
    ]
}

/// Times the sampler chain on synthetic logits the size of the default model's vocabulary.
enum SamplingBenchmark {
    static let vocabularySize = 49_152

    /// A made-up vocabulary of lower-case strings (1–8 bytes), so string suppression has texts to scan.
    static func syntheticVocabulary(_ rng: inout SeededGenerator) -> ListVocabulary {
        let letters = Array("abcdefghijklmnopqrstuvwxyz .:/\n".utf8)
        return ListVocabulary(bytes: (0..<vocabularySize).map { _ in
            (0..<(1 + Int(rng.next() % 8))).map { _ in letters[Int(rng.next() % UInt64(letters.count))] }
        })
    }

    static func run(_ ctx: CommandContext) throws -> BenchReport {
        let runs = ctx.arguments.int("runs", default: 200)
        var rng = SeededGenerator(seed: 2024)
        let vocabulary = TokenByteTable(syntheticVocabulary(&rng))
        // Logits shaped like a model's: a broad Gaussian with a handful of strong candidates.
        let flat: [Float] = (0..<vocabularySize).map { _ in Float(rng.nextGaussian() * 2.5) }
        var logits = flat
        for _ in 0..<20 { logits[Int(rng.next() % UInt64(vocabularySize))] += Float(8 + rng.nextDouble() * 6) }
        let prompt = (0..<400).map { _ in Int32(rng.next() % UInt64(vocabularySize)) }
        let generated = (0..<112).map { _ in Int32(rng.next() % 2000) }
        let history = TokenHistory(tokens: prompt + generated, promptCount: prompt.count)

        let full: [String: String] = [
            "temperature": "0.8", "top_k": "40", "typical_p": "0.95", "top_p": "0.95", "min_p": "0.05",
            "repetition_penalty": "1.1", "frequency_penalty": "0.2", "presence_penalty": "0.1",
            "dry_multiplier": "0.8", "no_repeat_ngram_size": "3", "logit_bias": "5:-2,7:1.5",
            "suppress_tokens": "11,12", "suppress": "http,www", "suppress_sets": "urls,phone numbers,reactions",
        ]
        var noTopK = full; noTopK["top_k"] = "0"
        let variants: [(String, [String: String])] = [
            ("plain sampling (softmax, draw)", [:]),
            ("greedy", ["mode": "greedy"]),
            ("full chain", full),
            ("full chain without top_k", noTopK),
            ("full chain without top_k, flat logits (worst case)", noTopK),
        ]
        var results: [BenchResult] = []
        var notes: [String] = []
        var work = logits
        for (label, assignments) in variants {
            var settings = SamplerSettings()
            for (k, v) in assignments.sorted(by: { $0.key < $1.key }) { try settings.set(k, to: v) }
            let chain = try SamplerChain(settings: settings, vocabularySize: vocabularySize, vocabulary: vocabulary)
            var draw = SeededGenerator(seed: 1)
            let samples = try measureSeconds(runs: runs, warmup: 3) {
                try ctx.cancellation.check()
                let source = label.hasSuffix("(worst case)") ? flat : logits
                work.withUnsafeMutableBufferPointer { w in
                    source.withUnsafeBufferPointer { w.baseAddress!.update(from: $0.baseAddress!, count: vocabularySize) }
                    _ = chain.choose(w, history: history, rng: &draw)
                }
            }
            results.append(BenchResult(name: label, unit: "µs/token", samples: samples.map { $0 * 1e6 }))
        }
        // What generation adds per token: the model's log-probability of the chosen token.
        let logProbSamples = measureSeconds(runs: runs, warmup: 3) {
            logits.withUnsafeBufferPointer { _ = Sampler.logProbability(of: 3, in: $0) }
        }
        results.append(BenchResult(name: "model log-probability of the token", unit: "µs/token", samples: logProbSamples.map { $0 * 1e6 }))
        // The peer figure: one decode step of the default model (KV cache, greedy), when it is here.
        let modelPath = try DefaultModel.resolve(ctx.arguments.string("model"))
        var decodeStep: Double?
        if FileManager.default.fileExists(atPath: modelPath) {
            let loaded = try LoadedModel.open(path: modelPath, threads: ctx.arguments.int("threads") ?? ctx.bench.settings.threads)
            let source = ModelLogitsSource(model: loaded.model, capacity: 256)
            let prompt = loaded.tokenizer.encode("<|im_start|>user\nTell me a short story about a lighthouse keeper and a storm.<|im_end|>\n<|im_start|>assistant\n")
            var buffer = [Float](repeating: 0, count: loaded.model.config.vocabSize)
            var state = try buffer.withUnsafeMutableBufferPointer { try source.start(prompt: prompt, logits: $0) }
            var steps: [Double] = []
            for _ in 0..<min(runs, 128) {
                try ctx.cancellation.check()
                let next = Int32(buffer.indices.max { buffer[$0] < buffer[$1] } ?? 0)
                let t0 = monotonicSeconds()
                try buffer.withUnsafeMutableBufferPointer { try source.advance(&state, by: next, logits: $0) }
                steps.append(monotonicSeconds() - t0)
            }
            let result = BenchResult(name: "decode step of the default model (peer)", unit: "µs/token", samples: steps.map { $0 * 1e6 })
            results.append(result)
            decodeStep = result.value
        }
        if let fullChain = results.first(where: { $0.name == "full chain" }),
           let logProb = results.first(where: { $0.name == "model log-probability of the token" }) {
            let perToken = fullChain.value + logProb.value
            if let decodeStep {
                notes.append(String(format: "full chain + log-probability = %.1f µs = %.2f%% of the measured decode step (%.0f µs)", perToken, perToken / decodeStep * 100, decodeStep))
            }
            for step in [2.0, 7.0] {
                notes.append(String(format: "full chain + log-probability = %.2f%% of a %.0f ms decode step", perToken / (step * 1000) * 100, step))
            }
        }
        notes.append("logits: Gaussian (σ 2.5) with 20 strong candidates (+8 to +14); flat: the Gaussian alone")
        notes.append("vocabulary \(vocabularySize), history \(prompt.count) prompt + \(generated.count) generated tokens, synthetic logits")
        return BenchReport(bench: "generate", results: results, notes: notes)
    }
}

// MARK: Generation

/// The sample area's session state: the regurgitation index over the owner's messages
/// (built once per session, rebuilt when the number of messages changes).
final class SampleState {
    var finder: RegurgitationFinder?
    var indexedCount = -1
}

extension CommandTable {
    /// The sampler named by `sampler=` (defaults when none), and the seed this run uses:
    /// `seed=`, else the sampler's own, else one drawn from the session's generator (recorded either way).
    static func samplerAndSeed(_ ctx: CommandContext) throws -> (name: String, settings: SamplerSettings, seed: UInt64) {
        var settings = SamplerSettings()
        var name = "default"
        if let n = ctx.arguments.string("sampler") {
            settings = try samplerObject(ctx, n).settings
            name = n
        }
        let seed = try explicitSeed(ctx) ?? settings.seed ?? ctx.bench.rng.next()
        return (name, settings, seed)
    }

    /// The adapter named by `adapter=`, if any (see `CommandContext.modelInUse`, which also
    /// picks the model it goes with).
    static func adapter(_ ctx: CommandContext) throws -> (name: String, adapter: ProjectionAdapter)? {
        try ctx.modelInUse(adapters: .onlyNamed).adapter.map { ($0.name, $0.adapter) }
    }

    static func regurgitationFinder(_ ctx: CommandContext) throws -> RegurgitationFinder? {
        let state = ctx.bench.state(SampleState.self) { SampleState() }
        let messages = try ctx.messageStore().messageTexts(fromMe: true)
        if messages.isEmpty { return nil }
        if state.finder == nil || state.indexedCount != messages.count {
            state.finder = RegurgitationFinder(messages: messages.map { RegurgitationFinder.Message(id: $0.id, text: $0.text) })
            state.indexedCount = messages.count
        }
        return state.finder
    }

    static let generationCommands: [CommandSpec] = [
        CommandSpec("generate", summary: "Write a conversation between two people with the model (both sides)",
                    details: """
                    The conversation is written in the dataset format the adapter was trained with (format= chooses another), \
                    turn by turn: a turn ends at the speaker boundary (transcript, donner) or the end-of-turn token (chat). Tokens \
                    stream as they come; Ctrl-C stops and keeps what was written. Afterwards: the repetition score and the longest \
                    stretch copied from your own messages (flagged above 40 characters). Every generation is saved with its \
                    model, sampler settings and seed ('generations' lists them); seed= with a printed seed writes it again. \
                    as= and with= are people in the store unless --invent is given.
                    """,
                    examples: ["generate as=Ed with=Alice turns=8 sampler=warm", "generate as=Ed with=Alice format=chat start=\"are you still coming\"",
                               "generate as=Ed with=Alice sampler=warm seed=5", "generate as=Pirate with=Parrot --invent"],
                    arguments: [
                        .keyed("as", .person, required: true, "who writes the first turn (the persona)"),
                        .keyed("with", .person, required: true, "the other person"),
                        .keyed("turns", .int, default: "8", "turns to write"),
                        .keyed("sampler", .object(.sampler), "the sampler (default: plain sampling)"),
                        .keyed("seed", .string, "seed of the draws (default: the sampler's, else drawn from the session)"),
                        .keyed("format", .choice(["transcript", "donner", "chat"]), "the dataset format (default: the adapter's dataset's, else transcript)"),
                        .keyed("markup", .choice(ChatMarkupName.allCases.map(\.rawValue)), "chat format: the template family (default: the dataset's, else chatml)"),
                        .keyed("start", .string, "text the first turn begins with"),
                        .keyed("relationship", .string, "chat format: how they are related (\"his sister\")"),
                        .keyed("ban_names", .string, "names that must not appear (comma-separated)"),
                        .keyed("adapter", .object(.adapter), "a LoRA adapter to apply"),
                        ArgumentSpec.model,
                        .flag("nosave", "do not save the generation"),
                        .flag("invent", "allow people who are not in the store"),
                    ]) { ctx in
            let a = ctx.arguments
            let me = try storePerson(ctx, argument: "as", try a.required("as"), invent: a.flag("invent"))
            let them = try storePerson(ctx, argument: "with", try a.required("with"), invent: a.flag("invent"))
            guard me != them else { throw CommandError.badValue(command: "generate", argument: "with", value: them, expected: "someone other than \(me)") }
            let turns = a.int("turns", default: 8)
            guard (1...200).contains(turns) else { throw CommandError.badValue(command: "generate", argument: "turns", value: String(turns), expected: "1 to 200") }
            let (samplerName, settings, seed) = try samplerAndSeed(ctx)
            let use = try ctx.modelInUse(adapters: .onlyNamed)
            let loaded = use.loaded, lora = use.adapter
            let capacity = min(loaded.model.config.contextLength, 256 + turns * (settings.maxTokens + 24))
            let parameters = try generationParameters(ctx, adapter: lora?.name)
            let layout = try ChunkLayout(parameters: parameters)
            let generator = try ConversationGenerator(model: loaded.model, tokenizer: loaded.tokenizer, settings: settings,
                                                      capacity: capacity, adapter: lora?.adapter)
            let request = ConversationRequest(me: me, them: them, firstSpeaker: me, turns: turns, layout: layout,
                                              date: Date(timeIntervalSince1970: 1_710_000_000),
                                              relationship: a.string("relationship"), start: a.string("start"),
                                              bannedNames: SamplerSettings.parseList(a.string("ban_names") ?? "").filter { !$0.isEmpty })
            var rng = SeededGenerator(seed: seed)
            let started = monotonicSeconds()
            let written = try generator.generate(request, rng: &rng, cancellation: ctx.cancellation) { ctx.bench.output.write($0) }
            let seconds = monotonicSeconds() - started
            let tokens = written.reduce(0) { $0 + $1.tokenCount }
            let transcript = written.map { "\($0.speaker): \($0.text)" }.joined(separator: "\n")
            if ctx.cancellation.isCancelled { ctx.print("(stopped: kept \(written.count) turns)") }
            ctx.print(String(format: "%d turns, %d tokens, %.1f tokens/s, seed %llu", written.count, tokens, Double(tokens) / max(seconds, 1e-9), seed))
            let repetition = RepetitionScore.measure(transcript)
            ctx.print(repetition.summary)
            var regurgitationLine: String?
            var copyFlagged = false
            if let finder = try regurgitationFinder(ctx) {
                if let match = finder.longestCopy(in: written.map(\.text).joined(separator: "\n")) {
                    copyFlagged = match.flagged
                    regurgitationLine = "longest copy from your messages: \(match.characterCount) characters"
                        + (match.flagged ? " — FLAGGED (over \(finder.threshold))" : "")
                        + ", message #\(match.messageId): \"\(match.text)\""
                } else {
                    regurgitationLine = "nothing copied from your messages"
                }
            } else {
                regurgitationLine = "regurgitation check skipped: no messages of yours in the store"
            }
            if let regurgitationLine { ctx.print(regurgitationLine) }
            if !a.flag("nosave") {
                let id = try saveGeneration(ctx, NewGeneration(
                    kind: "conversation", model: loaded.path, adapter: lora?.name, sampler: samplerName,
                    settings: settings.changedAssignments.joined(separator: " "), seed: seed,
                    format: formatLabel(layout, markup: parameters.chatMarkup), persona: me, partner: them, prompt: a.string("start") ?? "",
                    turns: written.map { GenerationTurn(sender: $0.speaker, text: $0.text) }, output: transcript,
                    repetition: repetition.summary, regurgitation: regurgitationLine, looped: repetition.fellIntoLoop, copyFlagged: copyFlagged))
                ctx.print("saved as generation \(id)")
            }
        },
        CommandSpec("complete", summary: "Continue a text: n candidates side by side with per-token log-probabilities",
                    details: "Each candidate lists its tokens with the model's log-probability of each (before the sampler's changes), so samplers can be compared on the same prompt.",
                    examples: ["complete \"Alice: are you coming tonight?\\nEd:\" sampler=warm", "complete \"Once upon a time\" sampler=beams"],
                    arguments: [
                        .positional("text", .string, "the prompt"),
                        .keyed("sampler", .object(.sampler), "the sampler (its n, max_tokens, mode…)"),
                        .keyed("seed", .string, "seed of the draws (default: the sampler's, else drawn from the session)"),
                        .keyed("adapter", .object(.adapter), "a LoRA adapter to apply"),
                        ArgumentSpec.model,
                        .flag("tokens", "list every token with its log-probability"),
                        .flag("nosave", "do not save the generation"),
                    ]) { ctx in
            let a = ctx.arguments
            let text = try a.required("text").replacingOccurrences(of: "\\n", with: "\n")
            let (samplerName, settings, seed) = try samplerAndSeed(ctx)
            let use = try ctx.modelInUse(adapters: .onlyNamed)
            let loaded = use.loaded, lora = use.adapter
            var ids: [Int32] = []
            if loaded.tokenizer.specialTokenIds.addsBOS, let bos = loaded.tokenizer.specialTokenIds.bos { ids.append(bos) }
            ids += loaded.tokenizer.encode(text, parseSpecialTokens: false)
            guard !ids.isEmpty else { throw CommandError.badValue(command: "complete", argument: "text", value: text, expected: "some text") }
            let table = TokenByteTable(TokenizerVocabulary(loaded.tokenizer))
            let sampler = try Sampler(settings: settings, vocabularySize: loaded.model.config.vocabSize, vocabulary: table)
            let source = ModelLogitsSource(model: loaded.model, capacity: ids.count + settings.maxTokens + 1, adapter: lora?.adapter)
            var rng = SeededGenerator(seed: seed)
            var ends = Set<Int32>()
            if let eos = loaded.tokenizer.specialTokenIds.eos { ends.insert(eos) }
            let candidates = try sampler.generate(source: source, prompt: ids, endTokens: ends, rng: &rng, cancellation: ctx.cancellation)
            var rows = [["#", "tokens", "sum log p", "mean log p", "score", "ended by", "text"]]
            for (i, c) in candidates.enumerated() {
                let sum = c.logProbabilities.reduce(0.0) { $0 + Double($1) }
                let mean = c.logProbabilities.isEmpty ? 0 : sum / Double(c.logProbabilities.count)
                let shown = c.text.replacingOccurrences(of: "\n", with: "⏎")
                rows.append([String(i + 1), String(c.tokens.count), String(format: "%.2f", sum), String(format: "%.3f", mean),
                             String(format: "%.3f", c.score), c.stopReason.rawValue, shown])
            }
            ctx.printTable(rows, rightAligned: [0, 1, 2, 3, 4])
            if a.flag("tokens") {
                for (i, c) in candidates.enumerated() {
                    ctx.print("candidate \(i + 1):")
                    let pieces = zip(c.tokens, c.logProbabilities).map { t, lp in
                        "\(jsonString(String(decoding: loaded.tokenizer.tokenBytes(t), as: UTF8.self)))\(String(format: "%.2f", lp))"
                    }
                    ctx.print("  " + pieces.joined(separator: " "))
                }
            }
            ctx.print("seed \(seed)")
            if !a.flag("nosave") {
                let output = candidates.map(\.text).joined(separator: "\n---\n")
                let id = try saveGeneration(ctx, NewGeneration(
                    kind: "completion", model: loaded.path, adapter: lora?.name, sampler: samplerName,
                    settings: settings.changedAssignments.joined(separator: " "), seed: seed, format: nil, persona: nil, partner: nil,
                    prompt: text, turns: [], output: output, repetition: nil, regurgitation: nil, looped: false, copyFlagged: false))
                ctx.print("saved as generation \(id)")
            }
        },
    ]
}
