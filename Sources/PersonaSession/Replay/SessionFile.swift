/// A `.persona` file: a notebook that is also a script and its own test.
///
///     # Prose: lines starting with `#`, and blank lines, are kept as they are.
///     set seed=7
///     | seed=7 threads=2
///     echo "two lines" \
///          "of output"
///     | two lines of output
///
/// Every other line is a command (a trailing `\` continues it on the next line). The lines
/// right under a command that begin with `|` are its recorded output: `| text`, or a lone
/// `|` for an empty line. An error the command reported is part of its output, as the
/// line `error: MESSAGE`; recording it there marks the error as expected.
public struct SessionFile: Equatable {
    public struct Command: Equatable {
        /// The command as written, continuation lines included.
        public var sourceLines: [String]
        /// 1-based line of the command's first line in the file.
        public var lineNumber: Int
        /// The recorded output, without the `| ` marks.
        public var output: [String]

        /// The command as one line (continuations joined), ready to run.
        public var text: String { SessionFile.joinContinuations(sourceLines) }
        /// 1-based line of the first recorded output line (where it would be).
        public var outputLineNumber: Int { lineNumber + sourceLines.count }
        /// The command for a message: whole words, up to about 60 characters, then `…`.
        public var label: String {
            let words = text.split(separator: " ", omittingEmptySubsequences: true)
            var shown = ""
            for word in words {
                if !shown.isEmpty, shown.count + 1 + word.count > 60 { return shown + " …" }
                shown += (shown.isEmpty ? "" : " ") + word
            }
            return shown
        }
        /// Whether the recording ends with an error, marking the error as expected.
        public var expectsError: Bool { output.last?.hasPrefix(SessionFile.errorPrefix) == true }
    }

    public enum Entry: Equatable {
        /// Prose (`#` lines) and blank lines, kept verbatim.
        case text(String)
        case command(Command)
    }

    public static let outputMark = "|"
    public static let errorPrefix = "error: "

    public var path: String
    public var entries: [Entry]

    public init(path: String, entries: [Entry] = []) {
        self.path = path; self.entries = entries
    }

    public var commands: [Command] {
        entries.compactMap { if case .command(let c) = $0 { return c } else { return nil } }
    }

    public static func parse(_ text: String, path: String) throws -> SessionFile {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        if lines.last == "" { lines.removeLast() }
        var entries: [Entry] = []
        var i = 0
        while i < lines.count {
            let line = lines[i]
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix(outputMark) {
                throw CommandError.sessionFile(path: path, line: i + 1,
                                               reason: "an output line ('|') must sit right under a command")
            }
            if trimmed.isEmpty || trimmed.hasPrefix("#") {
                entries.append(.text(line))
                i += 1
                continue
            }
            var command = Command(sourceLines: [line], lineNumber: i + 1, output: [])
            i += 1
            while endsWithContinuation(command.sourceLines[command.sourceLines.count - 1]), i < lines.count {
                command.sourceLines.append(lines[i])
                i += 1
            }
            while i < lines.count, lines[i].hasPrefix(outputMark) {
                var body = Substring(lines[i]).dropFirst(outputMark.count)
                if body.hasPrefix(" ") { body = body.dropFirst() }
                command.output.append(String(body))
                i += 1
            }
            entries.append(.command(command))
        }
        return SessionFile(path: path, entries: entries)
    }

    /// The file's text: prose and commands as written, outputs as `| ` lines.
    public func render() -> String {
        var out = ""
        for entry in entries {
            switch entry {
            case .text(let line): out += line + "\n"
            case .command(let c):
                for line in c.sourceLines { out += line + "\n" }
                for line in c.output { out += SessionFile.outputLine(line) + "\n" }
            }
        }
        return out
    }

    /// One output line as it is written in a file.
    public static func outputLine(_ line: String) -> String {
        line.isEmpty ? outputMark : outputMark + " " + line
    }

    /// A line continues on the next when it ends with an odd number of backslashes
    /// (an even number is escaped backslashes).
    public static func endsWithContinuation(_ line: String) -> Bool {
        var count = 0
        for c in line.unicodeScalars.reversed() {
            if c == "\\" { count += 1 } else { break }
        }
        return count % 2 == 1
    }

    /// Joins continued lines the way a shell does: the backslash and the newline vanish.
    public static func joinContinuations(_ lines: [String]) -> String {
        var out = ""
        for (i, line) in lines.enumerated() {
            if i < lines.count - 1, endsWithContinuation(line) { out += line.dropLast() } else { out += line }
        }
        return out
    }

    /// Splits captured output text into lines (a final newline ends the last line).
    public static func lines(of text: String) -> [String] {
        if text.isEmpty { return [] }
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if text.hasSuffix("\n") { parts.removeLast() }
        return parts
    }
}
