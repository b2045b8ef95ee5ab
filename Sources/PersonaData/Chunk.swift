import Foundation

/// One message (or merged burst, or piece of a cut message) as a chunk shows it.
public struct ChunkTurn: Codable, Equatable, Sendable {
    public var fromMe: Bool
    public var name: String
    public var text: String
    /// Whether the loss counts it (the imitated person's, and not overlap context).
    public var counted: Bool
    public var sourceIDs: [Int64]

    public init(fromMe: Bool, name: String, text: String, counted: Bool, sourceIDs: [Int64]) {
        self.fromMe = fromMe; self.name = name; self.text = text; self.counted = counted; self.sourceIDs = sourceIDs
    }
}

/// One training example: a prompt header and a run of consecutive messages of one
/// conversation, with its exact tokens and the per-token loss mask.
public struct Chunk: Equatable, Sendable {
    /// Position in the dataset (`dataset show chats[12]`).
    public var id: Int
    public var text: String
    /// The tokens of `text` (no BOS/EOS; trainers add what their model expects).
    public var tokens: [Int32]
    /// One flag per token: true where the loss counts the token (the imitated person's
    /// messages; never the prompt header or overlap context).
    public var mask: [Bool]
    public var split: DatasetSplit
    /// The other person of the conversation ("Alice").
    public var personName: String
    /// The workspace owner's display name ("Ed").
    public var meName: String
    public var personID: Int64
    public var conversationID: Int64
    /// Store ids of the messages shown, in order (a cut message appears once per piece).
    public var sourceMessageIDs: [Int64]
    /// Messages shown, including `overlapCount` repeated from the previous chunk as context.
    public var messageCount: Int
    public var overlapCount: Int
    public var firstMessageAt: Date
    /// The text before the first message (the prompt header), never counted by the loss.
    public var headerText: String
    /// The messages shown, in order (for exports in chat shape and for `dataset show`).
    public var turns: [ChunkTurn]

    public init(id: Int, text: String, tokens: [Int32], mask: [Bool], split: DatasetSplit, personName: String,
                meName: String, personID: Int64, conversationID: Int64, sourceMessageIDs: [Int64], messageCount: Int,
                overlapCount: Int, firstMessageAt: Date, headerText: String, turns: [ChunkTurn]) {
        self.id = id; self.text = text; self.tokens = tokens; self.mask = mask; self.split = split
        self.personName = personName; self.meName = meName; self.personID = personID; self.conversationID = conversationID
        self.sourceMessageIDs = sourceMessageIDs; self.messageCount = messageCount
        self.overlapCount = overlapCount; self.firstMessageAt = firstMessageAt
        self.headerText = headerText; self.turns = turns
    }

    /// Tokens the loss counts.
    public var countedTokens: Int { mask.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// The mask as bytes (1 = counted), the shape trainers and the database use.
    public var maskBytes: [UInt8] { mask.map { $0 ? 1 : 0 } }
}
