import PersonaCore

/// Beam search with Hugging Face's bookkeeping (`BeamSearchScorer`): at each step every beam's
/// logits go through the penalties of the chain (so n-gram blocking and suppression hold
/// within each beam), then log-softmax; the 2·num_beams best (beam, token) extensions are
/// taken in order; an end token among the first num_beams of them finishes a hypothesis,
/// the rest become the next beams until there are num_beams.
///
/// A hypothesis scores sum(log p) / length^length_penalty, where length counts the generated
/// tokens including the end token (Hugging Face leaves the end token out, which scores an
/// immediate end as a division by zero). Early stopping: on, search ends once num_beams
/// hypotheses have ended; off, once no running beam can beat the worst of them, bounded
/// exactly: log-probs only fall, so a running beam's best is its current sum over the
/// length that favours it (max_tokens when length_penalty > 0, the current one otherwise).
public final class BeamSearch {
    let chain: SamplerChain
    let table: TokenByteTable?
    var settings: SamplerSettings { chain.settings }

    public init(chain: SamplerChain, vocabulary: TokenByteTable?) {
        self.chain = chain
        self.table = vocabulary
    }

    struct Hypothesis {
        var tokens: [Int32]
        var logProbs: [Float]
        var score: Double
        var ended: Bool
    }

    struct Beam<State> { var tokens: [Int32]; var logProbs: [Float]; var sum: Double; var state: State }
    struct Extension { var beam: Int; var token: Int32; var sum: Double; var logProb: Float }

    func score(sum: Double, length: Int) -> Double {
        sum / _pow(Double(max(1, length)), settings.lengthPenalty)
    }

