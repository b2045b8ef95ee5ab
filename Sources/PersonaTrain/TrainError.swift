import PersonaCore

/// Errors of the train layer, each one line a person can act on.
public enum TrainError: UserFacingError {
    case invalid(String)

    public var message: String {
        switch self {
        case .invalid(let what): return what
        }
    }
}
