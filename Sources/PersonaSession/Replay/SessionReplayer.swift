import Foundation
import PersonaCore

/// Runs a `.persona` file inside a session: `run FILE` (print the replay), `run --check`
/// (compare every output with the recorded one), `run --update` (record the new outputs),
/// and `replay FILE` in the REPL.
public enum SessionReplayer {
    public struct Options: Equatable {
        /// Compare each output with the recorded one; stop at the first difference.
        public var check = false
        /// Write the new outputs into the file (atomically, at the end).
        public var update = false
        /// Go on after an unexpected error or a difference (and fail at the end).
        public var keepGoing = false
        /// Print the file as it replays (prose, commands, `| ` outputs).
        public var printTranscript = true

        public init(check: Bool = false, update: Bool = false, keepGoing: Bool = false, printTranscript: Bool = true) {
            self.check = check; self.update = update; self.keepGoing = keepGoing; self.printTranscript = printTranscript
        }
    }

    public struct Summary: Equatable {
        public var commands = 0
        /// Commands whose output differed from the recording (`--check`).
        public var differing = 0
        /// Commands that failed without the failure being recorded as expected.
        public var failed = 0
        /// Commands whose recorded output changed (`--update`).
        public var updated = 0
    }

    /// Files replayed inside each other stop here (a file that replays itself).
    public static let nestingLimit = 8

    /// Which files are being replayed right now, outermost first.
    final class Stack { var paths: [String] = [] }

    @discardableResult
    public static func replay(path: String, in bench: Workbench, options: Options) throws -> Summary {
        let stack = bench.state(Stack.self) { Stack() }
        guard stack.paths.count < nestingLimit else { throw CommandError.nestingTooDeep(path: path, limit: nestingLimit) }
        stack.paths.append(path)
        defer { stack.paths.removeLast() }

        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) }
        catch { throw FileError.cannotRead(path: path, reason: "no such file, or not UTF-8 text") }
        var file = try SessionFile.parse(text, path: path)

        let outer = bench.output
        let wasQuitting = bench.wantsToQuit
        // A `quit` inside a file ends that file, not the session that replays it.
        defer { bench.output = outer; bench.wantsToQuit = wasQuitting }
        let normaliser = OutputNormaliser(workspacePath: bench.workspacePath)
        var summary = Summary()
        var firstFailure: Error?

        for index in file.entries.indices {
            guard case .command(var command) = file.entries[index] else {
                if options.printTranscript, case .text(let line) = file.entries[index] { outer.write(line + "\n") }
                continue
            }
            try bench.cancellation.check()
            if options.printTranscript { outer.write(command.sourceLines.joined(separator: "\n") + "\n") }
            summary.commands += 1

            let sink = MarkedOutput(echo: options.printTranscript ? outer : nil)
            bench.output = sink
            var failure: Error?
            do { try bench.execute(line: command.text) } catch { failure = error }
            bench.output = outer
            if let failure, failure is Cancelled { throw failure }
            if let failure { sink.write(SessionFile.errorPrefix + describeError(failure) + "\n") }
            sink.finish()
            let actual = normaliser.anonymise(SessionFile.lines(of: sink.captured))
            let label = command.label

            if options.check {
                let recorded = normaliser.normalise(command.output)
                let replayed = normaliser.normalise(actual)
                // The command's own line is reported (the diff below shows which output line differs).
                if LineDiff.firstDifference(recorded, replayed, equal: ReplayTolerance.linesMatch) != nil {
                    summary.differing += 1
                    let error = CommandError.outputDiffers(path: path, line: command.lineNumber, command: label)
                    var report = [error.message]
                    report += LineDiff.unified(old: command.output, new: actual, compareOld: recorded, compareNew: replayed,
                                               equal: ReplayTolerance.linesMatch,
                                               oldLabel: "recorded (\(path):\(command.outputLineNumber))", newLabel: "replayed")
                    bench.diagnostics.write(report.joined(separator: "\n") + "\n")
                    if !options.keepGoing { throw error }
                    firstFailure = firstFailure ?? error
                }
            } else if let failure, !command.expectsError {
                summary.failed += 1
                let error = CommandError.scriptFailed(source: path, line: command.lineNumber, message: describeError(failure))
                if !options.keepGoing { throw error }
                bench.diagnostics.write(error.message + "\n")
                firstFailure = firstFailure ?? error
            }
            if options.update, command.output != actual {
                command.output = actual
                file.entries[index] = .command(command)
                summary.updated += 1
            }
            if bench.wantsToQuit { break }
        }

        if options.update, summary.updated > 0 {
            try PrivateFiles.writeAtomically(file.render(), to: path, mode: existingMode(of: path) ?? 0o600)
        }
        if options.check, summary.differing > 0 {
            throw CommandError.checkFailed(path: path, differing: summary.differing, commands: summary.commands)
        }
        if let firstFailure, !options.update { throw firstFailure }
        return summary
    }

    /// A file under version control keeps its mode when `--update` rewrites it.
    private static func existingMode(of path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & 0o777
    }
}

/// Captures a command's output during replay and, when echoing, writes each complete
/// line to the screen marked `| ` as it arrives, so long commands show progress live.
final class MarkedOutput: OutputSink {
    private let echo: OutputSink?
    private(set) var captured = ""
    private var pending = ""

    init(echo: OutputSink?) { self.echo = echo }

    func write(_ text: String) {
        captured += text
        guard let echo else { return }
        pending += text
        while let newline = pending.firstIndex(of: "\n") {
            echo.write(SessionFile.outputLine(String(pending[..<newline])) + "\n")
            pending = String(pending[pending.index(after: newline)...])
        }
    }

    func finish() {
        if !pending.isEmpty { echo?.write(SessionFile.outputLine(pending) + "\n"); pending = "" }
    }
}
