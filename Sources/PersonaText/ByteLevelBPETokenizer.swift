import Foundation

/// The pre-tokenizers of the byte-level BPE families this tokenizer supports, by the names
/// GGUF's `tokenizer.ggml.pre` uses.
public enum ByteLevelPreTokenization: String, CaseIterable, Sendable {
    /// SmolLM / StarCoder: every digit alone, then the GPT-2 pattern.
    case smollm
    /// GPT-2's pattern.
    case gpt2
    /// Llama 3's pattern (case-insensitive contractions, 1–3 digit groups).
    case llama3
    /// Qwen2's pattern (as Llama 3, single digits).
    case qwen2

    /// The stages as Hugging Face describes them; `preTokenizer` is the fused equivalent.
    var stages: any PreTokenizer {
        switch self {
        case .smollm: return PreTokenizerChain(stages: [IndividualDigitsSplitter(), PatternSplitter(pattern: .gpt2)])
        default: return preTokenizer
        }
    }

    var preTokenizer: PatternSplitter {
        switch self {
        case .smollm: return PatternSplitter(pattern: .gpt2, isolatesNumbers: true)
        case .gpt2: return PatternSplitter(pattern: .gpt2)
        case .llama3: return PatternSplitter(pattern: .llama3)
        case .qwen2: return PatternSplitter(pattern: .qwen2)
        }
    }
}

/// Byte-level BPE as in GPT-2, SmolLM2, Llama 3 and Qwen2: text is cut by the family's
/// pre-tokenizer, each piece's UTF-8 bytes start as one symbol each (the vocabulary writes
/// bytes in GPT-2's alphabet), and ranked merges join them.
public final class ByteLevelBPETokenizer: Tokenizer, @unchecked Sendable {
    public let vocabularySize: Int
    public let specialTokenIds: SpecialTokenIds
    public let preTokenization: ByteLevelPreTokenization
    /// Hugging Face `ignore_merges` (Llama 3): a piece that is a vocabulary entry is one token.
    public let ignoresMerges: Bool
    /// Hugging Face `NFC` normalizer (Qwen2): text is composed before anything else.
    public let normalizesNFC: Bool

    private let tokens: [String]
    private let types: [TokenType]
    /// Decoded bytes of every token, flat: token i is decodedBytes[decodedOffsets[i]..<decodedOffsets[i+1]].
    private let decodedBytes: [UInt8]
    private let decodedOffsets: [Int32]
    /// Bytes → id of the ordinary tokens (for ignore_merges and `tokenId(forText:)` of pieces).
    private let vocabulary: ByteStringTable
    private let idOfByte: [Int32]
    private let mergeRule: PairRankRule
    private let preTokenizer: PatternSplitter
    private let specials: SpecialTokenMatcher
    private let pool = EncoderPool()

    /// - Parameters:
    ///   - tokens: vocabulary entries by id, in GPT-2's byte alphabet (added tokens as plain text).
    ///   - types: token types by id (control and user-defined tokens are matched before BPE).
    ///   - merges: `"left right"` in rank order (best first).
    public init(tokens: [String], types: [TokenType], merges: [String], preTokenization: ByteLevelPreTokenization,
                ignoresMerges: Bool = false, normalizesNFC: Bool = false, specialTokenIds: SpecialTokenIds, source: String) throws {
        guard !tokens.isEmpty else { throw TextError.invalid("\(source): the vocabulary is empty") }
        guard types.count == tokens.count else {
            throw TextError.invalid("\(source): \(types.count) token types for \(tokens.count) tokens")
        }
        guard tokens.count < Int(Int32.max) else {
            throw TextError.invalid("\(source): \(tokens.count) tokens is more than token ids can number (\(Int32.max))")
        }
        self.vocabularySize = tokens.count
        self.tokens = tokens
        self.types = types
        self.preTokenization = preTokenization
        self.preTokenizer = preTokenization.preTokenizer
        self.ignoresMerges = ignoresMerges
        self.normalizesNFC = normalizesNFC
        self.specialTokenIds = specialTokenIds

        var decoded: [UInt8] = []
        decoded.reserveCapacity(tokens.count * 8)
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(tokens.count + 1)
        var vocabulary = ByteStringTable(expectedCount: tokens.count)
        var idOfByte = [Int32](repeating: -1, count: 256)
        var specialEntries: [SpecialTokenMatcher.Entry] = []
        for (index, token) in tokens.enumerated() {
            let id = Int32(index)
            let start = decoded.count
            var token = token
            let mapped = token.withUTF8 { ByteLevelAlphabet.appendBytes(ofUTF8: $0, to: &decoded) }
            // Hugging Face's ByteLevel decoder keeps a token's own UTF-8 when a character is outside the alphabet.
            if !mapped { decoded.removeSubrange(start...); decoded.append(contentsOf: token.utf8) }
            offsets.append(Int32(decoded.count))
            let type = types[index]
            if type.isAdded {
                specialEntries.append(.init(bytes: Array(token.utf8), id: id, isControl: type == .control))
            } else if mapped {
                decoded.withUnsafeBytes { buf in
                    let key = UnsafeRawBufferPointer(rebasing: buf[start..<decoded.count])
                    vocabulary.insert(key, value: id)
                    if key.count == 1, idOfByte[Int(key[0])] < 0 { idOfByte[Int(key[0])] = id }
                }
            }
        }
        self.decodedBytes = decoded
        self.decodedOffsets = offsets
        self.vocabulary = vocabulary
        self.idOfByte = idOfByte
        self.specials = SpecialTokenMatcher(specialEntries)

        guard merges.count < Int(UInt32.max) else {
            throw TextError.invalid("\(source): \(merges.count) merges is more than ranks can number")
        }
        var table = MergeTable(expectedCount: merges.count)
        var keyBytes: [UInt8] = []
        for (rank, merge) in merges.enumerated() {
            var merge = merge
            let parsed: (Int32, Int32, Int32)?? = merge.withUTF8 { utf8 in
                guard let space = utf8.firstIndex(of: 0x20), space > 0, space < utf8.count - 1 else { return .some(nil) }
                keyBytes.removeAll(keepingCapacity: true)
                guard ByteLevelAlphabet.appendBytes(ofUTF8: UnsafeBufferPointer(rebasing: utf8[..<space]), to: &keyBytes) else { return nil }
                let leftLength = keyBytes.count
                guard ByteLevelAlphabet.appendBytes(ofUTF8: UnsafeBufferPointer(rebasing: utf8[(space + 1)...]), to: &keyBytes) else { return nil }
                return keyBytes.withUnsafeBytes { kb in
                    guard let left = vocabulary.value(for: UnsafeRawBufferPointer(rebasing: kb[0..<leftLength])),
                          let right = vocabulary.value(for: UnsafeRawBufferPointer(rebasing: kb[leftLength...])),
                          let merged = vocabulary.value(for: kb) else { return nil }
                    return (left, right, merged)
                }
            }
            switch parsed {
            case .some(.none):
                throw TextError.invalid("\(source): merge \(rank) '\(merge)' is not two tokens separated by one space")
            case .some(.some(let ids)):
                table.insert(left: ids.0, right: ids.1, rank: UInt32(rank), merged: ids.2)
            case .none:
                // Hugging Face refuses merges whose parts or result are not in the vocabulary; skip them.
                continue
            }
        }
        self.mergeRule = PairRankRule(table: table)
    }

