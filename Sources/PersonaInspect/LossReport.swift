import Foundation

/// One token the model might have predicted, with its probability.
public struct TokenPrediction: Equatable, Sendable {
    public var id: Int32
    public var text: String
    public var probability: Float

    public init(id: Int32, text: String, probability: Float) {
        self.id = id; self.text = text; self.probability = probability
    }
}

/// One position of a text: the token there, how surprised the model was by it, and what
/// it expected instead. Position 0 has no loss (nothing predicts the first token).
public struct TokenLossRow: Equatable, Sendable {
    public var position: Int
    public var id: Int32
    public var text: String
    /// −log p(token | tokens before it), natural log; nil at position 0.
    public var loss: Float?
    public var probability: Float? { loss.map { Float(exp(-Double($0))) } }
    /// The model's top guesses for this position, most probable first.
    public var alternatives: [TokenPrediction]
    /// Whether the mean loss counts this token (a dataset chunk's mask; every scored token of a plain text).
    public var counted: Bool

    public init(position: Int, id: Int32, text: String, loss: Float?, alternatives: [TokenPrediction], counted: Bool) {
        self.position = position; self.id = id; self.text = text; self.loss = loss
        self.alternatives = alternatives; self.counted = counted
    }
}

/// Per-token losses of one text with the model's alternatives, and their summary.
public struct LossReport: Equatable, Sendable {
    public var rows: [TokenLossRow]
    /// Whether a loss mask decided which tokens count (a dataset chunk), as opposed to all of them.
    public var masked: Bool

    public init(rows: [TokenLossRow], masked: Bool) {
        self.rows = rows; self.masked = masked
    }

    /// Tokens the mean counts.
    public var countedCount: Int { rows.filter { $0.counted && $0.loss != nil }.count }

    /// Mean loss over counted tokens (nats), nil when none is counted.
    public var meanLoss: Double? {
        let losses = rows.filter(\.counted).compactMap(\.loss)
        guard !losses.isEmpty else { return nil }
        return losses.reduce(0.0) { $0 + Double($1) } / Double(losses.count)
    }

    public var perplexity: Double? { meanLoss.map { exp($0) } }

    /// Builds the report from the logits of every position.
    /// - ids: the tokens [T].
    /// - logits: [T, vocabSize], row t predicting token t+1 (the last row is unused).
    /// - mask: one flag per token, true where the loss counts it; nil counts every token after the first.
    /// - topK: alternatives kept per position.
    /// - label: the text of a token id.
    public static func compute(ids: [Int32], logits: [Float], vocabSize: Int, mask: [Bool]? = nil, topK: Int = 5,
                               label: (Int32) -> String) throws -> LossReport {
        let T = ids.count
        guard vocabSize > 0, logits.count == T * vocabSize else {
            throw InspectError.invalid("loss: \(logits.count) logits do not make \(T) rows of a \(vocabSize)-token vocabulary")
        }
        if let mask, mask.count != T {
            throw InspectError.invalid("loss: a mask of \(mask.count) flags for \(T) tokens")
        }
        for (i, id) in ids.enumerated() where id < 0 || Int(id) >= vocabSize {
            throw InspectError.invalid("loss: token \(id) at position \(i) is outside the vocabulary of \(vocabSize)")
        }
        var rows: [TokenLossRow] = []
        rows.reserveCapacity(T)
        for t in 0..<T {
            guard t > 0 else {
                rows.append(TokenLossRow(position: 0, id: ids[0], text: label(ids[0]), loss: nil, alternatives: [], counted: false))
                continue
            }
            let row = Array(logits[(t - 1) * vocabSize ..< t * vocabSize])
            let lse = logSumExp(row)
            let loss = Float(lse - Double(row[Int(ids[t])]))
            let top = topIndices(row, k: topK).map {
                TokenPrediction(id: Int32($0), text: label(Int32($0)), probability: Float(exp(Double(row[$0]) - lse)))
            }
            rows.append(TokenLossRow(position: t, id: ids[t], text: label(ids[t]), loss: loss, alternatives: top,
                                     counted: mask?[t] ?? true))
        }
        return LossReport(rows: rows, masked: mask != nil)
    }

    /// log Σ exp(x), shifted by the maximum so that no term overflows.
    static func logSumExp(_ x: [Float]) -> Double {
        guard let m = x.max(), m.isFinite else { return Double(x.max() ?? 0) }
        var s = 0.0
        for v in x { s += exp(Double(v - m)) }
        return Double(m) + log(s)
    }

    /// Indices of the `k` largest values, largest first (ties: lower index first).
    static func topIndices(_ x: [Float], k: Int) -> [Int] {
        guard k > 0 else { return [] }
        var best: [Int] = []
        for i in x.indices {
            if best.count == k, let last = best.last, x[i] <= x[last] { continue }
            var at = best.count
            while at > 0, x[best[at - 1]] < x[i] { at -= 1 }
            best.insert(i, at: at)
            if best.count > k { best.removeLast() }
        }
        return best
    }
}
