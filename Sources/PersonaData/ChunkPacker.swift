import Foundation
import PersonaText

/// One chunk as packing produces it, before it is numbered and given a split.
struct PackedChunk {
    var text: String
    var tokens: [Int32]
    var mask: [Bool]
    /// Store ids of the messages shown, in order (a split message appears once per piece).
    var sourceMessageIDs: [Int64]
    /// Messages shown, overlap included.
    var unitCount: Int
    /// How many of them were repeated from the previous chunk for context.
    var overlapCount: Int
    var firstMessageAt: Date
    /// Input messages it shows, by index into the packed segment.
    var origins: Range<Int>
    var headerText: String
    var turns: [ChunkTurn]
}

/// Packs the messages of one conversation into chunks under the token budget.
///
/// Each message is rendered and tokenized once; a chunk's end is first chosen from those
/// per-message counts (plus the boundary slack seen in the previous chunk), then the
/// joined chunk is tokenized and the end moved until the exact count fits. A message that
/// does not fit alone is cut at a word boundary, with `…` marking the cut on both sides.
final class ChunkPacker {
    struct PreparedUnit {
        var unit: MessageUnit
        var encoded: EncodedSpans
        /// Index of the input message it came from (both pieces of a cut message share it).
        var origin: Int
        var cost: Int { encoded.estimatedCount }
    }

    static let cutMarker = "…"

    let layout: ChunkLayout
    let encoder: SpanEncoder
    let budget: Int
    let me: String
    let them: String
    let relationship: String?
    /// Messages cut because they did not fit a chunk alone (by their first store id, so a
    /// segment packed twice counts each once).
    private(set) var cutMessageIDs = Set<Int64>()
    var splitMessages: Int { cutMessageIDs.count }
    /// Extra tokens the joined text took over the per-span estimate in the last chunk.
    private var slack = 0
    private var headerCache: [String: EncodedSpans] = [:]

    init(layout: ChunkLayout, tokenizer: Tokenizer, budget: Int, me: String, them: String, relationship: String?) {
        self.layout = layout
        self.encoder = SpanEncoder(tokenizer: tokenizer)
        self.budget = budget
        self.me = me; self.them = them; self.relationship = relationship
    }

    func prepare(_ unit: MessageUnit, origin: Int) -> PreparedUnit {
        PreparedUnit(unit: unit, encoded: encoder.encodeSpans(layout.message(unit)), origin: origin)
    }

    private func context(at date: Date) -> ChunkContext {
        ChunkContext(me: me, them: them, date: date, relationship: relationship)
    }

    private func cachedSpans(_ spans: [RenderedSpan]) -> EncodedSpans {
        let key = spans.map(\.text).joined(separator: "\u{0}")
        if let hit = headerCache[key] { return hit }
        let encoded = encoder.encodeSpans(spans)
        if headerCache.count > 4096 { headerCache.removeAll(keepingCapacity: true) }
        headerCache[key] = encoded
        return encoded
    }

    /// Header, the units `range` (the first `overlapCount` as uncounted context) and footer.
    private func assemble(_ units: [PreparedUnit], _ range: Range<Int>, overlapCount: Int,
                          header: EncodedSpans, footer: EncodedSpans) -> EncodedSpans {
        var joined = header
        for i in range {
            var encoded = units[i].encoded
            if i - range.lowerBound < overlapCount {
                for s in encoded.spans.indices { encoded.spans[s].counted = false }
            }
            joined.spans.append(contentsOf: encoded.spans)
            joined.spanTokens.append(contentsOf: encoded.spanTokens)
        }
        joined.spans.append(contentsOf: footer.spans)
        joined.spanTokens.append(contentsOf: footer.spanTokens)
        return joined
    }