    public var kindDescription: String { "byte-level BPE (pre-tokenizer \(preTokenization.rawValue)\(ignoresMerges ? ", ignore merges" : ""))" }

    public func encode(_ text: String, parseSpecialTokens: Bool) -> [Int32] {
        var text = normalizesNFC ? text.precomposedStringWithCanonicalMapping : text
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
        state.pieces.removeAll(keepingCapacity: true)
        preTokenizer.split(text, range, into: &state.pieces)
        let raw = UnsafeRawBufferPointer(text.bytes)
        for piece in state.pieces {
            let key = UnsafeRawBufferPointer(rebasing: raw[piece])
            if state.cache.lookup(key, into: &out) { continue }
            let before = out.count
            encodePiece(text, piece, key: key, merger: &state.merger, into: &out)
            state.cache.insert(key, ids: out[before...])
        }
    }

    @inline(__always)
    private func encodePiece(_ text: UTF8Text, _ piece: Range<Int>, key: UnsafeRawBufferPointer,
                             merger: inout BPEMerger, into out: inout [Int32]) {
        if piece.count == 1 {
            let id = idOfByte[Int(text.bytes[piece.lowerBound])]
            if id >= 0 { out.append(id) }
            return
        }
        if ignoresMerges, let id = vocabulary.value(for: key) { out.append(id); return }
        merger.reset()
        for i in piece {
            let id = idOfByte[Int(text.bytes[i])]
            // A byte with no token is dropped, as Hugging Face BPE does without an unknown token.
            if id >= 0 { merger.append(start: i, end: i + 1, id: id) }
        }
        merger.mergeAll(mergeRule, bytes: text.bytes)
        merger.forEachSymbol { id, _, _ in out.append(id) }
    }

    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids where id >= 0 && Int(id) < vocabularySize {
            bytes.append(contentsOf: decodedBytes[Int(decodedOffsets[Int(id)])..<Int(decodedOffsets[Int(id) + 1])])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func tokenBytes(_ id: Int32) -> [UInt8] {
        guard id >= 0, Int(id) < vocabularySize else { return [] }
        return Array(decodedBytes[Int(decodedOffsets[Int(id)])..<Int(decodedOffsets[Int(id) + 1])])
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
        var bytes: [UInt8] = []
        let mapped = utf8.withUnsafeBufferPointer { ByteLevelAlphabet.appendBytes(ofUTF8: $0, to: &bytes) }
        return mapped ? vocabulary.value(for: bytes) : nil
    }

    /// Naive-path encoding of one piece (every piece merged from scratch with the scan merger,
    /// no cache): the oracle the tests compare the cached, heap-merging path against.
    func encodeWithoutCache(_ text: String, parseSpecialTokens: Bool, forceScan: Bool) -> [Int32] {
        var text = text
        return text.withUTF8 { buffer -> [Int32] in
            let utf8 = UTF8Text(bytes: buffer)
            var out: [Int32] = []
            var merger = BPEMerger()
            specials.split(utf8, parseControl: parseSpecialTokens, { range in
                var pieces: [Range<Int>] = []
                self.preTokenizer.split(utf8, range, into: &pieces)
                for piece in pieces {
                    if self.ignoresMerges, let id = self.vocabulary.value(for: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[piece])) {
                        out.append(id); continue
                    }
                    merger.reset()
                    for i in piece where self.idOfByte[Int(buffer[i])] >= 0 {
                        merger.append(start: i, end: i + 1, id: self.idOfByte[Int(buffer[i])])
                    }
                    merger.mergeAll(self.mergeRule, bytes: buffer, forceScan: forceScan)
                    merger.forEachSymbol { id, _, _ in out.append(id) }
                }
            }, { out.append($0) })
            return out
        }
    }
}
