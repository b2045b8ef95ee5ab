/// Finds added/special token text in input before BPE runs (leftmost, then longest, as Hugging
/// Face's added-vocabulary split does). Control tokens (`<|im_end|>`) are only recognised when
/// the caller parses special tokens; user-defined added tokens always are.
struct SpecialTokenMatcher: Sendable {
    struct Entry: Sendable {
        let bytes: [UInt8]
        let id: Int32
        let isControl: Bool
    }

    /// Candidates per first byte, longest first.
    private let candidates: [[Entry]]
    /// Which bytes start some entry: 256 bits.
    private let firstBytes: (UInt64, UInt64, UInt64, UInt64)
    let entries: [Entry]

    init(_ entries: [Entry]) {
        var byFirst = [[Entry]](repeating: [], count: 256)
        for e in entries where !e.bytes.isEmpty { byFirst[Int(e.bytes[0])].append(e) }
        for i in 0..<256 { byFirst[i].sort { $0.bytes.count > $1.bytes.count } }
        candidates = byFirst
        var bits: [UInt64] = [0, 0, 0, 0]
        for e in entries where !e.bytes.isEmpty { bits[Int(e.bytes[0]) >> 6] |= UInt64(1) << UInt64(e.bytes[0] & 63) }
        firstBytes = (bits[0], bits[1], bits[2], bits[3])
        self.entries = entries
    }

    var isEmpty: Bool { entries.isEmpty }

    /// The first token text at or after `from`: where it starts, its length and id.
    @inline(__always)
    func nextMatch(in text: UTF8Text, from: Int, parseControl: Bool) -> (start: Int, length: Int, id: Int32)? {
        let bytes = text.bytes
        let n = bytes.count
        guard !entries.isEmpty else { return nil }
        let (b0, b1, b2, b3) = firstBytes
        var i = from
        while i < n {
            let b = bytes[i]
            let word = b < 64 ? b0 : b < 128 ? b1 : b < 192 ? b2 : b3
            if word & (UInt64(1) << UInt64(b & 63)) != 0 {
                for e in candidates[Int(b)] where (parseControl || !e.isControl) && e.bytes.count <= n - i {
                    let matches = e.bytes.withUnsafeBytes { eb in
                        memcmpEqual(eb.baseAddress!, UnsafeRawPointer(bytes.baseAddress! + i), e.bytes.count)
                    }
                    if matches { return (i, e.bytes.count, e.id) }
                }
            }
            i += 1
        }
        return nil
    }

    /// Splits `text` into runs of plain text and matched tokens, in order.
    func split(_ text: UTF8Text, parseControl: Bool, _ onText: (Range<Int>) -> Void, _ onToken: (Int32) -> Void) {
        var position = 0
        while let match = nextMatch(in: text, from: position, parseControl: parseControl) {
            if position < match.start { onText(position..<match.start) }
            onToken(match.id)
            position = match.start + match.length
        }
        if position < text.count { onText(position..<text.count) }
    }
}
