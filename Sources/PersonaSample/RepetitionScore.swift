/// How repetitive a generated conversation is: the share of its word n-grams that repeat an
/// earlier one, the share of its lines that repeat an earlier line, and whether it ended in a
/// loop (the same cycle of words at least three times in a row at the end: the "colleagues
/// endlessly rescheduling" failure).
public struct RepetitionScore: Equatable, Sendable {
    /// Repeated n-gram occurrences / all n-gram occurrences (0 when the text is shorter than n).
    public var repeatedNgramShare: Double
    public var ngramSize: Int
    /// Non-empty lines equal (after trimming and lower-casing) to an earlier line, over all non-empty lines.
    public var repeatedLineShare: Double
    /// The cycle at the end, when there is one.
    public var loop: Loop?

    public struct Loop: Equatable, Sendable {
        /// Words in one cycle.
        public var period: Int
        /// How many times the cycle occurs in a row at the end (whole and partial: 3.5 = three and a half).
        public var repeats: Double
        /// One cycle's words.
        public var cycle: String
    }

    public var fellIntoLoop: Bool { loop != nil }

    /// One line for the conversation's footer.
    public var summary: String {
        var s = "repetition: \(percent(repeatedNgramShare)) of \(ngramSize)-grams repeated, \(percent(repeatedLineShare)) of lines repeated"
        if let loop {
            let shown = loop.cycle.count > 60 ? String(loop.cycle.prefix(57)) + "…" : loop.cycle
            s += String(format: "; LOOP: a %d-word cycle ×%.1f at the end (\"%@\")", loop.period, loop.repeats, shown)
        } else {
            s += "; no loop"
        }
        return s
    }

    private func percent(_ x: Double) -> String { String(format: "%.0f%%", x * 100) }

    /// Scores `text`. A loop needs its cycle to occur at least `minimumRepeats` times in a row
    /// at the end and to cover at least `minimumLoopWords` words.
    public static func measure(_ text: String, ngramSize: Int = 3, minimumRepeats: Double = 3,
                               minimumLoopWords: Int = 8, maximumPeriod: Int = 200) -> RepetitionScore {
        let words = normalisedWords(text)
        // Word ids so that comparisons are integers.
        var ids: [Int] = []
        var dictionary: [Substring: Int] = [:]
        for w in words {
            if let id = dictionary[w] { ids.append(id) } else { dictionary[w] = dictionary.count; ids.append(dictionary.count - 1) }
        }

        var ngramShare = 0.0
        let n = max(1, ngramSize)
        if ids.count >= n {
            var seen = Set<ArraySlice<Int>>()
            var repeated = 0
            for i in 0...(ids.count - n) {
                if !seen.insert(ids[i..<(i + n)]).inserted { repeated += 1 }
            }
            ngramShare = Double(repeated) / Double(ids.count - n + 1)
        }

        var lineShare = 0.0
        var seenLines = Set<String>()
        var lineCount = 0, repeatedLines = 0
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let key = line.trimmingCharacters(in: .whitespaces).lowercased()
            if key.isEmpty { continue }
            lineCount += 1
            if !seenLines.insert(key).inserted { repeatedLines += 1 }
        }
        if lineCount > 0 { lineShare = Double(repeatedLines) / Double(lineCount) }

        return RepetitionScore(repeatedNgramShare: ngramShare, ngramSize: n, repeatedLineShare: lineShare,
                               loop: findLoop(ids, words: words, minimumRepeats: minimumRepeats,
                                              minimumWords: minimumLoopWords, maximumPeriod: maximumPeriod))
    }

    /// Z-function of the reversed word sequence: the run of period p at the end is p + z[p].
    /// The shortest period with enough repeats is the cycle.
    static func findLoop(_ ids: [Int], words: [Substring], minimumRepeats: Double, minimumWords: Int, maximumPeriod: Int) -> Loop? {
        let n = ids.count
        guard n >= 2 else { return nil }
        let z = zFunction(count: n) { ids[n - 1 - $0] }
        for p in 1..<min(n, maximumPeriod + 1) {
            let run = p + z[p]
            let repeats = Double(run) / Double(p)
            if repeats >= minimumRepeats && run >= minimumWords {
                return Loop(period: p, repeats: repeats, cycle: words[(n - p)...].joined(separator: " "))
            }
        }
        return nil
    }

    /// Lower-cased words with the punctuation at their edges removed.
    static func normalisedWords(_ text: String) -> [Substring] {
        let lowered = text.lowercased()
        return lowered.split(whereSeparator: { $0.isWhitespace }).compactMap { word -> Substring? in
            let trimmed = word.trimmingCharacters(in: .punctuationCharacters)
            return trimmed.isEmpty ? nil : Substring(trimmed)
        }
    }
}

/// z[k] = length of the longest common prefix of s and s[k...] (z[0] = count).
func zFunction<T: Equatable>(count n: Int, _ s: (Int) -> T) -> [Int] {
    guard n > 0 else { return [] }
    var z = [Int](repeating: 0, count: n)
    z[0] = n
    var left = 0, right = 0
    for k in 1..<n {
        var length = k < right ? min(right - k, z[k - left]) : 0
        while k + length < n && s(length) == s(k + length) { length += 1 }
        z[k] = length
        if k + length > right { left = k; right = k + length }
    }
    return z
}

import Foundation
