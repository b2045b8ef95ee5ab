import PersonaText

/// Spans with their tokens, ready to be joined into a chunk.
struct EncodedSpans {
    var spans: [RenderedSpan]
    /// Tokens of each span encoded on its own (a first estimate of the joined count).
    var spanTokens: [[Int32]]
    var estimatedCount: Int { spanTokens.reduce(0) { $0 + $1.count } }
}

/// The exact tokens of joined spans, per run (a special span, or a maximal run of plain spans).
struct JoinedRuns {
    var runs: [(Range<Int>, [Int32])] = []
    var count = 0
}

/// A chunk's exact tokens and per-token loss mask.
struct ExactEncoding {
    var tokens: [Int32]
    var mask: [Bool]
}

/// Tokenizes rendered spans exactly as the tokenizer does the joined text, and aligns each
/// token with the span it starts in to build the loss mask.
///
/// Spans are encoded one by one once (cheap estimates for packing); the chunk is then
/// encoded whole, because byte-level BPE and SentencePiece can merge differently across a
/// span boundary (`"\n\n###"` splits one way joined and another way apart). Where the joined
/// tokens equal the concatenated span tokens, the mask follows the spans directly; where
/// they diverge, the tokens are decoded one at a time and matched to byte offsets of the text.
final class SpanEncoder {
    let tokenizer: Tokenizer
    private var specialCache: [String: [Int32]] = [:]
    /// How many chunks needed the decode-based alignment (for tests and diagnostics).
    private(set) var slowAlignments = 0
    /// Joined encodes and the tokens they produced (packing effort, for the benchmark notes).
    private(set) var joinedEncodes = 0
    private(set) var joinedTokens = 0

    init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

    func encodeSpan(_ span: RenderedSpan) -> [Int32] {
        if span.isSpecial {
            if let cached = specialCache[span.text] { return cached }
            let ids = tokenizer.encode(span.text, parseSpecialTokens: true)
            specialCache[span.text] = ids
            return ids
        }
        return span.text.isEmpty ? [] : tokenizer.encode(span.text, parseSpecialTokens: false)
    }

    func encodeSpans(_ spans: [RenderedSpan]) -> EncodedSpans {
        EncodedSpans(spans: spans, spanTokens: spans.map(encodeSpan))
    }

    /// The joined spans' exact tokens, run by run (no mask yet): used while deciding a
    /// chunk's end, and kept so the chosen chunk is not encoded again.
    func encodeRuns(_ spans: EncodedSpans) -> JoinedRuns {
        var runs = JoinedRuns()
        forEachRun(spans) { range, ids in
            runs.runs.append((range, ids))
            runs.count += ids.count
        }
        joinedEncodes += 1
        joinedTokens += runs.count
        return runs
    }

    /// Exact tokens and mask of the joined spans, from their runs.
    func encodeExact(_ spans: EncodedSpans, runs: JoinedRuns) -> ExactEncoding {
        var tokens: [Int32] = []
        var mask: [Bool] = []
        tokens.reserveCapacity(runs.count)
        mask.reserveCapacity(runs.count)
        for (range, ids) in runs.runs {
            tokens.append(contentsOf: ids)
            if range.count == 1 {
                mask.append(contentsOf: repeatElement(spans.spans[range.lowerBound].counted, count: ids.count))
            } else {
                mask.append(contentsOf: alignRun(ids: ids, spans: spans, range: range))
            }
        }
        return ExactEncoding(tokens: tokens, mask: mask)
    }

    /// Calls `body` with each run: one special span, or a maximal run of plain spans encoded
    /// as one string (so a plain run tokenizes exactly as in the joined text).
    private func forEachRun(_ spans: EncodedSpans, _ body: (Range<Int>, [Int32]) -> Void) {
        var i = 0
        let n = spans.spans.count
        while i < n {
            if spans.spans[i].isSpecial {
                body(i..<(i + 1), spans.spanTokens[i])
                i += 1
                continue
            }
            var j = i + 1
            while j < n, !spans.spans[j].isSpecial { j += 1 }
            if j - i == 1 {
                body(i..<j, spans.spanTokens[i])
            } else {
                var text = ""
                for k in i..<j { text += spans.spans[k].text }
                body(i..<j, text.isEmpty ? [] : tokenizer.encode(text, parseSpecialTokens: false))
            }
            i = j
        }
    }

