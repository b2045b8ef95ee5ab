import Foundation

/// The attention probabilities of one layer over one text, with the token texts: what the
/// `attention` views render. Causal: row q has weights on keys 0…q only.
public struct AttentionPattern: Equatable, Sendable {
    /// Token texts, one per position (raw, not escaped).
    public var tokens: [String]
    public var heads: Int
    /// [heads, T, T]: weights[h, q, k] = attention of query q to key k in head h.
    public var weights: [Float]

    public var count: Int { tokens.count }

    public init(tokens: [String], heads: Int, weights: [Float]) throws {
        let T = tokens.count
        guard heads > 0, T > 0, weights.count == heads * T * T else {
            throw InspectError.invalid("attention: \(weights.count) weights do not make \(heads) heads of \(T) × \(T)")
        }
        self.tokens = tokens; self.heads = heads; self.weights = weights
    }

    public func weight(head: Int, query: Int, key: Int) -> Float {
        weights[(head * count + query) * count + key]
    }

    /// The weight of query → key averaged over heads.
    public func meanWeight(query: Int, key: Int) -> Float {
        var s: Float = 0
        for h in 0..<heads { s += weight(head: h, query: query, key: key) }
        return s / Float(heads)
    }

    /// The position a `from=` value names: an index (negative counts from the end) or a
    /// token's text (its last occurrence; matched as written, then without surrounding
    /// spaces, then in the escaped form the tables show).
    public func position(of spec: String) throws -> Int {
        if let i = Int(spec) {
            let p = i < 0 ? count + i : i
            guard p >= 0, p < count else {
                throw InspectError.invalid("attention: from=\(spec) is outside the \(count) positions (0…\(count - 1), or -1 for the last)")
            }
            return p
        }
        let tests: [(String) -> Bool] = [
            { $0 == spec },
            { $0.trimmingCharacters(in: .whitespaces) == spec.trimmingCharacters(in: .whitespaces) },
            { TokenLabel.visible($0) == spec },
        ]
        for test in tests {
            if let p = tokens.lastIndex(where: test) { return p }
        }
        let shown = tokens.prefix(20).map { TokenLabel.visible($0) }.joined(separator: " ")
        throw InspectError.invalid("attention: no token '\(spec)' in the text; give a position 0…\(count - 1) or one of: \(shown)\(count > 20 ? " …" : "")")
    }
}
