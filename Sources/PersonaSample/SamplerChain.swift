import PersonaCore

/// The sampler's stages in their fixed, documented order; the chain is itself a
/// `LogitProcessor`. Penalties (the first six) reshape the logits of every mode; truncation
/// stages (temperature to min_p) only matter when sampling; the last step picks a token.
///
///  1. logit_bias           add fixed biases
///  2. suppression          ban tokens, strings however spelled, named sets
///  3. repetition_penalty   Hugging Face, over prompt + generated (or a window)
///  4. frequency/presence   OpenAI, over generated tokens
///  5. dry                  penalise continuing a repeated sequence
///  6. no_repeat_ngram      ban repeating an n-gram
///  7. temperature
///  8. top_k
///  9. typical_p
/// 10. top_p
/// 11. min_p
/// 12. choose: sample with the seeded generator, or greedy argmax
public final class SamplerChain: LogitProcessor {
    public static let order = [
        "logit_bias", "suppression", "repetition_penalty", "frequency/presence_penalty", "dry",
        "no_repeat_ngram", "temperature", "top_k", "typical_p", "top_p", "min_p", "choose",
    ]

    public let settings: SamplerSettings
    public let vocabularySize: Int
    /// Stages 1–6, the ones that apply in every mode (present only when switched on).
    public private(set) var penalties: [LogitProcessor] = []
    /// Stages 7–11, applied only when sampling.
    public private(set) var truncation: [LogitProcessor] = []
    let scratch: LogitsScratch
    /// [vocab] sampling weights
    private var weights: [Float]

    /// Builds the stages for `settings`. String suppression, named sets and DRY breakers need
    /// token texts (`vocabulary`); without it they are an error, not silently skipped.
    public init(settings: SamplerSettings, vocabularySize: Int, vocabulary: TokenByteTable? = nil) throws {
        guard vocabularySize > 0 else { throw SampleError.invalid("sampler: the vocabulary is empty") }
        if let vocabulary, vocabulary.count != vocabularySize {
            throw SampleError.invalid("sampler: the tokenizer has \(vocabulary.count) tokens but the model's logits have \(vocabularySize)")
        }
        self.settings = settings
        self.vocabularySize = vocabularySize
        scratch = LogitsScratch(vocabularySize: vocabularySize)
        weights = [Float](repeating: 0, count: vocabularySize)

        for (id, _) in settings.logitBias where Int(id) >= vocabularySize {
            throw SampleError.tokenOutOfRange(key: "logit_bias", id: Int(id), vocabularySize: vocabularySize)
        }
        for id in settings.suppressTokens where Int(id) >= vocabularySize {
            throw SampleError.tokenOutOfRange(key: "suppress_tokens", id: Int(id), vocabularySize: vocabularySize)
        }
        if vocabulary == nil, !settings.suppressStrings.isEmpty || !settings.suppressSets.isEmpty {
            throw SampleError.needsVocabulary("suppress and suppress_sets")
        }

        if !settings.logitBias.isEmpty { penalties.append(LogitBias(settings.logitBias)) }
        var automata: [ByteAutomaton] = []
        if !settings.suppressStrings.isEmpty { automata.append(BannedStrings(settings.suppressStrings)) }
        for set in settings.suppressSets { automata.append(contentsOf: set.automata) }
        if !settings.suppressTokens.isEmpty || !automata.isEmpty {
            penalties.append(TokenSuppression(tokens: settings.suppressTokens, automata: automata, vocabulary: vocabulary))
        }
        if settings.repetitionPenalty != 1 {
            penalties.append(RepetitionPenalty(penalty: Float(settings.repetitionPenalty), window: settings.penaltyWindow, vocabularySize: vocabularySize))
        }
        if settings.frequencyPenalty != 0 || settings.presencePenalty != 0 {
            penalties.append(FrequencyPresencePenalty(frequency: Float(settings.frequencyPenalty), presence: Float(settings.presencePenalty),
                                                      window: settings.penaltyWindow, vocabularySize: vocabularySize))
        }
        if settings.dryMultiplier > 0 {
            penalties.append(DryPenalty(multiplier: Float(settings.dryMultiplier), base: Float(settings.dryBase),
                                        allowedLength: settings.dryAllowedLength, window: settings.penaltyWindow,
                                        breakerTexts: vocabulary == nil ? [] : settings.dryBreakers,
                                        vocabulary: vocabulary, vocabularySize: vocabularySize))
        }
        if settings.noRepeatNgramSize > 0 { penalties.append(NoRepeatNGram(size: settings.noRepeatNgramSize, window: settings.penaltyWindow)) }

        if settings.temperature != 1 && settings.temperature > 0 { truncation.append(Temperature(Float(settings.temperature))) }
        if settings.topK > 0 { truncation.append(TopK(settings.topK)) }
        if settings.typicalP < 1 { truncation.append(TypicalP(Float(settings.typicalP), vocabularySize: vocabularySize)) }
        if settings.topP < 1 { truncation.append(TopP(Float(settings.topP), vocabularySize: vocabularySize)) }
        if settings.minP > 0 { truncation.append(MinP(Float(settings.minP))) }
    }

    /// Greedy when asked, or when the temperature is 0.
    public var isGreedy: Bool { settings.mode == .greedy || settings.temperature == 0 }

    public var description: String {
        (penalties + (settings.mode == .sample ? truncation : [])).map(\.description).joined(separator: " → ")
    }

