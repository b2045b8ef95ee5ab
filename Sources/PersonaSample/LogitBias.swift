import Foundation

/// Adds a fixed bias to chosen tokens (OpenAI's `logit_bias`): -100 all but bans a token.
public final class LogitBias: LogitProcessor {
    let ids: [Int32]
    let biases: [Float]

    public init(_ bias: [Int32: Float]) {
        let sorted = bias.sorted { $0.key < $1.key }
        ids = sorted.map(\.key)
        biases = sorted.map(\.value)
    }

    public var description: String {
        "logit_bias " + zip(ids, biases).map { "\($0):\(formatNumber($1))" }.joined(separator: ",")
    }

    public func process(_ logits: inout LogitsView, history: TokenHistory) {
        for (id, bias) in zip(ids, biases) where id >= 0 && Int(id) < logits.values.count {
            logits.values[Int(id)] += bias
        }
    }
}

/// Hugging Face `RepetitionPenaltyLogitsProcessor`: every distinct token of the prompt and of
/// what was generated (or of the last `window` tokens) has a positive logit divided by the
/// penalty and a negative one multiplied by it, once however often it occurred.
public final class RepetitionPenalty: LogitProcessor {
    let penalty: Float
    let window: Int
    /// [vocab] marks tokens already penalised this step; cleared before returning.
    private var seen: [Bool]

    public init(penalty: Float, window: Int, vocabularySize: Int) {
        self.penalty = penalty
        self.window = window
        seen = [Bool](repeating: false, count: vocabularySize)
    }

    public var description: String {
        "repetition_penalty \(formatNumber(penalty)) over " + (window > 0 ? "the last \(window) tokens" : "prompt and generated tokens")
    }

    public func process(_ logits: inout LogitsView, history: TokenHistory) {
        let recent = history.recent(window)
        let n = logits.values.count
        for t in recent where t >= 0 && Int(t) < n && !seen[Int(t)] {
            seen[Int(t)] = true
            let v = logits.values[Int(t)]
            logits.values[Int(t)] = v < 0 ? v * penalty : v / penalty
        }
        for t in recent where t >= 0 && Int(t) < n { seen[Int(t)] = false }
    }
}

/// OpenAI's frequency and presence penalties over the generated tokens (or those of them in
/// the last `window` tokens): logit[j] −= count[j]·frequency + (count[j] > 0 ? presence : 0).
public final class FrequencyPresencePenalty: LogitProcessor {
    let frequency: Float
    let presence: Float
    let window: Int
    /// [vocab] occurrences in the window; returned to zero before the step ends.
    private var counts: [Int32]

    public init(frequency: Float, presence: Float, window: Int, vocabularySize: Int) {
        self.frequency = frequency
        self.presence = presence
        self.window = window
        counts = [Int32](repeating: 0, count: vocabularySize)
    }

    public var description: String {
        "frequency_penalty \(formatNumber(frequency)), presence_penalty \(formatNumber(presence)) over "
            + (window > 0 ? "generated tokens in the last \(window)" : "generated tokens")
    }

    public func process(_ logits: inout LogitsView, history: TokenHistory) {
        let generated = history.recentGenerated(window)
        let n = logits.values.count
        for t in generated where t >= 0 && Int(t) < n { counts[Int(t)] += 1 }
        for t in generated where t >= 0 && Int(t) < n {
            let c = counts[Int(t)]
            if c > 0 {
                logits.values[Int(t)] -= Float(c) * frequency + presence
                counts[Int(t)] = 0
            }
        }
    }
}

/// Hugging Face `NoRepeatNGramLogitsProcessor`: bans every token that would complete an
/// n-gram already present in the prompt and generated tokens (or the last `window`).
/// In beam search each beam is checked against its own text, as in Hugging Face.
public final class NoRepeatNGram: LogitProcessor {
    let size: Int
    let window: Int

    public init(size: Int, window: Int) {
        self.size = size
        self.window = window
    }

    public var description: String { "no_repeat_ngram_size \(size)" + (window > 0 ? " over the last \(window) tokens" : "") }

    public func process(_ logits: inout LogitsView, history: TokenHistory) {
        let h = history.recent(window)
        let n = h.count
        guard size > 0, n >= size - 1 else { return }
        let start = h.startIndex
        let prefixStart = h.endIndex - (size - 1)
        var i = start
        // Every earlier n-gram h[i..<i+size] whose first size-1 tokens equal the current tail.
        while i + size <= h.endIndex {
            var matches = true
            var k = 0
            while k < size - 1 {
                if h[i + k] != h[prefixStart + k] { matches = false; break }
                k += 1
            }
            if matches {
                let banned = h[i + size - 1]
                if banned >= 0 && Int(banned) < logits.values.count { logits.values[Int(banned)] = -.infinity }
            }
            i += 1
        }
    }
}

func formatNumber(_ x: Float) -> String {
    if x == x.rounded(), abs(x) < 1e7 { return String(Int(x)) }
    var s = String(format: "%.4f", Double(x))
    while s.hasSuffix("0") { s.removeLast() }
    return s
}
