import Foundation

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
    public var personID: Int64
    public var conversationID: Int64
    /// Store ids of the messages shown, in order (a cut message appears once per piece).
    public var sourceMessageIDs: [Int64]
    /// Messages shown, including `overlapCount` repeated from the previous chunk as context.
    public var messageCount: Int
    public var overlapCount: Int
    public var firstMessageAt: Date

    public init(id: Int, text: String, tokens: [Int32], mask: [Bool], split: DatasetSplit, personName: String,
                personID: Int64, conversationID: Int64, sourceMessageIDs: [Int64], messageCount: Int,
                overlapCount: Int, firstMessageAt: Date) {
        self.id = id; self.text = text; self.tokens = tokens; self.mask = mask; self.split = split
        self.personName = personName; self.personID = personID; self.conversationID = conversationID
        self.sourceMessageIDs = sourceMessageIDs; self.messageCount = messageCount
        self.overlapCount = overlapCount; self.firstMessageAt = firstMessageAt
    }

    /// Tokens the loss counts.
    public var countedTokens: Int { mask.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// The mask as bytes (1 = counted), the shape trainers and the database use.
    public var maskBytes: [UInt8] { mask.map { $0 ? 1 : 0 } }
}