    /// The mask of one plain run: each token takes the `counted` flag of the span its first
    /// byte lies in.
    private func alignRun(ids: [Int32], spans: EncodedSpans, range: Range<Int>) -> [Bool] {
        let count = range.count
        var mask: [Bool] = []
        mask.reserveCapacity(ids.count)
        // Byte offset where each span of the run starts; starts[count] is the run's length.
        var starts = [Int](repeating: 0, count: count + 1)
        for k in 0..<count { starts[k + 1] = starts[k] + spans.spans[range.lowerBound + k].text.utf8.count }
        func counted(atByte p: Int) -> Bool {
            var k = 0
            while k + 1 < count, starts[k + 1] <= p { k += 1 }
            return spans.spans[range.lowerBound + k].counted
        }

        var w = 0
        var k = 0
        var textBytes: [UInt8]? = nil
        outer: while k < count {
            let piece = spans.spanTokens[range.lowerBound + k]
            if ids.count - w >= piece.count, ids[w..<(w + piece.count)].elementsEqual(piece) {
                mask.append(contentsOf: repeatElement(spans.spans[range.lowerBound + k].counted, count: piece.count))
                w += piece.count
                k += 1
                continue
            }
            // The joined tokens diverge here: walk them by decoding until a span boundary
            // lines up again with a token boundary.
            slowAlignments += 1
            if textBytes == nil {
                var all: [UInt8] = []
                for s in range { all.append(contentsOf: spans.spans[s].text.utf8) }
                textBytes = all
            }
            let bytes = textBytes ?? []
            var p = starts[k]
            // Tokens the joined text shares with the span's own start cover the same bytes:
            // take them whole, and decode only around the boundary.
            var shared = 0
            while shared < piece.count, w + shared < ids.count, ids[w + shared] == piece[shared] { shared += 1 }
            if shared > 0, let advance = Self.match(Array(tokenizer.decode(Array(piece[0..<shared])).utf8), in: bytes, at: p) {
                mask.append(contentsOf: repeatElement(spans.spans[range.lowerBound + k].counted, count: shared))
                w += shared
                p += advance
            }
            var groupStart = w
            var t = w
            while t < ids.count {
                let decoded = Array(tokenizer.decode(Array(ids[groupStart...t])).utf8)
                if let advance = Self.match(decoded, in: bytes, at: p) {
                    let flag = counted(atByte: p)
                    mask.append(contentsOf: repeatElement(flag, count: t - groupStart + 1))
                    p += advance
                    t += 1
                    groupStart = t
                    // A span starting exactly here whose own tokens follow: back to the fast path.
                    for j in (k + 1)..<count where starts[j] == p {
                        let next = spans.spanTokens[range.lowerBound + j]
                        if ids.count - t >= next.count, ids[t..<(t + next.count)].elementsEqual(next) {
                            w = t
                            k = j
                            continue outer
                        }
                    }
                    if p >= bytes.count { break }
                } else {
                    t += 1
                    // A token group that never matches the text (a tokenizer whose decode is
                    // not byte-faithful): give up on exact boundaries for the rest of the run.
                    if t - groupStart > 16 { break }
                }
            }
            let flag = counted(atByte: p)
            while mask.count < ids.count { mask.append(flag) }
            return mask
        }
        while mask.count < ids.count { mask.append(false) }
        return mask
    }

    /// How many bytes of `text` at `offset` the decoded bytes cover, or nil when they do not
    /// match. Tolerates the leading space SentencePiece decoders drop or add at a group start.
    static func match(_ decoded: [UInt8], in text: [UInt8], at offset: Int) -> Int? {
        func equal(_ d: ArraySlice<UInt8>, at o: Int) -> Bool {
            guard o >= 0, o + d.count <= text.count else { return false }
            return text[o..<(o + d.count)].elementsEqual(d)
        }
        if decoded.isEmpty { return 0 }
        // Replacement characters mean the group ends inside a multi-byte character.
        if decoded.count >= 3, decoded[decoded.count - 3] == 0xEF, decoded[decoded.count - 2] == 0xBF, decoded[decoded.count - 1] == 0xBD,
           !equal(decoded[...], at: offset) { return nil }
        if equal(decoded[...], at: offset) { return decoded.count }
        if offset < text.count, text[offset] == 0x20, equal(decoded[...], at: offset + 1) { return decoded.count + 1 }
        if decoded.first == 0x20, equal(decoded.dropFirst(), at: offset) { return decoded.count - 1 }
        return nil
    }
}