    /// The best hypotheses (up to n), best first.
    public func run<Source: LogitsSource>(source: Source, prompt: [Int32], endTokens: Set<Int32>,
                                          cancellation: CancellationToken? = nil) throws -> [GeneratedCandidate] {
        let vocab = chain.vocabularySize
        let beamCount = settings.numBeams
        let maxTokens = settings.maxTokens
        let scratch = chain.scratch
        // [beams, vocab] the logits each running beam produced last
        var logits = [Float](repeating: 0, count: beamCount * vocab)
        // [2·beams] candidate extensions of this step
        let selector = TopSelector(capacity: 2 * beamCount)
        var bestIds = [Int32](repeating: 0, count: 2 * beamCount)

        var beams: [Beam<Source.State>] = []
        let first = try logits.withUnsafeMutableBufferPointer {
            try source.start(prompt: prompt, logits: UnsafeMutableBufferPointer(rebasing: $0[0..<vocab]))
        }
        beams.append(Beam(tokens: [], logProbs: [], sum: 0, state: first))
        var finished: [Hypothesis] = []

        func addFinished(_ h: Hypothesis) {
            if finished.count < beamCount {
                finished.append(h)
            } else if let worst = finished.indices.min(by: { finished[$0].score < finished[$1].score }), h.score > finished[worst].score {
                finished[worst] = h
            }
        }

        var step = 0
        while step < maxTokens && !beams.isEmpty {
            if cancellation?.isCancelled == true { break }
            // Score every extension of every beam: the best 2·beams of each beam suffice.
            var extensions: [Extension] = []
            extensions.reserveCapacity(beams.count * 2 * beamCount)
            try logits.withUnsafeMutableBufferPointer { all in
                for (b, beam) in beams.enumerated() {
                    let row = UnsafeMutableBufferPointer(rebasing: all[(b * vocab)..<((b + 1) * vocab)])
                    var view = LogitsView(values: row, scratch: scratch)
                    let history = TokenHistory(tokens: prompt + beam.tokens, promptCount: prompt.count)
                    chain.process(&view, history: history)
                    let top = SamplingKernels.maximum(UnsafeBufferPointer(row))
                    guard top > -.infinity else { continue }
                    let logTotal = top + _logf(SamplingKernels.sumExp(UnsafeBufferPointer(row), shift: top))
                    let found = bestIds.withUnsafeMutableBufferPointer {
                        selector.select(UnsafeBufferPointer(row), count: 2 * beamCount, into: $0.baseAddress!)
                    }
                    for k in 0..<found {
                        let id = bestIds[k]
                        let lp = row[Int(id)] - logTotal
                        extensions.append(Extension(beam: b, token: id, sum: beam.sum + Double(lp), logProb: lp))
                    }
                }
                if extensions.isEmpty && beams.isEmpty == false && step == 0 {
                    throw SampleError.source("every token was banned at the first step")
                }
            }
            // Best first; ties by beam then token so the order is reproducible.
            extensions.sort { ($0.sum, -$0.beam, -Int($0.token)) > ($1.sum, -$1.beam, -Int($1.token)) }
            var chosen: [Extension] = []
            for (rank, e) in extensions.prefix(2 * beamCount).enumerated() {
                if endTokens.contains(e.token) {
                    // Only an end among the num_beams best counts (Hugging Face).
                    if rank >= beamCount { continue }
                    let parent = beams[e.beam]
                    addFinished(Hypothesis(tokens: parent.tokens, logProbs: parent.logProbs + [e.logProb],
                                           score: score(sum: e.sum, length: parent.tokens.count + 1), ended: true))
                } else {
                    chosen.append(e)
                }
                if chosen.count == beamCount { break }
            }
            step += 1
            // Done?
            if finished.count >= beamCount {
                if settings.earlyStopping { beams = []; break }
                let worst = finished.map(\.score).min() ?? -.infinity
                let bestRunning = chosen.map { e -> Double in
                    let length = settings.lengthPenalty > 0 ? maxTokens : beams[e.beam].tokens.count + 1
                    return score(sum: e.sum, length: length)
                }.max() ?? -.infinity
                if bestRunning <= worst { beams = []; break }
            }
            if chosen.isEmpty { beams = []; break }
            // Next beams: a parent with several children is forked; the last child takes its state.
            var childrenLeft = [Int](repeating: 0, count: beams.count)
            for e in chosen { childrenLeft[e.beam] += 1 }
            var next: [Beam<Source.State>] = []
            var parentStates: [Source.State?] = beams.map { Optional($0.state) }
            let atEnd = step >= maxTokens
            for (slot, e) in chosen.enumerated() {
                let parent = beams[e.beam]
                childrenLeft[e.beam] -= 1
                var state: Source.State
                if childrenLeft[e.beam] == 0, let s = parentStates[e.beam] {
                    state = s
                    parentStates[e.beam] = nil
                } else {
                    state = try source.fork(parentStates[e.beam] ?? parent.state)
                }
                if !atEnd {
                    try logits.withUnsafeMutableBufferPointer { all in
                        try source.advance(&state, by: e.token, logits: UnsafeMutableBufferPointer(rebasing: all[(slot * vocab)..<((slot + 1) * vocab)]))
                    }
                }
                next.append(Beam(tokens: parent.tokens + [e.token], logProbs: parent.logProbs + [e.logProb], sum: e.sum, state: state))
            }
            beams = next
        }
        // Beams still running at max_tokens (or when cancelled) are hypotheses too.
        for beam in beams {
            addFinished(Hypothesis(tokens: beam.tokens, logProbs: beam.logProbs,
                                   score: score(sum: beam.sum, length: beam.tokens.count), ended: false))
        }
        finished.sort { $0.score > $1.score }
        let cancelled = cancellation?.isCancelled == true
        return finished.prefix(settings.n).map { h in
            GeneratedCandidate(tokens: h.tokens, logProbabilities: h.logProbs,
                               bytes: table.map { $0.text(h.tokens) } ?? [],
                               stopReason: h.ended ? .endToken : (cancelled ? .cancelled : .maxTokens), score: h.score)
        }
    }
}
