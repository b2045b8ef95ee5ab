import PersonaCore

/// Errors of the sample layer, each one line a person can act on.
public enum SampleError: UserFacingError, Equatable {
    /// A sampler parameter with a value outside its range: the key, the value, what is expected.
    case badParameter(key: String, value: String, expected: String)
    /// A key that no sampler parameter has.
    case unknownParameter(String)
    /// A token id outside the vocabulary (in logit_bias or suppress_tokens).
    case tokenOutOfRange(key: String, id: Int, vocabularySize: Int)
    /// String suppression, stop strings or DRY breakers were asked for without token texts.
    case needsVocabulary(String)
    /// The logits source returned a buffer of the wrong size, or failed.
    case source(String)
    case invalid(String)

    public var message: String {
        switch self {
        case .badParameter(let key, let value, let expected):
            return "sampler: \(key)=\(value) is not valid; expected \(expected)"
        case .unknownParameter(let key): return "sampler: unknown parameter '\(key)'"
        case .tokenOutOfRange(let key, let id, let size):
            return "sampler: \(key) names token \(id), outside the vocabulary of \(size) tokens (0..<\(size))"
        case .needsVocabulary(let what): return "sampler: \(what) needs the tokenizer's token texts"
        case .source(let what): return "generation: \(what)"
        case .invalid(let what): return what
        }
    }

    public var hint: String? {
        switch self {
        case .unknownParameter: return "'help sampler' lists the parameters"
        default: return nil
        }
    }
}
