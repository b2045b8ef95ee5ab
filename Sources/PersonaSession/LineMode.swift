import Foundation
import PersonaCore

/// A mode that takes whole lines itself instead of the command table: the live chat. While
/// one is open, every line (typed at the prompt, piped, or replayed from a `.persona` file)
/// goes to it unlexed, the REPL shows its prompt, and Ctrl-D or the end of the input runs its
/// `endLine`, so that a recording ends the mode as the session did.
protocol LineMode: AnyObject {
    /// What the REPL shows while the mode is open.
    var prompt: String { get }
    /// The line that closes the mode (`/end`).
    var endLine: String { get }
    /// Handles one line; output goes through the session's output.
    func take(_ line: String, in bench: Workbench) throws
    /// The line as written into a recording so that it replays as the same input, or nil
    /// for a line that does nothing (not recorded).
    func recordedForm(of line: String) -> String?
}

/// The open mode, kept as area state so that the Workbench needs no field for it.
final class LineModeState {
    var mode: LineMode?
}

extension Workbench {
    var lineMode: LineMode? { existingState(LineModeState.self)?.mode }

    func openLineMode(_ mode: LineMode) { state(LineModeState.self) { LineModeState() }.mode = mode }

    func closeLineMode() { existingState(LineModeState.self)?.mode = nil }

    /// The prompt of the open mode, if one is open (the REPL's hook).
    public var lineModePrompt: String? { lineMode?.prompt }

    /// Ctrl-D, or the end of piped input, while a mode is open: its end line runs as if typed.
    /// The mode is closed even when that line fails.
    public func endLineMode() throws {
        guard let mode = lineMode else { return }
        defer { if lineMode === mode { closeLineMode() } }
        try execute(line: mode.endLine)
    }

    /// Runs `body` (a replayed file) and closes a mode it opened and left open: a chat in a
    /// file ends with the file, as piped input's end ends it, and never swallows what follows.
    func closingLineModesOpened<T>(_ body: () throws -> T) rethrows -> T {
        let before = lineMode
        defer { if let mode = lineMode, mode !== before { closeLineMode() } }
        return try body()
    }

    /// One line for the open mode. Like an outermost command it clears Ctrl-C first and is
    /// written into an open recording, with its output.
    func execute(line: String, in mode: LineMode) throws {
        let outermost = commandDepth == 0
        commandDepth += 1
        defer { commandDepth -= 1 }
        if outermost { cancellation.reset() }
        guard outermost, let recorder, let written = mode.recordedForm(of: line) else {
            try mode.take(line, in: self)
            return
        }
        let captured = CapturedOutput()
        let screen = output
        output = TeeOutput(screen, captured)
        var failure: Error?
        do { try mode.take(line, in: self) } catch { failure = error }
        output = screen
        if let failure { captured.write(SessionFile.errorPrefix + describeError(failure) + "\n") }
        var entry = written + "\n"
        let normaliser = OutputNormaliser(workspacePath: workspacePath)
        for outputLine in normaliser.anonymise(SessionFile.lines(of: captured.text)) { entry += SessionFile.outputLine(outputLine) + "\n" }
        do { try recorder.append(entry) } catch {
            self.recorder = nil
            diagnostics.write("error: " + describeError(error) + "; recording stopped\n")
        }
        if let failure { throw failure }
    }
}
