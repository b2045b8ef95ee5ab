import Foundation
import PersonaCore

/// Turns the process's arguments into a session and runs it: a command given in argv
/// (`persona import F`), commands given with `-c`, or (no command) the interactive REPL.
public enum Launcher {
    public static func main(arguments: [String]) -> Int32 {
        var rest = Array(arguments.dropFirst())
        var workspace: String?
        var commandString: String?
        // Global options come before the command.
        while let first = rest.first, first.hasPrefix("-") {
            if first == "--workspace", rest.count >= 2 { workspace = rest[1]; rest.removeFirst(2) }
            else if first.hasPrefix("--workspace=") { workspace = String(first.dropFirst("--workspace=".count)); rest.removeFirst() }
            else if first == "-c", rest.count >= 2 { commandString = rest[1]; rest.removeFirst(2) }
            else if first == "--help" || first == "-h" { rest = ["help"]; break }
            else { break }
        }
        let bench = Workbench(workspacePath: Workspace.resolve(explicit: workspace), cancellation: CancellationToken.interrupt)
        do {
            if let commandString {
                try bench.execute(line: commandString)
            } else if rest.isEmpty {
                try bench.execute(words: ["help"])
            } else {
                try bench.execute(words: rest)
            }
            return 0
        } catch {
            FileHandle.standardError.write(Data(("persona: " + describeError(error) + "\n").utf8))
            return 1
        }
    }
}
