/// A pre-tokenizer cuts text into pieces that BPE then encodes one by one; merges never cross
/// a piece boundary. Stages compose into a `PreTokenizerChain`, itself a pre-tokenizer.
protocol PreTokenizer: Sendable {
    /// Appends the pieces of `text[range]` to `pieces`, in order, covering the range exactly.
    func split(_ text: UTF8Text, _ range: Range<Int>, into pieces: inout [Range<Int>])
    /// How `model info` names it.
    var name: String { get }
}

/// Applies each stage to every piece of the stage before.
struct PreTokenizerChain: PreTokenizer {
    let stages: [any PreTokenizer]

    var name: String { stages.map(\.name).joined(separator: " + ") }

    func split(_ text: UTF8Text, _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        guard let first = stages.first else { pieces.append(range); return }
        if stages.count == 1 { first.split(text, range, into: &pieces); return }
        var current: [Range<Int>] = []
        first.split(text, range, into: &current)
        for stage in stages.dropFirst().dropLast() {
            var next: [Range<Int>] = []
            for piece in current { stage.split(text, piece, into: &next) }
            current = next
        }
        let last = stages[stages.count - 1]
        for piece in current { last.split(text, piece, into: &pieces) }
    }
}

/// Hugging Face `Digits(individual_digits: true)`: every numeric character (`\p{N}`, as Rust's
/// `char::is_numeric`) becomes a piece of its own.
struct IndividualDigitsSplitter: PreTokenizer {
    var name: String { "digits" }

    func split(_ text: UTF8Text, _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        var start = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            let (cls, length) = text.classAt(i)
            if cls == .number {
                if start < i { pieces.append(start..<i) }
                pieces.append(i..<(i + length))
                start = i + length
            }
            i += length
        }
        if start < range.upperBound { pieces.append(start..<range.upperBound) }
    }
}

/// The split patterns of the byte-level BPE families, hand-written over Unicode scalars with
/// the same leftmost-first alternation and backtracking as the regexes:
/// - gpt2:   `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// - llama3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// - qwen2:  as llama3 with `\p{N}` (one digit per piece).
///
/// With `isolatesNumbers`, every numeric scalar is a piece of its own and the pattern runs on the
/// text between them: the same as `IndividualDigitsSplitter` followed by this splitter (SmolLM),
/// in one pass without an intermediate list.
struct PatternSplitter: PreTokenizer {
    enum Pattern: String, Sendable { case gpt2, llama3, qwen2 }
    let pattern: Pattern
    var isolatesNumbers = false

    /// The regex source each pattern stands for, as `tokenizer.json` spells it.
    static let regexSource: [Pattern: String] = [
        .gpt2: #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#,
        .llama3: #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
        .qwen2: #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
    ]

    var name: String { isolatesNumbers ? "digits + \(pattern.rawValue) pattern" : "\(pattern.rawValue) pattern" }

    func split(_ text: UTF8Text, _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        guard isolatesNumbers else { splitPattern(text, range, into: &pieces); return }
        var start = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            let (cls, length) = text.classAt(i)
            if cls == .number {
                if start < i { splitPattern(text, start..<i, into: &pieces) }
                pieces.append(i..<(i + length))
                start = i + length
            }
            i += length
        }
        if start < range.upperBound { splitPattern(text, start..<range.upperBound, into: &pieces) }
    }

    private func splitPattern(_ text: UTF8Text, _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let length = pattern == .gpt2 ? matchGPT2(text, at: i, end: end) : matchLlama3(text, at: i, end: end)
            pieces.append(i..<(i + length))
            i += length
        }
    }

    /// Length of `'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d` at `i` (0 if none).
    @inline(__always)
    private func contraction(_ text: UTF8Text, at i: Int, end: Int, caseInsensitive: Bool) -> Int {
        guard text.bytes[i] == 0x27, i + 1 < end else { return 0 }
        func lower(_ b: UInt8) -> UInt8 { caseInsensitive && b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
        let c1 = lower(text.bytes[i + 1])
        switch c1 {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"): return 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"), UInt8(ascii: "l"):
            guard i + 2 < end else { return 0 }
            let c2 = lower(text.bytes[i + 2])
            let want: UInt8 = c1 == UInt8(ascii: "l") ? UInt8(ascii: "l") : UInt8(ascii: "e")
            return c2 == want ? 3 : 0
        default: return 0
        }
    }

    /// End of the run of scalars of class `cls` starting at `i`.
    @inline(__always)
    private func run(_ text: UTF8Text, from i: Int, end: Int, of cls: ScalarClass, maxCount: Int = Int.max) -> Int {
        var j = i, n = 0
        while j < end, n < maxCount {
            let (c, length) = text.classAt(j)
            guard c == cls else { break }
            j += length; n += 1
        }
        return j
    }

    /// `\s+(?!\S)|\s+` at a whitespace scalar: the run, less its last scalar when a
    /// non-space follows and the run has more than one scalar.
    @inline(__always)
    private func whitespaceRun(_ text: UTF8Text, at i: Int, end: Int) -> Int {
        var j = i, lastStart = i
        while j < end {
            let (c, length) = text.classAt(j)
            guard c.isWhitespace else { break }
            lastStart = j
            j += length
        }
        if j == end || lastStart == i { return j - i }
        return lastStart - i
    }

    private func matchGPT2(_ text: UTF8Text, at i: Int, end: Int) -> Int {
        let c = contraction(text, at: i, end: end, caseInsensitive: false)
        if c > 0 { return c }
        let (cls, length) = text.classAt(i)
        var body = i, bodyClass = cls
        if text.bytes[i] == 0x20, i + 1 < end {
            let next = text.classAt(i + 1).0
            if next != .space && next != .newline { body = i + 1; bodyClass = next }
        }
        switch bodyClass {
        case .letter, .number:
            return run(text, from: body, end: end, of: bodyClass) - i
        case .other:
            return run(text, from: body, end: end, of: .other) - i
        case .space, .newline:
            _ = length
            return whitespaceRun(text, at: i, end: end)
        }
    }

    private func matchLlama3(_ text: UTF8Text, at i: Int, end: Int) -> Int {
        let c = contraction(text, at: i, end: end, caseInsensitive: true)
        if c > 0 { return c }
        let (cls, length) = text.classAt(i)
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if cls == .letter { return run(text, from: i, end: end, of: .letter) - i }
        if cls != .newline, cls != .number, i + length < end, text.classAt(i + length).0 == .letter {
            return run(text, from: i + length, end: end, of: .letter) - i
        }
        // \p{N}{1,3} or \p{N}
        if cls == .number { return run(text, from: i, end: end, of: .number, maxCount: pattern == .qwen2 ? 1 : 3) - i }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var body = i
        if text.bytes[i] == 0x20, i + 1 < end, text.classAt(i + 1).0 == .other { body = i + 1 }
        if text.classAt(body).0 == .other {
            let others = run(text, from: body, end: end, of: .other)
            return run(text, from: others, end: end, of: .newline) - i
        }
        // \s*[\r\n]+ : through the last CR/LF of the whitespace run
        var j = i, afterLastNewline = -1
        while j < end {
            let (c2, l2) = text.classAt(j)
            guard c2.isWhitespace else { break }
            j += l2
            if c2 == .newline { afterLastNewline = j }
        }
        if afterLastNewline > 0 { return afterLastNewline - i }
        return whitespaceRun(text, at: i, end: end)
    }
}
