import Foundation
import PersonaCore
import PersonaSample

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
    ]
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
        if let fullChain = results.first(where: { $0.name == "full chain" }),
           let logProb = results.first(where: { $0.name == "model log-probability of the token" }) {
            let perToken = fullChain.value + logProb.value
            for step in [2.0, 7.0] {
                notes.append(String(format: "full chain + log-probability = %.1f µs = %.2f%% of a %.0f ms decode step", perToken, perToken / (step * 1000) * 100, step))
            }
        }
        notes.append("logits: Gaussian (σ 2.5) with 20 strong candidates (+8 to +14); flat: the Gaussian alone")
        notes.append("vocabulary \(vocabularySize), history \(prompt.count) prompt + \(generated.count) generated tokens, synthetic logits; decode step of the default model: measured by 'bench decode' once the model layer is merged")
        return BenchReport(bench: "generate", results: results, notes: notes)
    }
}
