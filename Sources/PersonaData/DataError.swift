import PersonaCore

/// Errors of the data layer, each one line a person can act on.
public enum DataError: UserFacingError {
    case invalid(String)

    public var message: String {
        switch self {
        case .invalid(let what): return what
        }
    }
}
