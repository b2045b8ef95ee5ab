import PersonaCore

/// Errors of the sample layer, each one line a person can act on.
public enum SampleError: UserFacingError {
    case invalid(String)

    public var message: String {
        switch self {
        case .invalid(let what): return what
        }
    }
}
