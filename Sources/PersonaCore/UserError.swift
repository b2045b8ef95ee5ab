/// An error a person can act on: one line that says what was wrong and, where the fix
/// is known, what to do. Each layer defines its own enum conforming to this.
public protocol UserFacingError: Error, CustomStringConvertible {
    /// One line: the file, line or byte offset (or the command), what was wrong, what was expected.
    var message: String { get }
    /// How to fix it, when that is known.
    var hint: String? { get }
}

extension UserFacingError {
    public var hint: String? { nil }
    public var description: String {
        if let hint { return "\(message) (\(hint))" }
        return message
    }
}

/// Renders any error as the single line the user sees.
public func describeError(_ error: Error) -> String {
    if let userError = error as? UserFacingError { return userError.description }
    return String(describing: error)
}
