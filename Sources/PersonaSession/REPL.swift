import Foundation
import PersonaCore
#if canImport(Glibc)
import Glibc
#endif

/// The interactive prompt and its non-interactive twin (commands piped into persona).
public enum REPL {
    public static let prompt = "persona> "
    public static let continuationPrompt = "     ...> "

    /// The prompt on a terminal: line editing, history, completion; errors are shown and
    /// the session goes on. Returns the exit status. `whileLineMode`: only while a line mode
    /// (a chat started from the shell) is open.
    public static func runInteractive(bench: Workbench, whileLineMode: Bool = false) -> Int32 {
        // The history file is written once the workspace exists: starting the prompt creates nothing.
        let historyPath = bench.workspacePath + "/.persona_history"
        guard let editor = LineEditor(bench: bench, historyPath: historyPath) else {
            bench.diagnostics.write("error: the terminal could not be set up for line editing; reading plain lines\n")
            return runScript(bench: bench, source: "<stdin>", readLine: { Swift.readLine(strippingNewline: true) })
        }
        if !whileLineMode { bench.output.write(banner(bench)) }
        editor.follow(bench.settings)
        // At a terminal, heat maps and highlights are coloured unless NO_COLOR or 'set color=off'.
        bench.settings.color = true
        while !bench.wantsToQuit, !whileLineMode || bench.lineModePrompt != nil {
            var pieces: [String] = []
            var interrupted = false
            var ended = false
            while true {
                switch editor.read(prompt: pieces.isEmpty ? bench.lineModePrompt ?? prompt : continuationPrompt) {
                case .line(let text):
                    pieces.append(text)
                    if SessionFile.endsWithContinuation(text) { continue }
                case .interrupted:
                    interrupted = true
                case .end:
                    ended = true
                }
                break
            }
            CancellationToken.interrupt.reset()
            if interrupted {
                bench.output.write("\n")
                continue
            }
            if ended && pieces.isEmpty {
                bench.output.write("\n")
                // Ctrl-D in a line mode (the chat) leaves the mode, not the workbench.
                if bench.lineModePrompt != nil {
                    do { try bench.endLineMode() } catch { bench.diagnostics.write("error: " + describeError(error) + "\n") }
                    continue
                }
                break
            }
            let line = SessionFile.joinContinuations(pieces)
            editor.remember(line)
            do {
                try bench.execute(line: line)
            } catch {
                bench.diagnostics.write("error: " + describeError(error) + "\n")
            }
            // A Ctrl-C that stopped the command must not count towards ending the process.
            CancellationToken.interrupt.reset()
            editor.follow(bench.settings)
            if ended { break }
        }
        return 0
    }

    /// The first lines at the prompt: which workspace the session works in (and whether it
    /// exists yet), and how to get help and leave.
    static func banner(_ bench: Workbench) -> String {
        let workspace = bench.workspaceExists
            ? "workspace \(bench.workspacePath)"
            : "workspace \(bench.workspacePath) (none there yet: 'import FILE' makes it)"
        return "persona workbench, \(workspace)\n'help' lists the commands, Tab completes, Ctrl-D or 'quit' leaves.\n"
    }

    /// Commands read line by line from `readLine` (piped input, no prompt, no colour), run
    /// like a script: the first error stops it, naming `source:LINE`, and the exit status is
    /// 1 (130 when cancelled with Ctrl-C).
    public static func runScript(bench: Workbench, source: String, whileLineMode: Bool = false, readLine: () -> String?) -> Int32 {
        var lineNumber = 0
        while !bench.wantsToQuit, !whileLineMode || bench.lineModePrompt != nil {
            guard let first = readLine() else {
                // The end of the input ends an open line mode (the chat) as Ctrl-D does.
                do { try bench.endLineMode() } catch {
                    bench.diagnostics.write("persona: " + CommandError.scriptFailed(source: source, line: lineNumber, message: describeError(error)).message + "\n")
                    return 1
                }
                break
            }
            lineNumber += 1
            let startLine = lineNumber
            var pieces = [first]
            while SessionFile.endsWithContinuation(pieces[pieces.count - 1]), let next = readLine() {
                lineNumber += 1
                pieces.append(next)
            }
            do {
                try bench.execute(line: SessionFile.joinContinuations(pieces))
            } catch {
                let failure = CommandError.scriptFailed(source: source, line: startLine, message: describeError(error))
                bench.diagnostics.write("persona: " + failure.message + "\n")
                return error is Cancelled ? 130 : 1
            }
        }
        return 0
    }
}
