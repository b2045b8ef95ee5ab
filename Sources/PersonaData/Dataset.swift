import Foundation

/// What a build did besides making chunks: the counts `dataset build` reports.
public struct BuildReport: Codable, Equatable, Sendable {
    /// Conversations used (at least `minMessages` messages).
    public var conversations = 0
    /// Conversations left out for having too few messages.
    public var conversationsSkipped = 0
    /// Messages shown in chunks (each once, overlap not repeated).
    public var messagesUsed = 0
    /// Messages left out by kind (reactions, media, app notices) or for being empty.
    public var messagesDropped = 0
    /// Messages too long for one chunk, cut at a word boundary.
    public var splitMessages = 0
    /// Chunks whose mask needed the decode-based alignment (joined tokens differed from
    /// the per-message tokens at a boundary).
    public var slowAlignments = 0
    /// Times a joined chunk text was tokenized while packing, and the tokens produced
    /// (the cost of exact counting beyond one pass per message and one per chunk).
    public var joinedEncodes = 0
    public var joinedTokens = 0

    public init() {}
}

/// A built dataset: named chunks with their parameters, loadable from the workspace
/// database by name.
public final class Dataset {
    public let name: String
    public let parameters: DatasetParameters
    /// Version of the chunk format that rendered it (`ChunkFormatName.version`).
    public let formatVersion: Int
    public let chunks: [Chunk]
    public let report: BuildReport

    public init(name: String, parameters: DatasetParameters, formatVersion: Int, chunks: [Chunk], report: BuildReport) {
        self.name = name; self.parameters = parameters; self.formatVersion = formatVersion
        self.chunks = chunks; self.report = report
    }

    public func chunks(split: DatasetSplit) -> [Chunk] { chunks.filter { $0.split == split } }

    public var tokenCount: Int { chunks.reduce(0) { $0 + $1.tokens.count } }
    public var countedTokenCount: Int { chunks.reduce(0) { $0 + $1.countedTokens } }

    /// A fingerprint of the chunks' contents (FNV-1a 64 over each chunk's split, tokens, mask
    /// and source message ids, in order), as 16 hex digits: equal builds have equal digests,
    /// so a trainer can record exactly which dataset an adapter learned from.
    public private(set) lazy var contentDigest: String = {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        func mix32(_ v: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { mix(UInt8((v >> UInt32(shift)) & 0xFF)) } }
        func mix64(_ v: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8((v >> UInt64(shift)) & 0xFF)) } }
        for chunk in chunks {
            mix(chunk.split == .train ? 0 : 1)
            mix32(UInt32(chunk.tokens.count))
            for t in chunk.tokens { mix32(UInt32(bitPattern: t)) }
            for m in chunk.mask { mix(m ? 1 : 0) }
            mix32(UInt32(chunk.sourceMessageIDs.count))
            for id in chunk.sourceMessageIDs { mix64(UInt64(bitPattern: id)) }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }()

    /// The chunk at `index`, or an error naming the valid range.
    public func chunk(_ index: Int) throws -> Chunk {
        guard index >= 0, index < chunks.count else {
            throw DataError.noSuchChunk(dataset: name, index: index, count: chunks.count)
        }
        return chunks[index]
    }
}
