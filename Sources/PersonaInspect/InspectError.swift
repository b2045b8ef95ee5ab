import PersonaCore

/// Errors of the inspect layer, each one line a person can act on.
public enum InspectError: UserFacingError {
    case invalid(String)

    public var message: String {
        switch self {
        case .invalid(let what): return what
        }
    }
}
