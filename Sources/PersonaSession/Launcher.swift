import Foundation
import PersonaCore
import PersonaModel
import PersonaTensor
#if canImport(Glibc)
import Glibc
#endif

/// Turns the process's arguments into a session and runs it:
///
///     persona [--workspace DIR] COMMAND [ARGS…]     one command, as at the prompt
///     persona [--workspace DIR] -c "CMD; CMD"       several, stopping at the first error
///     persona [--workspace DIR]                     the REPL on a terminal; piped input runs as a script
///
/// Exit status: 0, 1 on an error (the message on standard error), 130 when Ctrl-C cancelled
/// the command, 2 for a bad option.
public enum Launcher {
    public static let usage = """
        usage: persona [--workspace DIR] [COMMAND [ARGS…] | -c "CMD; CMD…"]   (--workspace may also follow the command)
               persona --version
        With no command: the interactive prompt on a terminal, or commands read from standard input.
        'persona help' lists the commands.
        """

    /// The release this source tree is.
    public static let version = "0.15.0"

    /// `persona --version`: the version, what the build targets and runs on, and the default
    /// model as every command would resolve it here.
    public static func versionText(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let model: String
        do { model = try DefaultModel.resolve(nil, environment: environment) } catch { model = "not found: " + describeError(error) }
        return """
            persona \(version)
            build: compiled for this machine's CPU (-target-cpu native): \(CPUFeatures.buildTarget), kernels on \(CPUFeatures.vectorPath)
            cpu: \(CPUFeatures.modelName), supports \(CPUFeatures.cpuSupports)
            default model: \(model)
            """
    }

    /// One line, instead of an illegal instruction, when the binary was built on a CPU with
    /// extensions this one lacks (a build copied between machines).
    public static func unsupportedCPUMessage() -> String? {
        let missing = CPUFeatures.unsupportedFeatures
        guard !missing.isEmpty else { return nil }
        return "persona: this build was compiled for a CPU with \(missing.joined(separator: ", ")), which this CPU (\(CPUFeatures.modelName)) lacks; rebuild it on this machine with scripts/setup"
    }

    /// Takes `--workspace DIR` (or `--workspace=DIR`) out of the words wherever it stands,
    /// before a command or after it (`persona people --workspace ws`); a `--` word ends the
    /// search, so a command can still be given the literal text. `incomplete`: no folder followed.
    static func extractWorkspace(_ words: inout [String]) -> (found: String?, incomplete: Bool) {
        var found: String?
        var i = 0
        while i < words.count, words[i] != "--" {
            if words[i] == "--workspace" {
                guard i + 1 < words.count else { return (found, true) }
                found = words[i + 1]
                words.removeSubrange(i...(i + 1))
            } else if words[i].hasPrefix("--workspace=") {
                found = String(words[i].dropFirst("--workspace=".count))
                words.remove(at: i)
            } else {
                i += 1
            }
        }
        return (found, false)
    }

    public static func main(arguments: [String]) -> Int32 {
        if let refusal = unsupportedCPUMessage() {
            FileHandle.standardError.write(Data((refusal + "\n").utf8))
            return 1
        }
        var rest = Array(arguments.dropFirst())
        var commandString: String?
        // --workspace may stand anywhere; the other global options come before the command.
        let (workspace, incomplete) = extractWorkspace(&rest)
        if incomplete {
            FileHandle.standardError.write(Data("persona: --workspace needs a folder\n\(usage)\n".utf8))
            return 2
        }
        while let first = rest.first, first.hasPrefix("-") {
            if first == "-c", rest.count >= 2 { commandString = rest[1]; rest.removeFirst(2) }
            else if first == "--help" || first == "-h" { rest = ["help"]; break }
            else if first == "--version" || first == "-V" { print(versionText()); return 0 }
            else {
                FileHandle.standardError.write(Data("persona: unknown or incomplete option '\(first)'\n\(usage)\n".utf8))
                return 2
            }
        }
        if commandString != nil, !rest.isEmpty {
            FileHandle.standardError.write(Data("persona: give either -c or a command, not both\n\(usage)\n".utf8))
            return 2
        }

        let bench = Workbench(workspacePath: Workspace.resolve(explicit: workspace), cancellation: CancellationToken.interrupt)
        if isatty(STDERR_FILENO) != 0 {
            let progress = TerminalProgress()
            bench.progress = progress
            bench.output = ProgressAwareOutput(StandardOutput(), progress: progress)
            bench.diagnostics = ProgressAwareOutput(StandardError(), progress: progress)
        }
        InterruptHandling.install()

        if commandString == nil, rest.isEmpty {
            if isatty(STDIN_FILENO) != 0 { return REPL.runInteractive(bench: bench) }
            return REPL.runScript(bench: bench, source: "<stdin>", readLine: { Swift.readLine(strippingNewline: true) })
        }
        do {
            if let commandString {
                try bench.execute(line: commandString)
            } else {
                try bench.execute(words: rest)
            }
            // `persona chat as=…` from the shell: the chat reads its lines here until it ends.
            if bench.lineModePrompt != nil {
                if isatty(STDIN_FILENO) != 0 { return REPL.runInteractive(bench: bench, whileLineMode: true) }
                return REPL.runScript(bench: bench, source: "<stdin>", whileLineMode: true, readLine: { Swift.readLine(strippingNewline: true) })
            }
            return 0
        } catch {
            FileHandle.standardError.write(Data(("persona: " + describeError(error) + "\n").utf8))
            return error is Cancelled ? 130 : 1
        }
    }
}
