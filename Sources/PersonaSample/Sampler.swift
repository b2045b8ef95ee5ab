import PersonaCore

/// A sampler ready to run: the chain built from its settings for one vocabulary, and the
/// loops of its three modes (sample, greedy, beam) over a `LogitsSource`.
public final class Sampler {
    public let chain: SamplerChain
    public var settings: SamplerSettings { chain.settings }
    let table: TokenByteTable?
    /// [vocab] the logits as the model gave them (for the model's log-probabilities)
    private var rawLogits: [Float]
    /// [vocab] logits being processed
    private var logits: [Float]

    public init(settings: SamplerSettings, vocabularySize: Int, vocabulary: TokenByteTable? = nil) throws {
        if vocabulary == nil, !settings.stop.isEmpty { throw SampleError.needsVocabulary("stop") }
        chain = try SamplerChain(settings: settings, vocabularySize: vocabularySize, vocabulary: vocabulary)
        table = vocabulary
        rawLogits = [Float](repeating: 0, count: vocabularySize)
        logits = [Float](repeating: 0, count: vocabularySize)
    }

    /// Picks the next token for `history` from `values` (modified in place).
    public func next(_ values: UnsafeMutableBufferPointer<Float>, history: TokenHistory, rng: inout SeededGenerator) -> Int32? {
        chain.choose(values, history: history, rng: &rng)
    }

    /// Generates `settings.n` candidates (beam mode: the n best hypotheses) after `prompt`.
    /// `endTokens` end a candidate (the end of a turn); `onToken(candidate, token)` sees each
    /// token as it is chosen (streaming; beam mode reports only finished hypotheses).
    public func generate<Source: LogitsSource>(
        source: Source, prompt: [Int32], endTokens: Set<Int32>, rng: inout SeededGenerator,
        cancellation: CancellationToken? = nil, onToken: (Int, Int32) -> Void = { _, _ in }
    ) throws -> [GeneratedCandidate] {
        guard source.vocabularySize == chain.vocabularySize else {
            throw SampleError.source("the model has \(source.vocabularySize) tokens, the sampler was built for \(chain.vocabularySize)")
        }
        if settings.mode == .beam {
            let search = BeamSearch(chain: chain, vocabulary: table)
            return try search.run(source: source, prompt: prompt, endTokens: endTokens, cancellation: cancellation)
        }
        var candidates: [GeneratedCandidate] = []
        let rootState = try rawLogits.withUnsafeMutableBufferPointer { try source.start(prompt: prompt, logits: $0) }
        let startLogits = rawLogits
        let count = chain.isGreedy ? 1 : settings.n
        for index in 0..<count {
            var state = index == count - 1 ? rootState : try source.fork(rootState)
            if index > 0 { rawLogits = startLogits }
            let candidate = try continueSequence(source: source, state: &state, prompt: prompt, endTokens: endTokens,
                                                 rng: &rng, cancellation: cancellation) { onToken(index, $0) }
            candidates.append(candidate)
            if candidate.stopReason == .cancelled { break }
        }
        return candidates
    }

    /// Samples one continuation; `rawLogits` holds the logits after the prompt on entry.
    private func continueSequence<Source: LogitsSource>(
        source: Source, state: inout Source.State, prompt: [Int32], endTokens: Set<Int32>,
        rng: inout SeededGenerator, cancellation: CancellationToken?, onToken: (Int32) -> Void
    ) throws -> GeneratedCandidate {
        var history = TokenHistory(prompt: prompt)
        var out = GeneratedCandidate(tokens: [], logProbabilities: [], bytes: [], stopReason: .maxTokens, score: 0)
        let stops = settings.stop.map { Array($0.utf8) }
        for step in 0..<settings.maxTokens {
            if cancellation?.isCancelled == true { out.stopReason = .cancelled; break }
            let chosen: Int32? = rawLogits.withUnsafeMutableBufferPointer { raw in
                logits.withUnsafeMutableBufferPointer { work in
                    work.baseAddress!.update(from: raw.baseAddress!, count: raw.count)
                    return chain.choose(work, history: history, rng: &rng)
                }
            }
            guard let token = chosen else { out.stopReason = .nothingAllowed; break }
            let logProb = rawLogits.withUnsafeBufferPointer { Sampler.logProbability(of: token, in: $0) }
            if endTokens.contains(token) { out.stopReason = .endToken; out.score += Double(logProb); break }
            out.tokens.append(token)
            out.logProbabilities.append(logProb)
            out.score += Double(logProb)
            history.append(token)
            onToken(token)
            if let table {
                let before = out.bytes.count
                out.bytes.append(contentsOf: table.bytes(of: token))
                if let cut = Sampler.firstStop(stops, in: out.bytes, newFrom: before) {
                    out.bytes.removeSubrange(cut...)
                    out.stopReason = .stopString
                    break
                }
            }
            if step == settings.maxTokens - 1 { break }
            try rawLogits.withUnsafeMutableBufferPointer { try source.advance(&state, by: token, logits: $0) }
        }
        return out
    }

    /// log softmax(logits)[token]: the model's own log-probability of the token.
    public static func logProbability(of token: Int32, in logits: UnsafeBufferPointer<Float>) -> Float {
        guard token >= 0, Int(token) < logits.count else { return -.infinity }
        let top = SamplingKernels.maximum(logits)
        return logits[Int(token)] - top - _logf(SamplingKernels.sumExp(logits, shift: top))
    }

    /// Where the earliest stop string begins, looking only where `bytes[newFrom...]` can matter.
    static func firstStop(_ stops: [[UInt8]], in bytes: [UInt8], newFrom: Int) -> Int? {
        var best: Int?
        for s in stops where !s.isEmpty && s.count <= bytes.count {
            var i = max(0, newFrom - s.count + 1)
            while i + s.count <= bytes.count {
                if bytes[i] == s[0] && bytes[i..<(i + s.count)].elementsEqual(s) {
                    if best == nil || i < best! { best = i }
                    break
                }
                i += 1
            }
        }
        return best
    }
}
