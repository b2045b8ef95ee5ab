import Foundation

/// Surface style of a set of messages: how long they are, and how often they carry an emoji,
/// a question mark, no capital letter, or a stretched word ("sooo"). Shares are of messages.
public struct StyleProfile: Equatable, Sendable, Codable {
    public var messages: Int
    public var words: Int
    /// Characters (Unicode extended grapheme clusters, as a reader counts them).
    public var meanLength: Double
    public var medianLength: Double
    public var emojiShare: Double
    public var questionShare: Double
    /// Messages with at least one letter and no upper-case letter.
    public var lowercaseShare: Double
    /// Messages with a letter three or more times in a row.
    public var repeatedLetterShare: Double

    public init(messages texts: [String]) {
        messages = texts.count
        words = texts.reduce(0) { $0 + DistinctN.words($1).count }
        let lengths = texts.map { Double($0.count) }.sorted()
        meanLength = lengths.isEmpty ? 0 : lengths.reduce(0, +) / Double(lengths.count)
        if lengths.isEmpty {
            medianLength = 0
        } else if lengths.count % 2 == 1 {
            medianLength = lengths[lengths.count / 2]
        } else {
            medianLength = (lengths[lengths.count / 2 - 1] + lengths[lengths.count / 2]) / 2
        }
        func share(_ test: (String) -> Bool) -> Double {
            texts.isEmpty ? 0 : Double(texts.filter(test).count) / Double(texts.count)
        }
        emojiShare = share(StyleProfile.hasEmoji)
        questionShare = share { $0.contains("?") }
        lowercaseShare = share { t in t.contains { $0.isLetter } && !t.contains { $0.isUppercase } }
        repeatedLetterShare = share(StyleProfile.hasRepeatedLetter)
    }

    /// Pictographic emoji (and symbols shown as emoji by default); digits, '#' and '*',
    /// which Unicode also marks as emoji for keycaps, do not count on their own.
    static func hasEmoji(_ text: String) -> Bool {
        text.unicodeScalars.contains { s in
            s.properties.isEmojiPresentation || (s.properties.isEmoji && s.value >= 0x2100)
        }
    }

    static func hasRepeatedLetter(_ text: String) -> Bool {
        var previous: Character?
        var run = 0
        for c in text.lowercased() {
            if c.isLetter, c == previous { run += 1 } else { run = 1 }
            previous = c
            if run >= 3 { return true }
        }
        return false
    }
}

/// Distinct-n (Li et al. 2016): distinct word n-grams over all n-grams, n-grams taken within
/// each message. It falls as text grows, so generated text is compared with real text of the
/// same number of words.
public enum DistinctN {
    /// Lower-cased words, punctuation at their edges removed.
    public static func words(_ text: String) -> [String] {
        text.lowercased().split(whereSeparator: { $0.isWhitespace }).compactMap { w in
            let t = w.trimmingCharacters(in: .punctuationCharacters)
            return t.isEmpty ? nil : t
        }
    }

    /// Distinct-n over messages given as word lists (0 when there is no n-gram).
    public static func score(_ messages: [[String]], n: Int) -> Double {
        var seen = Set<[String]>()
        var total = 0
        for words in messages where words.count >= n {
            for i in 0...(words.count - n) {
                seen.insert(Array(words[i..<(i + n)]))
                total += 1
            }
        }
        return total == 0 ? 0 : Double(seen.count) / Double(total)
    }

    public static func score(_ texts: [String], n: Int) -> Double { score(texts.map(words), n: n) }

    /// Distinct-n of `real` cut to `wordCount` words: the mean over `windows` runs of
    /// consecutive messages starting at seeded random places, each run ending when it holds
    /// exactly `wordCount` words (the last message cut). With fewer real words than that, the
    /// whole of `real` is used once.
    public static func matched(real: [String], wordCount: Int, n: Int, windows: Int = 5,
                               rng: inout some RandomNumberGenerator) -> Double {
        let lists = real.map(words).filter { !$0.isEmpty }
        let available = lists.reduce(0) { $0 + $1.count }
        guard wordCount > 0, !lists.isEmpty else { return 0 }
        if available <= wordCount { return score(lists, n: n) }
        var total = 0.0
        for _ in 0..<max(1, windows) {
            var start = Int(rng.next() % UInt64(lists.count))
            var taken: [[String]] = []
            var count = 0
            while count < wordCount {
                let w = lists[start]
                let keep = min(w.count, wordCount - count)
                taken.append(Array(w.prefix(keep)))
                count += keep
                start = (start + 1) % lists.count
            }
            total += score(taken, n: n)
        }
        return total / Double(max(1, windows))
    }
}
