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

    /// The chunk at `index`, or an error naming the valid range.
    public func chunk(_ index: Int) throws -> Chunk {
        guard index >= 0, index < chunks.count else {
            throw DataError.noSuchChunk(dataset: name, index: index, count: chunks.count)
        }
        return chunks[index]
    }
}
