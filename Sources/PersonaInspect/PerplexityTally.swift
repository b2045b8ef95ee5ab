import Foundation

/// Losses summed over many texts: the mean per token and its perplexity.
public struct PerplexityTally: Equatable, Sendable {
    public private(set) var texts = 0
    /// Texts too short to score (under two tokens) or with no counted token.
    public private(set) var skipped = 0
    public private(set) var tokens = 0
    public private(set) var totalLoss = 0.0

    public init() {}

    /// Adds one text's losses. `nll[i]` is the loss of token i+1; `mask` (one flag per
    /// token, as chunks store it) keeps only the tokens it counts.
    public mutating func add(nll: [Float], mask: [Bool]? = nil) throws {
        if let mask, mask.count != nll.count + 1, !(nll.isEmpty && mask.count <= 1) {
            throw InspectError.invalid("perplexity: a mask of \(mask.count) flags for \(nll.count + 1) tokens")
        }
        var n = 0
        var sum = 0.0
        for (i, loss) in nll.enumerated() where mask?[i + 1] ?? true {
            n += 1
            sum += Double(loss)
        }
        texts += 1
        if n == 0 { skipped += 1; return }
        tokens += n
        totalLoss += sum
    }

    public var meanLoss: Double? { tokens > 0 ? totalLoss / Double(tokens) : nil }
    public var perplexity: Double? { meanLoss.map { exp($0) } }

    /// `texts 12 (1 skipped), tokens 345, mean loss 2.3456, perplexity 10.44`
    public var summary: String {
        var s = "texts \(texts)" + (skipped > 0 ? " (\(skipped) with nothing to score)" : "") + ", tokens \(tokens)"
        if let mean = meanLoss, let ppl = perplexity {
            s += String(format: ", mean loss %.4f, perplexity %.2f", mean, ppl)
        } else {
            s += ", nothing scored"
        }
        return s
    }
}

/// The texts of a file for `perplexity`: JSON lines (strings, or objects with a "text"
/// field) when every non-blank line is one, otherwise one text per line.
public enum TextLines {
    public static func texts(fromFile path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InspectError.invalid("perplexity: cannot read \(path)")
        }
        guard let content = String(data: data, encoding: .utf8) else {
            throw InspectError.invalid("perplexity: \(path) is not UTF-8 text")
        }
        return parse(content)
    }

    public static func parse(_ content: String) -> [String] {
        // Character-wise split: "\r\n" is one Character and counts as one line end.
        let lines = content.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        var decoded: [String] = []
        for line in lines {
            guard let value = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) else {
                return lines
            }
            if let s = value as? String {
                decoded.append(s)
            } else if let object = value as? [String: Any], let s = object["text"] as? String {
                decoded.append(s)
            } else {
                return lines
            }
        }
        return decoded
    }
}