    /// Packs `units` (one segment: consecutive messages that may share a chunk) into chunks.
    /// With `overlap` k, the last k messages of a chunk open the next as context.
    func pack(_ input: [MessageUnit], overlap: Int) throws -> [PackedChunk] {
        var units = input.enumerated().map { prepare($0.element, origin: $0.offset) }
        var chunks: [PackedChunk] = []
        var start = 0
        var previousEnd = 0
        while start < units.count {
            let overlapCount = previousEnd - start
            let ctx = context(at: units[start].unit.sentAt)
            let header = cachedSpans(layout.header(ctx))
            let footer = cachedSpans(layout.footer(ctx))
            let fixed = header.estimatedCount + footer.estimatedCount

            // First guess from the per-message counts.
            var end = start
            var estimate = fixed + slack
            while end < units.count, estimate + units[end].cost <= budget {
                estimate += units[end].cost
                end += 1
            }
            end = max(end, start + 1)

            // Exact: shrink until the joined text fits, then try to grow while it still does.
            var joined = assemble(units, start..<end, overlapCount: overlapCount, header: header, footer: footer)
            var runs = encoder.encodeRuns(joined)
            while runs.count > budget, end > start + 1 {
                end -= 1
                joined = assemble(units, start..<end, overlapCount: overlapCount, header: header, footer: footer)
                runs = encoder.encodeRuns(joined)
            }
            var count = runs.count
            if count > budget {
                if overlapCount > 0 {
                    // The context alone does not fit with the next message: open with less of it.
                    start += 1
                    continue
                }
                try cut(&units, at: start, header: header, footer: footer)
                continue
            }
            // Joining can merge tokens across a boundary, so a message that the estimate
            // rejects may still fit: try while the estimate is within two tokens.
            while end < units.count, count + units[end].cost <= budget + 2 {
                let trial = assemble(units, start..<(end + 1), overlapCount: overlapCount, header: header, footer: footer)
                let trialRuns = encoder.encodeRuns(trial)
                guard trialRuns.count <= budget else { break }
                end += 1
                joined = trial
                runs = trialRuns
                count = trialRuns.count
            }
            if end <= previousEnd {
                // Context only, nothing new: open the next chunk with less context.
                start += 1
                continue
            }
            let unitsEstimate = units[start..<end].reduce(0) { $0 + $1.cost }
            slack = max(0, count - fixed - unitsEstimate)

            let exact = encoder.encodeExact(joined, runs: runs)
            var ids: [Int64] = []
            var turns: [ChunkTurn] = []
            for (i, u) in units[start..<end].enumerated() {
                ids.append(contentsOf: u.unit.sourceIDs)
                turns.append(ChunkTurn(fromMe: u.unit.fromMe, name: u.unit.senderName, text: u.unit.text,
                                       counted: i >= overlapCount && layout.counts(fromMe: u.unit.fromMe),
                                       sourceIDs: u.unit.sourceIDs))
            }
            chunks.append(PackedChunk(text: joined.spans.map(\.text).joined(), tokens: exact.tokens, mask: exact.mask,
                                      sourceMessageIDs: ids, unitCount: end - start, overlapCount: overlapCount,
                                      firstMessageAt: units[start].unit.sentAt,
                                      origins: units[start].origin..<(units[end - 1].origin + 1),
                                      headerText: header.spans.map(\.text).joined(), turns: turns))
            previousEnd = end
            if end >= units.count { break }
            start = overlap > 0 ? max(end - overlap, start + 1) : end
        }
        return chunks
    }

    /// The scalar position where a head of `unit` would about fill a chunk: the message's own
    /// tokens, less those the header, footer and line markup take.
    private func estimatedCut(_ unit: MessageUnit, scalars: [Unicode.Scalar], header: EncodedSpans, footer: EncodedSpans) -> Int {
        var empty = unit
        empty.text = Self.cutMarker
        let overhead = header.estimatedCount + footer.estimatedCount + prepare(empty, origin: 0).cost + slack
        let room = max(1, budget - overhead)
        let tokens = encoder.tokenizer.encode(unit.text, parseSpecialTokens: false)
        guard tokens.count > room else { return scalars.count }
        let prefixBytes = encoder.tokenizer.decode(Array(tokens[0..<room])).utf8.count
        var bytes = 0
        for (i, scalar) in scalars.enumerated() {
            bytes += UTF8.width(scalar)
            if bytes > prefixBytes { return i }
        }
        return scalars.count
    }

