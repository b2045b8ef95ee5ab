import PersonaCore

/// Errors of the model layer, each one line a person can act on.
public enum ModelError: UserFacingError {
    case invalid(String)
    /// A weight's shape or format does not fit the configuration.
    case badWeight(tensor: String, expected: String, actual: String)
    /// A token id outside the vocabulary.
    case tokenOutOfRange(id: Int, position: Int, vocabSize: Int)
    /// More positions than the KV cache (or the model) can hold.
    case contextFull(needed: Int, capacity: Int, limit: String)
    /// Inputs that do not fit together (batch shapes, masks).
    case badInput(String)

    public var message: String {
        switch self {
        case .invalid(let what): return what
        case .badWeight(let tensor, let expected, let actual):
            return "tensor \(tensor): expected \(expected), found \(actual)"
        case .tokenOutOfRange(let id, let position, let vocabSize):
            return "token id \(id) at position \(position) is outside the vocabulary (0..<\(vocabSize))"
        case .contextFull(let needed, let capacity, let limit):
            return "context full: \(needed) positions needed, but the \(limit) holds \(capacity)"
        case .badInput(let what): return what
        }
    }

    public var hint: String? {
        switch self {
        case .contextFull: return "shorten the text, or make a cache with a larger capacity (at most the model's context length)"
        default: return nil
        }
    }
}
