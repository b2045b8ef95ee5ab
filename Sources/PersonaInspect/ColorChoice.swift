import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whether output may carry ANSI colour. Colour is for a person at a terminal only: never
/// in recordings, pipes or files (a `.persona` transcript must replay byte for byte), and
/// never when `NO_COLOR` is set to anything non-empty (https://no-color.org).
public enum ColorChoice {
    /// - setting: the session's `color` setting.
    /// - environment: the process environment (`NO_COLOR`).
    /// - isTerminal: whether standard output is a terminal.
    /// - recording: whether output is being captured (recording, replay, tests).
    public static func enabled(setting: Bool, environment: [String: String], isTerminal: Bool, recording: Bool) -> Bool {
        guard setting, isTerminal, !recording else { return false }
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
        return true
    }

    /// The live decision for this process's standard output.
    public static func enabledForStandardOutput(setting: Bool, recording: Bool) -> Bool {
        enabled(setting: setting, environment: ProcessInfo.processInfo.environment,
                isTerminal: isatty(STDOUT_FILENO) == 1, recording: recording)
    }
}

/// ANSI escape sequences for the 256-colour palette.
public enum ANSI {
    public static let reset = "\u{1B}[0m"
    public static let dim = "\u{1B}[2m"
    public static func background(_ index: Int) -> String { "\u{1B}[48;5;\(index)m" }
    public static func foreground(_ index: Int) -> String { "\u{1B}[38;5;\(index)m" }
}
