import PersonaCore

/// Errors of the tensor layer, each one line a person can act on.
public enum TensorError: UserFacingError {
    case invalid(String)

    public var message: String {
        switch self {
        case .invalid(let what): return what
        }
    }
}
