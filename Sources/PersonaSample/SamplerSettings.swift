import Foundation

/// The parameters of a named sampler: values only, so that they can be shown, saved with a
/// generation and reapplied exactly. `SamplerChain` turns them into stages.
public struct SamplerSettings: Equatable, Sendable {
    public enum Mode: String, CaseIterable, Sendable { case sample, greedy, beam }

    public var mode: Mode = .sample
    public var temperature: Double = 1
    public var topK: Int = 0
    public var topP: Double = 1
    public var minP: Double = 0
    public var typicalP: Double = 1
    public var repetitionPenalty: Double = 1
    /// 0: every token of prompt and generation; otherwise the last N tokens.
    public var penaltyWindow: Int = 0
    public var frequencyPenalty: Double = 0
    public var presencePenalty: Double = 0
    public var dryMultiplier: Double = 0
    public var dryBase: Double = 1.75
    public var dryAllowedLength: Int = 2
    public var dryBreakers: [String] = ["\n", ":", "\"", "*"]
    public var noRepeatNgramSize: Int = 0
    public var logitBias: [Int32: Float] = [:]
    public var suppressTokens: [Int32] = []
    public var suppressStrings: [String] = []
    public var suppressSets: [SuppressionSet] = []
    public var numBeams: Int = 4
    public var lengthPenalty: Double = 1
    public var earlyStopping: Bool = true
    public var n: Int = 1
    public var maxTokens: Int = 128
    public var stop: [String] = []
    /// nil: draw from the session's generator.
    public var seed: UInt64?

    public init() {}

    /// One parameter as `sampler NAME key=value` takes it.
    public struct Parameter: Sendable {
        public enum Kind: Sendable { case int, double, bool, text, choice([String]) }
        public let key: String
        public let kind: Kind
        public let help: String
    }

    /// Every parameter, in the order of the chain.
    public static let parameters: [Parameter] = [
        Parameter(key: "mode", kind: .choice(Mode.allCases.map(\.rawValue)), help: "sample, greedy (argmax after the penalties) or beam search"),
        Parameter(key: "logit_bias", kind: .text, help: "ID:BIAS,… added to those tokens' logits"),
        Parameter(key: "suppress_tokens", kind: .text, help: "token ids never to write, comma-separated"),
        Parameter(key: "suppress", kind: .text, help: "strings never to write, however tokenized (comma-separated, \\, for a comma)"),
        Parameter(key: "suppress_sets", kind: .text, help: "named sets: urls, phone numbers, reactions (comma-separated)"),
        Parameter(key: "repetition_penalty", kind: .double, help: "Hugging Face: divide positive, multiply negative logits of seen tokens (1 = off)"),
        Parameter(key: "penalty_window", kind: .int, help: "penalties look at the last N tokens (0 = prompt and everything generated)"),
        Parameter(key: "frequency_penalty", kind: .double, help: "OpenAI: minus count × this for generated tokens"),
        Parameter(key: "presence_penalty", kind: .double, help: "OpenAI: minus this for every token generated at least once"),
        Parameter(key: "dry_multiplier", kind: .double, help: "DRY penalty on continuing repeated sequences (0 = off)"),
        Parameter(key: "dry_base", kind: .double, help: "DRY: growth per extra repeated token"),
        Parameter(key: "dry_allowed_length", kind: .int, help: "DRY: repeats up to this many tokens are free"),
        Parameter(key: "dry_breakers", kind: .text, help: "DRY: texts that end a repeated sequence (comma-separated, \\n for newline)"),
        Parameter(key: "no_repeat_ngram_size", kind: .int, help: "ban any n-gram of this size from occurring twice (0 = off)"),
        Parameter(key: "temperature", kind: .double, help: "divide logits by this (0 = greedy)"),
        Parameter(key: "top_k", kind: .int, help: "keep the k most probable tokens (0 = off)"),
        Parameter(key: "typical_p", kind: .double, help: "locally typical sampling mass (1 = off)"),
        Parameter(key: "top_p", kind: .double, help: "nucleus: keep the smallest set with this mass (1 = off)"),
        Parameter(key: "min_p", kind: .double, help: "drop tokens below min_p × the top probability (0 = off)"),
        Parameter(key: "num_beams", kind: .int, help: "beams in beam mode"),
        Parameter(key: "length_penalty", kind: .double, help: "beam score = log-prob / length^length_penalty"),
        Parameter(key: "early_stopping", kind: .bool, help: "beam: stop once num_beams hypotheses have ended"),
        Parameter(key: "n", kind: .int, help: "candidates written side by side"),
        Parameter(key: "max_tokens", kind: .int, help: "most tokens per turn or candidate"),
        Parameter(key: "stop", kind: .text, help: "strings that end the text (comma-separated, \\n for newline)"),
        Parameter(key: "seed", kind: .int, help: "seed of this sampler's own generator (default: the session's)"),
    ]

