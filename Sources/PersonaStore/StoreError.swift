import PersonaCore

/// Errors of the store layer, each one line a person can act on.
public enum StoreError: UserFacingError {
    case invalid(String)

    public var message: String {
        switch self {
        case .invalid(let what): return what
        }
    }
}
