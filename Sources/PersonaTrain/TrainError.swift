import Foundation
import PersonaCore

/// Errors of the train layer, each one line a person can act on.
public enum TrainError: UserFacingError {
    case invalid(String)
    /// A setting out of range: the setting, the value, what is allowed.
    case badSetting(name: String, value: String, expected: String)
    /// An adapter or checkpoint file that cannot be used: the file, what was wrong.
    case badFile(path: String, reason: String)
    /// An adapter whose shapes do not fit the model.
    case shapeMismatch(tensor: String, expected: [Int], actual: [Int])
    case noData(String)
    /// Another process (or session) trains the run: its process id when it wrote one.
    case runHeld(run: Int64, pid: Int32?)

    public var message: String {
        switch self {
        case .invalid(let what): return what
        case .badSetting(let name, let value, let expected): return "\(name)=\(value) is not valid; expected \(expected)"
        case .badFile(let path, let reason): return "\(path): \(reason)"
        case .shapeMismatch(let tensor, let expected, let actual):
            return "\(tensor): shape \(actual) does not fit the model; expected \(expected)"
        case .noData(let what): return what
        case .runHeld(let run, let pid):
            let who = pid.map { $0 == getpid() ? "another session of this process (\($0))" : "process \($0)" } ?? "another process"
            return "run \(run) is being trained by \(who); wait for it to finish or stop it first"
        }
    }
}