    /// Sets one parameter from its text, checking its range.
    public mutating func set(_ key: String, to text: String) throws {
        func bad(_ expected: String) -> SampleError { .badParameter(key: key, value: text, expected: expected) }
        func double(_ range: ClosedRange<Double>, _ expected: String) throws -> Double {
            guard let v = Double(text), v.isFinite, range.contains(v) else { throw bad(expected) }
            return v
        }
        func int(_ range: ClosedRange<Int>, _ expected: String) throws -> Int {
            guard let v = Int(text), range.contains(v) else { throw bad(expected) }
            return v
        }
        switch key {
        case "mode":
            guard let m = Mode(rawValue: text) else { throw bad("sample, greedy or beam") }
            mode = m
        case "temperature": temperature = try double(0...100, "a number from 0 to 100")
        case "top_k": topK = try int(0...1_000_000, "0 (off) or a positive integer")
        case "top_p":
            let v = try double(0...1, "a number in (0, 1]")
            guard v > 0 else { throw bad("a number in (0, 1]") }
            topP = v
        case "min_p":
            let v = try double(0...1, "a number in [0, 1)")
            guard v < 1 else { throw bad("a number in [0, 1)") }
            minP = v
        case "typical_p":
            let v = try double(0...1, "a number in (0, 1]")
            guard v > 0 else { throw bad("a number in (0, 1]") }
            typicalP = v
        case "repetition_penalty":
            let v = try double(0...100, "a positive number (1 = off)")
            guard v > 0 else { throw bad("a positive number (1 = off)") }
            repetitionPenalty = v
        case "penalty_window": penaltyWindow = try int(0...10_000_000, "0 (everything) or a positive number of tokens")
        case "frequency_penalty": frequencyPenalty = try double(-2...2, "a number from -2 to 2")
        case "presence_penalty": presencePenalty = try double(-2...2, "a number from -2 to 2")
        case "dry_multiplier": dryMultiplier = try double(0...100, "a number from 0 (off) to 100")
        case "dry_base":
            let v = try double(1...10, "a number above 1 and up to 10")
            guard v > 1 else { throw bad("a number above 1 and up to 10") }
            dryBase = v
        case "dry_allowed_length": dryAllowedLength = try int(1...1000, "a positive integer")
        case "dry_breakers": dryBreakers = SamplerSettings.parseList(text)
        case "no_repeat_ngram_size": noRepeatNgramSize = try int(0...100, "0 (off) to 100")
        case "logit_bias":
            var bias: [Int32: Float] = [:]
            for item in SamplerSettings.parseList(text) {
                let parts = item.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, let id = Int32(parts[0]), id >= 0,
                      let b = Float(parts[1].hasPrefix("+") ? String(parts[1].dropFirst()) : parts[1]), b.isFinite, abs(b) <= 100
                else { throw bad("ID:BIAS pairs such as 198:-5,42:2 with biases from -100 to 100") }
                bias[id] = b
            }
            logitBias = bias
        case "suppress_tokens":
            var ids: [Int32] = []
            for item in SamplerSettings.parseList(text) {
                guard let id = Int32(item.trimmingCharacters(in: .whitespaces)), id >= 0 else { throw bad("token ids such as 198,42") }
                ids.append(id)
            }
            suppressTokens = ids
        case "suppress": suppressStrings = SamplerSettings.parseList(text).filter { !$0.isEmpty }
        case "suppress_sets":
            var sets: [SuppressionSet] = []
            for item in SamplerSettings.parseList(text) where !item.trimmingCharacters(in: .whitespaces).isEmpty {
                guard let s = SuppressionSet(name: item) else { throw bad("some of: urls, phone numbers, reactions") }
                if !sets.contains(s) { sets.append(s) }
            }
            suppressSets = sets
        case "num_beams": numBeams = try int(1...64, "1 to 64")
        case "length_penalty": lengthPenalty = try double(-10...10, "a number from -10 to 10")
        case "early_stopping":
            switch text.lowercased() {
            case "true", "yes", "on", "1": earlyStopping = true
            case "false", "no", "off", "0": earlyStopping = false
            default: throw bad("true or false")
            }
        case "n": n = try int(1...16, "1 to 16")
        case "max_tokens": maxTokens = try int(1...100_000, "1 to 100000")
        case "stop": stop = SamplerSettings.parseList(text).filter { !$0.isEmpty }
        case "seed":
            guard let v = UInt64(text) else { throw bad("a non-negative integer") }
            seed = v
        default:
            throw SampleError.unknownParameter(key)
        }
    }

