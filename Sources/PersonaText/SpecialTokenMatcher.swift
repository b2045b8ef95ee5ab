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
    let entries: [Entry]

    init(_ entries: [Entry]) {
        var byFirst = [[Entry]](repeating: [], count: 256)
        for e in entries where !e.bytes.isEmpty { byFirst[Int(e.bytes[0])].append(e) }
        for i in 0..<256 { byFirst[i].sort { $0.bytes.count > $1.bytes.count } }
        candidates = byFirst
        self.entries = entries
    }

    var isEmpty: Bool { entries.isEmpty }

    /// Splits `text` into runs of plain text and matched tokens, in order.
    func split(_ text: UTF8Text, parseControl: Bool, _ onText: (Range<Int>) -> Void, _ onToken: (Int32) -> Void) {
        let bytes = text.bytes
        var plainStart = 0
        var i = 0
        let n = bytes.count
        if entries.isEmpty { if n > 0 { onText(0..<n) }; return }
        outer: while i < n {
            let list = candidates[Int(bytes[i])]
            if !list.isEmpty {
                for e in list where (parseControl || !e.isControl) && e.bytes.count <= n - i {
                    let matches = e.bytes.withUnsafeBytes { eb in
                        memcmpEqual(eb.baseAddress!, UnsafeRawPointer(bytes.baseAddress! + i), e.bytes.count)
                    }
                    if matches {
                        if plainStart < i { onText(plainStart..<i) }
                        onToken(e.id)
                        i += e.bytes.count
                        plainStart = i
                        continue outer
                    }
                }
            }
            i += 1
        }
        if plainStart < n { onText(plainStart..<n) }
    }
}
