/// Finds the longest stretch of a generated text copied verbatim from the user's own
/// messages. The messages are indexed once (a suffix array over their bytes, each message
/// ended by a separator of its own so that no match runs across two messages); a query
/// walks the generated text and narrows the suffix-array interval byte by byte.
public final class RegurgitationFinder {
    public struct Message: Sendable {
        public var id: Int64
        public var text: String
        public init(id: Int64, text: String) { self.id = id; self.text = text }
    }

    public struct Match: Equatable, Sendable {
        /// The copied text (whole characters).
        public var text: String
        public var characterCount: Int
        public var messageId: Int64
        public var messageText: String
        /// Where the copy starts in the generated text, in bytes.
        public var generatedOffset: Int
        /// Longer than the threshold.
        public var flagged: Bool
    }

    let messages: [Message]
    /// Message bytes as symbols 0…255, each message followed by 256 + its index.
    let symbols: [Int32]
    /// [symbols] the message each position belongs to
    let owner: [Int32]
    let suffixArray: SuffixArray
    /// Flag copies longer than this many characters.
    public let threshold: Int

    public init(messages: [Message], threshold: Int = 40) {
        self.messages = messages
        self.threshold = threshold
        var symbols: [Int32] = []
        var owner: [Int32] = []
        for (index, message) in messages.enumerated() {
            for b in message.text.utf8 { symbols.append(Int32(b)); owner.append(Int32(index)) }
            symbols.append(256 + Int32(index))
            owner.append(Int32(index))
        }
        self.symbols = symbols
        self.owner = owner
        suffixArray = SuffixArray(symbols, alphabetSize: 256 + messages.count)
    }

    /// The longest stretch of `generated` found in one of the messages, or nil when no byte matches.
    public func longestCopy(in generated: String) -> Match? {
        let g = Array(generated.utf8)
        let sa = suffixArray.suffixes
        guard !sa.isEmpty, !g.isEmpty else { return nil }
        var best = (length: 0, start: 0, suffix: Int32(0))
        for start in 0..<g.count {
            // Skip starts inside a UTF-8 sequence, and those that cannot beat the best.
            if g[start] & 0xC0 == 0x80 || g.count - start <= best.length { continue }
            var lo = 0, hi = sa.count
            var length = 0
            while start + length < g.count {
                let c = Int32(g[start + length])
                // Suffixes in [lo, hi) share `length` symbols with g[start...]; narrow by the next.
                let newLo = lowerBound(lo, hi, offset: length, symbol: c)
                let newHi = lowerBound(newLo, hi, offset: length, symbol: c + 1)
                if newLo >= newHi { break }
                lo = newLo; hi = newHi
                length += 1
            }
            if length > best.length { best = (length, start, sa[lo]) }
        }
        guard best.length > 0 else { return nil }
        // Trim to whole UTF-8 characters.
        var end = best.start + best.length
        while end > best.start, end < g.count, g[end] & 0xC0 == 0x80 { end -= 1 }
        let copied = String(decoding: g[best.start..<end], as: UTF8.self)
        let message = messages[Int(owner[Int(best.suffix)])]
        let characters = copied.count
        return Match(text: copied, characterCount: characters, messageId: message.id, messageText: message.text,
                     generatedOffset: best.start, flagged: characters > threshold)
    }

    /// First rank in [lo, hi) whose suffix has a symbol ≥ `symbol` at `offset` (the end of
    /// the text counts as smaller than every symbol).
    private func lowerBound(_ lo: Int, _ hi: Int, offset: Int, symbol: Int32) -> Int {
        var lo = lo, hi = hi
        let sa = suffixArray.suffixes
        while lo < hi {
            let mid = (lo + hi) / 2
            let position = Int(sa[mid]) + offset
            let value: Int32 = position < symbols.count ? symbols[position] : -1
            if value < symbol { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
