/// Turns ids into text one token at a time without ever showing a broken character: bytes of a
/// UTF-8 sequence that a later token completes (an emoji split over byte tokens) are held back.
public struct StreamingDecoder {
    public let tokenizer: Tokenizer
    private var pending: [UInt8] = []
    private var sawText = false

    public init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

    /// The text that token `id` completes (often empty while a character is partial).
    public mutating func append(_ id: Int32) -> String {
        var bytes = tokenizer.tokenBytes(id)
        if !sawText, !bytes.isEmpty {
            sawText = true
            if tokenizer.decodeStripsLeadingSpace, bytes.first == 0x20 { bytes.removeFirst() }
        }
        pending.append(contentsOf: bytes)
        let ready = StreamingDecoder.completePrefixLength(pending)
        guard ready > 0 else { return "" }
        let text = String(decoding: pending[..<ready], as: UTF8.self)
        pending.removeFirst(ready)
        return text
    }

    /// Whatever is still held back, with an unfinished sequence shown as U+FFFD.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Bytes held back now (0 to 3).
    public var heldBackCount: Int { pending.count }

    /// Length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence a
    /// later byte could still complete.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var back = 1
        while back <= min(3, n) {
            let b = bytes[n - back]
            if b & 0xC0 == 0x80 { back += 1; continue }  // continuation: keep looking for the lead
            let needed: Int
            if b >= 0xF0 && b < 0xF8 { needed = 4 } else if b >= 0xE0 && b < 0xF0 { needed = 3 } else if b >= 0xC0 && b < 0xE0 { needed = 2 } else { return n }
            return back < needed ? n - back : n
        }
        return n
    }
}
