import PersonaCore

/// Errors of the text layer, each one line a person can act on.
public enum TextError: UserFacingError {
    case invalid(String)

    public var message: String {
        switch self {
        case .invalid(let what): return what
        }
    }
}
