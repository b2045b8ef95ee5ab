/// SentencePiece-style BPE as in Llama 2, TinyLlama and Mistral: spaces become `▁` (U+2581), a
/// dummy `▁` is put before the text, symbols start as Unicode scalars and merge by score (GGUF,
/// llama.cpp's SPM tokenizer) or by ranked merges (`tokenizer.json`); a symbol that is not in the
/// vocabulary falls back to its bytes as `<0xNN>` tokens.
public final class SentencePieceTokenizer: Tokenizer, @unchecked Sendable {
    /// How symbols merge.
    public enum Merging {
        /// One score per token: the pair whose concatenation has the highest score merges first.
        case scores([Float])
        /// `"left right"` merges in rank order (Hugging Face BPE with byte fallback).
        case merges([String])
    }

    /// Where the dummy-prefix `▁` goes.
    public enum PrefixPolicy: Sendable {
        case never
        /// Only before text at the very start of the input (Hugging Face Metaspace `first`).
        case first
        /// Before every run of text, including text after a special token (llama.cpp, legacy Llama).
        case everySegment
    }

    public let vocabularySize: Int
    public let specialTokenIds: SpecialTokenIds
    public let prefix: PrefixPolicy
    public let splitsOnSpace: Bool

    private let tokens: [String]
    private let types: [TokenType]
    private let decodedBytes: [[UInt8]]
    private let vocabulary: ByteStringTable
    private let idOfByte: [Int32]
    private let scoreRule: ScoreRule?
    private let pairRule: PairRankRule?
    private let specials: SpecialTokenMatcher
    private let pool = EncoderPool()

    static let spaceMark: [UInt8] = [0xE2, 0x96, 0x81]  // ▁

    public init(tokens: [String], types: [TokenType], merging: Merging, prefix: PrefixPolicy, splitsOnSpace: Bool,
                specialTokenIds: SpecialTokenIds, source: String) throws {
        guard !tokens.isEmpty else { throw TextError.invalid("\(source): the vocabulary is empty") }
        guard types.count == tokens.count else {
            throw TextError.invalid("\(source): \(types.count) token types for \(tokens.count) tokens")
        }
        guard tokens.count < Int(Int32.max) else {
            throw TextError.invalid("\(source): \(tokens.count) tokens is more than token ids can number (\(Int32.max))")
        }
        vocabularySize = tokens.count
        self.tokens = tokens
        self.types = types
        self.prefix = prefix
        self.splitsOnSpace = splitsOnSpace
        self.specialTokenIds = specialTokenIds

        var vocabulary = ByteStringTable(expectedCount: tokens.count)
        var idOfByte = [Int32](repeating: -1, count: 256)
        var decoded: [[UInt8]] = []
        decoded.reserveCapacity(tokens.count)
        var specialEntries: [SpecialTokenMatcher.Entry] = []
        for (index, token) in tokens.enumerated() {
            let id = Int32(index)
            let utf8 = Array(token.utf8)
            let byteValue = SentencePieceTokenizer.byteTokenValue(utf8)
            let type: TokenType = types[index] == .normal && byteValue != nil ? .byte : types[index]
            switch type {
            case .byte:
                if let b = byteValue {
                    if idOfByte[Int(b)] < 0 { idOfByte[Int(b)] = id }
                    decoded.append([b])
                } else {
                    decoded.append(utf8)
                }
            case .control, .unknown, .unused:
                if type == .control { specialEntries.append(.init(bytes: utf8, id: id, isControl: true)) }
                decoded.append(utf8)
            case .userDefined:
                specialEntries.append(.init(bytes: utf8, id: id, isControl: false))
                decoded.append(SentencePieceTokenizer.unescapeSpaces(utf8))
                vocabulary.insert(utf8, value: id)
            case .normal, .undefined:
                decoded.append(SentencePieceTokenizer.unescapeSpaces(utf8))
                vocabulary.insert(utf8, value: id)
            }
        }
        self.vocabulary = vocabulary
        self.idOfByte = idOfByte
        self.decodedBytes = decoded
        self.specials = SpecialTokenMatcher(specialEntries)

        switch merging {
        case .scores(let scores):
            guard scores.count == tokens.count else {
                throw TextError.invalid("\(source): \(scores.count) scores for \(tokens.count) tokens")
            }
            // Dense rank of scores, highest first; only ordinary tokens take part in merges.
            let mergeable = (0..<tokens.count).filter { types[$0] == .normal || types[$0] == .userDefined || types[$0] == .undefined }
            let sorted = mergeable.sorted { scores[$0] > scores[$1] }
            var rankOfId = [UInt32](repeating: UInt32.max, count: tokens.count)
            var rank: UInt32 = 0
            for (position, id) in sorted.enumerated() {
                if position > 0 && scores[id] != scores[sorted[position - 1]] { rank += 1 }
                rankOfId[id] = rank
            }
            scoreRule = ScoreRule(vocabulary: vocabulary, rankOfId: rankOfId)
            pairRule = nil
        case .merges(let merges):
            guard merges.count < Int(UInt32.max) else {
                throw TextError.invalid("\(source): \(merges.count) merges is more than ranks can number")
            }
            var table = MergeTable(expectedCount: merges.count)
            for (rank, merge) in merges.enumerated() {
                let utf8 = Array(merge.utf8)
                guard let space = utf8.firstIndex(of: 0x20), space > 0, space < utf8.count - 1 else {
                    throw TextError.invalid("\(source): merge \(rank) '\(merge)' is not two tokens separated by one space")
                }
                let left = Array(utf8[..<space]), right = Array(utf8[(space + 1)...])
                guard let l = vocabulary.value(for: left), let r = vocabulary.value(for: right),
                      let m = vocabulary.value(for: left + right) else { continue }
                table.insert(left: l, right: r, rank: UInt32(rank), merged: m)
            }
            pairRule = PairRankRule(table: table)
            scoreRule = nil
        }
    }