    /// Cuts `units[index]`, which does not fit a chunk alone, into a longest head that does
    /// (at a word boundary when one fits, else at a character) and the rest.
    private func cut(_ units: inout [PreparedUnit], at index: Int, header: EncodedSpans, footer: EncodedSpans) throws {
        let unit = units[index].unit
        let view = unit.text.unicodeScalars
        let scalars = Array(view)
        // Scalar positions as string indices, so pieces are sliced rather than rebuilt.
        var positions = Array(view.indices)
        positions.append(view.endIndex)
        func text(_ range: Range<Int>) -> String { String(view[positions[range.lowerBound]..<positions[range.upperBound]]) }
        func head(_ cut: Int) -> MessageUnit {
            var piece = unit
            var t = text(0..<cut)
            while t.unicodeScalars.last.map({ $0.properties.isWhitespace }) == true { t.unicodeScalars.removeLast() }
            piece.text = t + " " + Self.cutMarker
            piece.isSplitPiece = true
            return piece
        }
        func fits(_ cut: Int) -> Bool {
            let piece = prepare(head(cut), origin: 0)
            return encoder.encodeRuns(assemble([piece], 0..<1, overlapCount: 0, header: header, footer: footer)).count <= budget
        }
        // The largest fitting candidate by bisection (fitting is monotone in the cut position).
        func largestFitting(_ candidates: [Int]) -> Int? {
            var lo = 0, hi = candidates.count - 1
            var best: Int? = nil
            while lo <= hi {
                let mid = (lo + hi) / 2
                if fits(candidates[mid]) { best = candidates[mid]; lo = mid + 1 } else { hi = mid - 1 }
            }
            return best
        }
        // Word starts after whitespace, so the head ends at the end of a word.
        var wordCuts: [Int] = []
        for i in 1..<max(1, scalars.count) where scalars[i - 1].properties.isWhitespace && !scalars[i].properties.isWhitespace {
            wordCuts.append(i)
        }
        // A piece already opens with "… ", so its cut must keep more than the marker, or the
        // rest would be no shorter than the piece and cutting would never end.
        let minimumCut = unit.isSplitPiece ? 3 : 1
        let candidates = wordCuts.filter { $0 >= minimumCut }
        var chosen: Int? = nil
        if !candidates.isEmpty {
            // Start from where the token count says the budget runs out, then step by words:
            // usually one or two exact checks instead of a bisection over the whole message.
            let guess = estimatedCut(unit, scalars: scalars, header: header, footer: footer)
            var i = candidates.lastIndex(where: { $0 <= guess }) ?? 0
            if fits(candidates[i]) {
                while i + 1 < candidates.count, fits(candidates[i + 1]) { i += 1 }
                chosen = candidates[i]
            } else {
                while i > 0, !fits(candidates[i - 1]) { i -= 1 }
                chosen = i > 0 ? candidates[i - 1] : nil
            }
        }
        if chosen == nil, scalars.count > minimumCut {
            chosen = largestFitting(Array(minimumCut..<scalars.count))
        }
        guard let cutAt = chosen else {
            throw DataError.budgetTooSmall(maxTokens: budget, headerTokens: encoder.encodeRuns(assemble([], 0..<0, overlapCount: 0, header: header, footer: footer)).count,
                                           conversation: them)
        }
        var rest = unit
        var tail = text(cutAt..<scalars.count)
        while tail.unicodeScalars.first.map({ $0.properties.isWhitespace }) == true { tail.unicodeScalars.removeFirst() }
        rest.text = Self.cutMarker + " " + tail
        rest.isSplitPiece = true
        if let id = unit.sourceIDs.first { cutMessageIDs.insert(id) }
        let origin = units[index].origin
        units[index] = prepare(head(cutAt), origin: origin)
        units.insert(prepare(rest, origin: origin), at: index + 1)
    }
}
