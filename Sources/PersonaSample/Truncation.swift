/// The stages that narrow the candidates: top_k, typical_p, top_p, min_p, with Hugging Face's
/// semantics (each renormalises over what the previous stages left). The first of them to run
/// works on the whole vocabulary with a partial selection; the later ones work on the short,
/// sorted survivor list.

/// Keeps the k highest logits (ties: lower ids first).
public final class TopK: LogitProcessor {
    let k: Int
    private let selector: TopSelector

    public init(_ k: Int) {
        self.k = max(1, k)
        selector = TopSelector(capacity: self.k)
    }

    public var description: String { "top_k \(k)" }

    public func process(_ logits: inout LogitsView, history: TokenHistory) {
        if logits.isNarrowed { logits.truncateSurvivors(to: k); return }
        guard k < logits.values.count, let ids = logits.survivorStorage.baseAddress else { return }
        let count = selector.select(UnsafeBufferPointer(logits.values), count: k, into: ids)
        logits.narrow(toFirst: count)
    }
}

/// Keeps the most probable tokens whose probabilities add up to at least p.
public final class TopP: LogitProcessor {
    let p: Float
    private let massSelector = MassSelector()
    /// [vocab] e^(logit − max)
    private var probabilities: [Float]

    public init(_ p: Float, vocabularySize: Int) {
        self.p = p
        probabilities = [Float](repeating: 0, count: vocabularySize)
    }

    public var description: String { "top_p \(formatNumber(p))" }

    public func process(_ logits: inout LogitsView, history: TokenHistory) {
        guard p < 1 else { return }
        if logits.isNarrowed {
            logits.truncateSurvivors(to: TopP.keepCount(logits.survivors, logits.values, p))
            return
        }
        // Whole vocabulary: one pass for the probabilities, then bucketed selection.
        let values = UnsafeBufferPointer(logits.values)
        let top = SamplingKernels.maximum(values)
        guard top > -.infinity else { return }
        let count = probabilities.withUnsafeMutableBufferPointer { probs -> Int in
            let total = SamplingKernels.sumExp(values, shift: top, storingInto: probs)
            return massSelector.select(keys: values, probabilities: UnsafeBufferPointer(probs), total: total,
                                       mass: p, into: logits.survivorStorage)
        }
        logits.narrow(toFirst: max(1, count))
    }

    /// How many of the sorted survivors hold mass p.
    static func keepCount(_ ids: UnsafeMutableBufferPointer<Int32>, _ values: UnsafeMutableBufferPointer<Float>, _ p: Float) -> Int {
        guard let first = ids.first else { return 0 }
        let top = values[Int(first)]
        var total: Float = 0
        for id in ids { total += _expf(values[Int(id)] - top) }
        var cumulative: Float = 0
        for (i, id) in ids.enumerated() {
            cumulative += _expf(values[Int(id)] - top) / total
            if cumulative >= p { return i + 1 }
        }
        return ids.count
    }
}

/// Keeps the tokens whose probability is at least min_p times that of the most probable.
public final class MinP: LogitProcessor {
    let minP: Float

    public init(_ minP: Float) { self.minP = minP }

    public var description: String { "min_p \(formatNumber(minP))" }

    public func process(_ logits: inout LogitsView, history: TokenHistory) {
        guard minP > 0 else { return }
        if logits.isNarrowed {
            guard let first = logits.survivors.first else { return }
            let threshold = logits.values[Int(first)] + _logf(minP)
            var keep = 0
            for id in logits.survivors where logits.values[Int(id)] >= threshold { keep += 1 }
            logits.truncateSurvivors(to: keep)
            return
        }
        let values = logits.values
        let top = SamplingKernels.maximum(UnsafeBufferPointer(values))
        guard top > -.infinity else { return }
        // p ≥ min_p · p_max  ⇔  logit ≥ max + ln(min_p)
        let threshold = top + _logf(minP)
        var count = 0
        let n = values.count
        let raw = UnsafeRawPointer(values.baseAddress!)
        var i = 0
        while i + 64 <= n {
            if SamplingKernels.blockMaximum(raw, i * 4) >= threshold {
                for j in i..<(i + 64) where values[j] >= threshold { logits.survivorStorage[count] = Int32(j); count += 1 }
            }
            i += 64
        }
        while i < n { if values[i] >= threshold { logits.survivorStorage[count] = Int32(i); count += 1 }; i += 1 }
        logits.narrow(toFirst: count)
    }
}

/// Locally typical sampling (Meister et al.; Hugging Face `TypicalLogitsWarper`): keeps the
/// tokens whose surprisal is closest to the entropy of the distribution until they hold mass p.
public final class TypicalP: LogitProcessor {
    let p: Float
    private let massSelector = MassSelector()
    /// [vocab] −|surprisal − entropy|, -inf for removed tokens
    private var closeness: [Float]
    /// [vocab] e^(logit − max)
    private var probabilities: [Float]

    public init(_ p: Float, vocabularySize: Int) {
        self.p = p
        closeness = [Float](repeating: -.infinity, count: vocabularySize)
        probabilities = [Float](repeating: 0, count: vocabularySize)
    }

    public var description: String { "typical_p \(formatNumber(p))" }

    public func process(_ logits: inout LogitsView, history: TokenHistory) {
        guard p < 1 else { return }
        if logits.isNarrowed { processSurvivors(&logits); return }
        let values = logits.values
        let view = UnsafeBufferPointer(values)
        let top = SamplingKernels.maximum(view)
        guard top > -.infinity else { return }
        let total = probabilities.withUnsafeMutableBufferPointer { SamplingKernels.sumExp(view, shift: top, storingInto: $0) }
        let (sumE, sumEV) = SamplingKernels.sumExpTimesValue(view, shift: top)
        let logTotal = _logf(sumE)
        // H = −Σ p·log p with log p = (x − top) − log Σ
        let entropy = logTotal - sumEV / sumE
        let count = closeness.withUnsafeMutableBufferPointer { key -> Int in
            for i in 0..<values.count {
                let x = values[i]
                key[i] = x > -.infinity ? -abs(-(x - top - logTotal) - entropy) : -.infinity
            }
            return probabilities.withUnsafeBufferPointer { probs in
                massSelector.select(keys: UnsafeBufferPointer(key), probabilities: probs, total: total, mass: p, into: logits.survivorStorage)
            }
        }
        logits.narrow(toFirst: max(1, count))
    }

    /// After an earlier stage: the same rule over the short survivor list, renormalised.
    private func processSurvivors(_ logits: inout LogitsView) {
        let ids = logits.survivors
        guard let first = ids.first else { return }
        let values = logits.values
        let top = values[Int(first)]
        var sumE: Float = 0, sumEV: Float = 0
        for id in ids {
            let d = values[Int(id)] - top
            let e = _expf(d)
            sumE += e
            sumEV += e * d
        }
        let logTotal = _logf(sumE)
        let entropy = logTotal - sumEV / sumE
        closeness.withUnsafeMutableBufferPointer { key in
            for id in ids { key[Int(id)] = -abs(-(values[Int(id)] - top - logTotal) - entropy) }
            // Most typical first, then cut where the mass reaches p; the cut list is re-sorted by logit.
            SurvivorSort.sortDescending(ids, by: UnsafeBufferPointer(key))
        }
        var cumulative: Float = 0
        var keep = ids.count
        for (i, id) in ids.enumerated() {
            cumulative += _expf(values[Int(id)] - top - logTotal)
            if cumulative >= p { keep = i + 1; break }
        }
        logits.narrow(toFirst: keep)
    }
}