    /// The text of one parameter, as `set` reads it back.
    public func text(of key: String) -> String {
        func list(_ items: [String]) -> String { items.map(SamplerSettings.escape).joined(separator: ",") }
        func num(_ x: Double) -> String { formatNumber(Float(x)) }
        switch key {
        case "mode": return mode.rawValue
        case "temperature": return num(temperature)
        case "top_k": return String(topK)
        case "top_p": return num(topP)
        case "min_p": return num(minP)
        case "typical_p": return num(typicalP)
        case "repetition_penalty": return num(repetitionPenalty)
        case "penalty_window": return String(penaltyWindow)
        case "frequency_penalty": return num(frequencyPenalty)
        case "presence_penalty": return num(presencePenalty)
        case "dry_multiplier": return num(dryMultiplier)
        case "dry_base": return num(dryBase)
        case "dry_allowed_length": return String(dryAllowedLength)
        case "dry_breakers": return list(dryBreakers)
        case "no_repeat_ngram_size": return String(noRepeatNgramSize)
        case "logit_bias": return logitBias.sorted { $0.key < $1.key }.map { "\($0.key):\(formatNumber($0.value))" }.joined(separator: ",")
        case "suppress_tokens": return suppressTokens.map(String.init).joined(separator: ",")
        case "suppress": return list(suppressStrings)
        case "suppress_sets": return suppressSets.map(\.rawValue).joined(separator: ",")
        case "num_beams": return String(numBeams)
        case "length_penalty": return num(lengthPenalty)
        case "early_stopping": return String(earlyStopping)
        case "n": return String(n)
        case "max_tokens": return String(maxTokens)
        case "stop": return list(stop)
        case "seed": return seed.map(String.init) ?? "session"
        default: return ""
        }
    }

    /// Every parameter that differs from the default, as `key=value` words (saved with each
    /// generation so that it can be reproduced).
    public var changedAssignments: [String] {
        let defaults = SamplerSettings()
        return SamplerSettings.parameters.map(\.key).filter { text(of: $0) != defaults.text(of: $0) }.map { "\($0)=\(text(of: $0))" }
    }

    /// Splits a comma-separated list; `\,` is a comma inside an item, `\n` a newline, `\t` a
    /// tab, `\\` a backslash.
    public static func parseList(_ text: String) -> [String] {
        var items: [String] = []
        var current = ""
        var escaped = false
        for ch in text {
            if escaped {
                switch ch {
                case "n": current.append("\n")
                case "t": current.append("\t")
                default: current.append(ch)
                }
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else if ch == "," {
                items.append(current); current = ""
            } else {
                current.append(ch)
            }
        }
        if escaped { current.append("\\") }
        if !current.isEmpty || !items.isEmpty { items.append(current) }
        return items
    }

    static func escape(_ item: String) -> String {
        var out = ""
        for ch in item {
            switch ch {
            case "\\": out += "\\\\"
            case ",": out += "\\,"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.append(ch)
            }
        }
        return out
    }
}
