/// What the sampler asks of a language model: the logits of the next token after a
/// sequence. A model with a KV cache keeps it in `State`; beam search and `n` candidates
/// fork a state to continue one sequence in several ways.
public protocol LogitsSource: AnyObject {
    associatedtype State
    var vocabularySize: Int { get }
    /// A state that has read `prompt`; writes the logits of the token after it ([vocab]).
    func start(prompt: [Int32], logits: UnsafeMutableBufferPointer<Float>) throws -> State
    /// Extends `state` by `token`; writes the logits of the token after it ([vocab]).
    func advance(_ state: inout State, by token: Int32, logits: UnsafeMutableBufferPointer<Float>) throws
    /// An independent copy of `state` (a copied KV cache).
    func fork(_ state: State) throws -> State
}

/// Why a candidate ended.
public enum StopReason: String, Sendable {
    case endToken = "end token"
    case stopString = "stop string"
    case maxTokens = "max_tokens"
    case cancelled
    case nothingAllowed = "every token was banned"
}

/// One generated continuation.
public struct GeneratedCandidate: Sendable {
    /// The generated token ids (the end token, when one ended it, is not included).
    public var tokens: [Int32]
    /// The model's log-probability of each token (before the sampler's changes), so that
    /// samplers can be compared on the same footing.
    public var logProbabilities: [Float]
    /// The text's bytes, cut before a stop string.
    public var bytes: [UInt8]
    public var stopReason: StopReason
    /// Beam mode: the length-normalised score; otherwise the sum of the log-probabilities.
    public var score: Double

    public var text: String { String(decoding: bytes, as: UTF8.self) }
}
