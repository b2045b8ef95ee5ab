import PersonaCore

/// Errors of the model layer, each one line a person can act on.
public enum ModelError: UserFacingError {
    case invalid(String)

    public var message: String {
        switch self {
        case .invalid(let what): return what
        }
    }
}
