import PersonaData

/// One sequence to train on: tokens and which of them the loss counts.
public struct TrainingExample: Sendable, Equatable {
    public var tokens: [Int32]
    public var counted: [Bool]
    public init(tokens: [Int32], counted: [Bool]) { self.tokens = tokens; self.counted = counted }

    public init(_ chunk: Chunk) { self.init(tokens: chunk.tokens, counted: chunk.mask) }

    public var countedTokens: Int { counted.reduce(0) { $0 + ($1 ? 1 : 0) } }
}