    /// Every stage in order with what it does here ("off" for those not switched on).
    public var stageLines: [String] { SamplerChain.stageLines(for: settings) }

    /// The stage lines for `settings` (no vocabulary needed to describe them).
    public static func stageLines(for s: SamplerSettings) -> [String] {
        var lines: [String] = []
        func line(_ i: Int, _ text: String) {
            let number = i + 1 < 10 ? " \(i + 1)" : "\(i + 1)"
            let name = SamplerChain.order[i]
            lines.append("\(number). \(name)" + String(repeating: " ", count: max(1, 28 - name.count)) + text)
        }
        line(0, s.logitBias.isEmpty ? "off" : s.text(of: "logit_bias"))
        var suppressed: [String] = []
        if !s.suppressTokens.isEmpty { suppressed.append("tokens " + s.text(of: "suppress_tokens")) }
        if !s.suppressStrings.isEmpty { suppressed.append("strings " + s.suppressStrings.map { "\"\(SamplerSettings.escape($0))\"" }.joined(separator: ",")) }
        if !s.suppressSets.isEmpty { suppressed.append("sets " + s.text(of: "suppress_sets")) }
        line(1, suppressed.isEmpty ? "off" : suppressed.joined(separator: "; "))
        let window = s.penaltyWindow > 0 ? "last \(s.penaltyWindow) tokens" : "prompt + generated"
        line(2, s.repetitionPenalty == 1 ? "off" : "\(s.text(of: "repetition_penalty")) over \(window)")
        line(3, s.frequencyPenalty == 0 && s.presencePenalty == 0 ? "off"
             : "frequency \(s.text(of: "frequency_penalty")), presence \(s.text(of: "presence_penalty")) over generated tokens")
        line(4, s.dryMultiplier == 0 ? "off"
             : "multiplier \(s.text(of: "dry_multiplier")), base \(s.text(of: "dry_base")), allowed_length \(s.dryAllowedLength), breakers \(s.text(of: "dry_breakers"))")
        line(5, s.noRepeatNgramSize == 0 ? "off" : "n = \(s.noRepeatNgramSize)")
        let sampling = s.mode == .sample && s.temperature > 0
        let skipped = s.mode == .sample ? "skipped (temperature 0 is greedy)" : "skipped in \(s.mode.rawValue) mode"
        line(6, !sampling ? skipped : (s.temperature == 1 ? "off (1)" : s.text(of: "temperature")))
        line(7, !sampling ? skipped : (s.topK == 0 ? "off" : String(s.topK)))
        line(8, !sampling ? skipped : (s.typicalP == 1 ? "off" : s.text(of: "typical_p")))
        line(9, !sampling ? skipped : (s.topP == 1 ? "off" : s.text(of: "top_p")))
        line(10, !sampling ? skipped : (s.minP == 0 ? "off" : s.text(of: "min_p")))
        switch s.mode {
        case .beam:
            line(11, "beam search: \(s.numBeams) beams, length_penalty \(s.text(of: "length_penalty")), early_stopping \(s.earlyStopping)")
        case .greedy: line(11, "greedy (argmax)")
        case .sample: line(11, sampling ? "sample (seed \(s.text(of: "seed")))" : "greedy (argmax)")
        }
        return lines
    }

    /// Applies the penalties and, when sampling, the truncation stages.
    public func process(_ logits: inout LogitsView, history: TokenHistory) {
        for stage in penalties { stage.process(&logits, history: history) }
        if settings.mode == .sample && !isGreedy {
            for stage in truncation { stage.process(&logits, history: history) }
        }
    }

    /// Runs the chain over `values` ([vocab], modified in place) and picks the next token;
    /// nil when every token has been banned.
    public func choose(_ values: UnsafeMutableBufferPointer<Float>, history: TokenHistory, rng: inout SeededGenerator) -> Int32? {
        var view = LogitsView(values: values, scratch: scratch)
        process(&view, history: history)
        if isGreedy || settings.mode != .sample {
            let best = SamplingKernels.argmax(UnsafeBufferPointer(values))
            return values[best] > -.infinity ? Int32(best) : nil
        }
        return draw(view, rng: &rng)
    }

    /// Draws from the softmax of what survived the chain.
    func draw(_ view: LogitsView, rng: inout SeededGenerator) -> Int32? {
        let u = Float(rng.nextDouble())
        if view.isNarrowed {
            let ids = view.survivors
            guard let first = ids.first else { return nil }
            let top = view.values[Int(first)]
            guard top > -.infinity else { return nil }
            var total: Float = 0
            for (i, id) in ids.enumerated() {
                let w = _expf(view.values[Int(id)] - top)
                weights[i] = w
                total += w
            }
            let target = u * total
            var running: Float = 0
            for i in 0..<ids.count {
                running += weights[i]
                if running > target { return ids[i] }
            }
            var last = ids.count - 1
            while last > 0 && weights[last] == 0 { last -= 1 }
            return ids[last]
        }
        let values = UnsafeBufferPointer(view.values)
        let top = SamplingKernels.maximum(values)
        guard top > -.infinity else { return nil }
        return weights.withUnsafeMutableBufferPointer { w in
            let total = SamplingKernels.sumExp(values, shift: top, storingInto: w)
            return Int32(SamplingKernels.cumulativeIndex(UnsafeBufferPointer(w), target: u * total))
        }
    }
}

import Foundation
