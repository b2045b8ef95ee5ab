import PersonaCore

/// Errors of the text layer, each one line a person can act on.
public enum TextError: UserFacingError {
    /// A model file or folder whose tokenizer data is malformed.
    case invalid(String)
    /// A tokenizer kind or pre-tokenizer this program does not implement.
    case unsupported(what: String, value: String, supported: [String])
    /// A chat template none of the supported families matches.
    case unrecognisedChatTemplate(source: String, excerpt: String)
    /// A chat that a template cannot render (roles out of order, unknown role).
    case badChat(String)

    public var message: String {
        switch self {
        case .invalid(let what): return what
        case .unsupported(let what, let value, let supported):
            return "\(what) '\(value)' is not supported (supported: \(supported.joined(separator: ", ")))"
        case .unrecognisedChatTemplate(let source, let excerpt):
            return "\(source): the chat template is not one of the known families (starts: \(excerpt))"
        case .badChat(let what): return what
        }
    }

    public var hint: String? {
        switch self {
        case .unrecognisedChatTemplate:
            return "choose one explicitly: template=" + ChatTemplateFamily.allCases.map(\.rawValue).joined(separator: "|")
        default: return nil
        }
    }
}