    /// `<0x41>` → 0x41.
    static func byteTokenValue(_ utf8: [UInt8]) -> UInt8? {
        guard utf8.count == 6, utf8[0] == UInt8(ascii: "<"), utf8[1] == UInt8(ascii: "0"), utf8[2] == UInt8(ascii: "x"),
              utf8[5] == UInt8(ascii: ">") else { return nil }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            default: return nil
            }
        }
        guard let hi = hex(utf8[3]), let lo = hex(utf8[4]) else { return nil }
        return hi << 4 | lo
    }

    /// `▁` → space.
    static func unescapeSpaces(_ utf8: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            if i + 2 < utf8.count, utf8[i] == 0xE2, utf8[i + 1] == 0x96, utf8[i + 2] == 0x81 { out.append(0x20); i += 3 }
            else { out.append(utf8[i]); i += 1 }
        }
        return out
    }

    public var kindDescription: String {
        "SentencePiece BPE (\(scoreRule != nil ? "scores" : "merges"), byte fallback\(prefix == .never ? "" : ", dummy prefix"))"
    }

    public var decodeStripsLeadingSpace: Bool { prefix != .never }

    public func encode(_ text: String, parseSpecialTokens: Bool) -> [Int32] {
        var text = text
        return text.withUTF8 { buffer -> [Int32] in
            let utf8 = UTF8Text(bytes: buffer)
            var out: [Int32] = []
            out.reserveCapacity(buffer.count / 3 + 4)
            pool.withState { state in
                var position = 0
                while let match = specials.nextMatch(in: utf8, from: position, parseControl: parseSpecialTokens) {
                    if position < match.start { encodePlain(utf8, position..<match.start, state: &state, into: &out) }
                    out.append(match.id)
                    position = match.start + match.length
                }
                if position < utf8.count { encodePlain(utf8, position..<utf8.count, state: &state, into: &out) }
            }
            return out
        }
    }

    private func encodePlain(_ text: UTF8Text, _ range: Range<Int>, state: inout EncoderState, into out: inout [Int32]) {
        // Normalise: the dummy prefix, and every space as ▁.
        state.scratch.removeAll(keepingCapacity: true)
        let addPrefix: Bool
        switch prefix {
        case .never: addPrefix = false
        case .first: addPrefix = range.lowerBound == 0
        case .everySegment: addPrefix = true
        }
        if addPrefix { state.scratch.append(contentsOf: SentencePieceTokenizer.spaceMark) }
        for i in range {
            let b = text.bytes[i]
            if b == 0x20 { state.scratch.append(contentsOf: SentencePieceTokenizer.spaceMark) } else { state.scratch.append(b) }
        }
        let scratch = state.scratch
        scratch.withUnsafeBufferPointer { normalized in
            let n = normalized.count
            var pieceStart = 0
            var i = 0
            while i < n {
                let isMark = i + 2 < n && normalized[i] == 0xE2 && normalized[i + 1] == 0x96 && normalized[i + 2] == 0x81
                if splitsOnSpace && isMark && i > pieceStart {
                    encodePiece(normalized, pieceStart..<i, merger: &state.merger, into: &out)
                    pieceStart = i
                }
                i += isMark ? 3 : UTF8Text(bytes: normalized).scalarLength(at: i)
            }
            if pieceStart < n { encodePiece(normalized, pieceStart..<n, merger: &state.merger, into: &out) }
        }
    }

    private func encodePiece(_ bytes: UnsafeBufferPointer<UInt8>, _ piece: Range<Int>, merger: inout BPEMerger, into out: inout [Int32]) {
        let text = UTF8Text(bytes: bytes)
        let raw = UnsafeRawBufferPointer(bytes)
        merger.reset()
        var i = piece.lowerBound
        while i < piece.upperBound {
            let length = min(text.scalarLength(at: i), piece.upperBound - i)
            let id = vocabulary.value(for: UnsafeRawBufferPointer(rebasing: raw[i..<(i + length)])) ?? -1
            merger.append(start: i, end: i + length, id: id)
            i += length
        }
        if let rule = scoreRule { merger.mergeAll(rule, bytes: bytes) } else if let rule = pairRule { merger.mergeAll(rule, bytes: bytes) }
        merger.forEachSymbol { id, start, end in
            if id >= 0 { out.append(id); return }
            // Byte fallback when every byte has its <0xNN> token; otherwise one unknown token for
            // the symbol, as Hugging Face BPE does without byte fallback.
            if (start..<end).allSatisfy({ idOfByte[Int(bytes[$0])] >= 0 }) {
                for b in start..<end { out.append(idOfByte[Int(bytes[b])]) }
            } else if let unknown = specialTokenIds.unknown {
                out.append(unknown)
            }
        }
    }

    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && Int(id) < vocabularySize { bytes.append(contentsOf: decodedBytes[Int(id)]) }
        if decodeStripsLeadingSpace, bytes.first == 0x20 { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func tokenBytes(_ id: Int32) -> [UInt8] {
        guard id >= 0, Int(id) < vocabularySize else { return [] }
        return decodedBytes[Int(id)]
    }

    public func tokenText(_ id: Int32) -> String? {
        guard id >= 0, Int(id) < vocabularySize else { return nil }
        return tokens[Int(id)]
    }

    public func isSpecial(_ id: Int32) -> Bool {
        guard id >= 0, Int(id) < vocabularySize else { return false }
        return types[Int(id)] == .control
    }

    public func tokenId(forText text: String) -> Int32? {
        let utf8 = Array(text.utf8)
        if let entry = specials.entries.first(where: { $0.bytes == utf8 }) { return entry.id }
        if let id = vocabulary.value(for: utf8) { return id }
        return tokens.firstIndex(of: text).map { Int32($0) }
    }
}
