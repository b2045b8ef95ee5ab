/// The DRY ("don't repeat yourself") penalty of p-e-w (text-generation-webui, llama.cpp):
/// when the text ends with a sequence that occurred before, the token that followed it then
/// is penalised by multiplier · base^(length − allowedLength), where length is the longest
/// such repeated tail (counted in tokens) and only lengths ≥ allowedLength count. Sequence
/// breakers (tokens containing a newline, ':', '"' or '*' by default) end a match, so
/// a speaker label or a new line is allowed to recur.
///
/// The longest repeated tail before every position comes from the Z-function of the reversed
/// history, so a step costs O(window) even when the text is one long loop (the naive
/// extension is quadratic exactly then).
public final class DryPenalty: LogitProcessor {
    let multiplier: Float
    let base: Float
    let allowedLength: Int
    let window: Int
    /// [vocab] true for tokens that end a match; empty when no vocabulary was given.
    let breakers: [Bool]
    let breakerTexts: [String]
    /// [window] Z-function of the reversed history, grown when the history outgrows it.
    private var z: [Int32] = []
    /// [vocab] longest match seen for a candidate this step; reset after use.
    private var longest: [Int32]
    /// The exponent is capped so that the penalty stays finite (a ban in all but name).
    static let maximumExponent: Float = 40

    public init(multiplier: Float, base: Float, allowedLength: Int, window: Int,
                breakerTexts: [String], vocabulary: TokenByteTable?, vocabularySize: Int) {
        self.multiplier = multiplier
        self.base = base
        self.allowedLength = max(1, allowedLength)
        self.window = window
        self.breakerTexts = breakerTexts
        longest = [Int32](repeating: 0, count: vocabularySize)
        if let vocabulary, !breakerTexts.isEmpty {
            let patterns = breakerTexts.map { Array($0.utf8) }.filter { !$0.isEmpty }
            breakers = (0..<vocabularySize).map { id in
                vocabulary.withBytes(of: Int32(id)) { bytes in patterns.contains { contains(bytes, $0) } }
            }
        } else {
            breakers = []
        }
        z.reserveCapacity(4096)
    }

    public var description: String {
        let shown = breakerTexts.map { $0.replacingOccurrences(of: "\n", with: "\\n") }.joined(separator: " ")
        return "dry multiplier \(formatNumber(multiplier)) base \(formatNumber(base)) allowed_length \(allowedLength)"
            + (window > 0 ? " over the last \(window) tokens" : "") + (shown.isEmpty ? "" : ", breakers \(shown)")
    }

    @inline(__always) private func isBreaker(_ t: Int32) -> Bool {
        !breakers.isEmpty && t >= 0 && Int(t) < breakers.count && breakers[Int(t)]
    }

    public func process(_ logits: inout LogitsView, history: TokenHistory) {
        let h = history.recent(window)
        let n = h.count
        guard n >= 2 else { return }
        let end = h.endIndex
        // Tokens at the end of the text that are not breakers: a match cannot be longer.
        var tailRun = 0
        while tailRun < n, !isBreaker(h[end - 1 - tailRun]) { tailRun += 1 }
        guard tailRun >= 1 else { return }
        // s[k] = h[end-1-k]; z[k] = longest common prefix of s and s[k...].
        if z.count < n { z = [Int32](repeating: 0, count: max(n, 2 * z.count)) }
        @inline(__always) func s(_ k: Int) -> Int32 { h[end - 1 - k] }
        z[0] = Int32(n)
        var left = 0, right = 0
        for k in 1..<n {
            var length = 0
            if k < right { length = min(right - k, Int(z[k - left])) }
            // The match never needs to exceed the breaker-free tail.
            while length < tailRun, k + length < n, s(length) == s(k + length) { length += 1 }
            z[k] = Int32(length)
            if k + length > right { left = k; right = k + length }
        }
        // The token at h[i+1] followed a sequence ending at h[i] that matches the tail for z[n-1-i].
        let vocab = logits.values.count
        var i = h.startIndex
        while i < end - 1 {
            let match = min(Int(z[end - 1 - i]), tailRun)
            let next = h[i + 1]
            if match > 0, next >= 0, Int(next) < vocab, !isBreaker(next), Int32(match) > longest[Int(next)] {
                longest[Int(next)] = Int32(match)
            }
            i += 1
        }
        i = h.startIndex
        while i < end - 1 {
            let next = h[i + 1]
            if next >= 0, Int(next) < vocab {
                let match = Int(longest[Int(next)])
                if match >= allowedLength {
                    let exponent = min(Float(match - allowedLength), DryPenalty.maximumExponent)
                    logits.values[Int(next)] -= multiplier * _powf(base, exponent)
                }
                longest[Int(next)] = 0
            }
            i += 1
        }
    }
}

/// Whether `pattern` occurs in `bytes`.
func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ pattern: [UInt8]) -> Bool {
    guard pattern.count <= bytes.count, !pattern.isEmpty else { return pattern.isEmpty }
    var i = 0
    while i + pattern.count <= bytes.count {
        var k = 0
        while k < pattern.count, bytes[i + k] == pattern[k] { k += 1 }
        if k == pattern.count { return true }
        i += 1
    }
    return false
}
