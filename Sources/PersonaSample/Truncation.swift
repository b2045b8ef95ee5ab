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
    private let selector: TopSelector

    public init(_ p: Float, vocabularySize: Int) {
        self.p = p
        selector = TopSelector(capacity: vocabularySize)
    }

    public var description: String { "top_p \(formatNumber(p))" }

    public func process(_ logits: inout LogitsView, history: TokenHistory) {
        guard p < 1 else { return }
        if logits.isNarrowed {
            logits.truncateSurvivors(to: TopP.keepCount(logits.survivors, logits.values, p))
            return
        }
        // Whole vocabulary: the normaliser takes one pass; then the best m, growing m until
        // they hold mass p (usually the first round: a few dozen tokens hold 90%).
        let values = UnsafeBufferPointer(logits.values)
        let top = SamplingKernels.maximum(values)
        guard top > -.infinity, let ids = logits.survivorStorage.baseAddress else { return }
        let total = SamplingKernels.sumExp(values, shift: top)
        var m = 64
        while true {
            let count = selector.select(values, count: m, into: ids)
            var cumulative: Float = 0
            var keep = count
            for i in 0..<count {
                cumulative += _expf(values[Int(ids[i])] - top) / total
                if cumulative >= p { keep = i + 1; break }
            }
            if keep < count || count < m || m >= values.count {
                logits.narrow(toFirst: max(1, keep))
                return
            }
            m = min(values.count, m * 4)
        }
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
        let t = SIMD16<Float>(repeating: threshold)
        while i + 16 <= n {
            if any(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) .>= t) {
                for j in i..<(i + 16) where values[j] >= threshold { logits.survivorStorage[count] = Int32(j); count += 1 }
            }
            i += 16
        }
        while i < n { if values[i] >= threshold { logits.survivorStorage[count] = Int32(i); count += 1 }; i += 1 }
        logits.narrow(toFirst: count)
    }
}

/// Locally typical sampling (Meister et al.; Hugging Face `TypicalLogitsWarper`): keeps the
/// tokens whose surprisal is closest to the entropy of the distribution until they hold mass p.
public final class TypicalP: LogitProcessor {
    let p: Float
    private let selector: TopSelector
    /// [vocab] −|surprisal − entropy|, -inf for removed tokens
    private var closeness: [Float]

    public init(_ p: Float, vocabularySize: Int) {
        self.p = p
        selector = TopSelector(capacity: vocabularySize)
        closeness = [Float](repeating: -.infinity, count: vocabularySize)
    }

    public var description: String { "typical_p \(formatNumber(p))" }

    public func process(_ logits: inout LogitsView, history: TokenHistory) {
        guard p < 1 else { return }
        let values = logits.values
        let view = UnsafeBufferPointer(values)
        let top = SamplingKernels.maximum(view)
        guard top > -.infinity, let ids = logits.survivorStorage.baseAddress else { return }
        let (sumE, sumEV) = SamplingKernels.sumExpTimesValue(view, shift: top)
        let logTotal = _logf(sumE)
        // H = −Σ p·log p with log p = (x − top) − log Σ
        let entropy = logTotal - sumEV / sumE
        closeness.withUnsafeMutableBufferPointer { key in
            if logits.isNarrowed {
                SamplingKernels.fill(key, with: -.infinity)
                for id in logits.survivors {
                    let logProb = values[Int(id)] - top - logTotal
                    key[Int(id)] = -abs(-logProb - entropy)
                }
            } else {
                for i in 0..<values.count {
                    let x = values[i]
                    key[i] = x > -.infinity ? -abs(-(x - top - logTotal) - entropy) : -.infinity
                }
            }
            var m = 64
            while true {
                let count = selector.select(UnsafeBufferPointer(key), count: m, into: ids)
                var cumulative: Float = 0
                var keep = count
                for i in 0..<count {
                    cumulative += _expf(values[Int(ids[i])] - top - logTotal)
                    // Hugging Face keeps the tokens before the mass is reached, plus the one that reaches it.
                    if cumulative >= p { keep = i + 1; break }
                }
                if keep < count || count < m || m >= values.count {
                    logits.narrow(toFirst: max(1, keep))
                    return
                }
                m = min(values.count, m * 4)
            }
        }
    }
}
