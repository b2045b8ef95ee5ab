import PersonaCore

/// The kinds of named objects a session holds.
public enum ObjectKind: String, CaseIterable, Hashable, Sendable {
    case model, dataset, sampler, adapter, run
}

/// What a value of an argument is, which decides how it is checked and completed.
public enum ValueType: Hashable, Sendable {
    case string
    case int
    case double
    case bool
    /// A file or folder path: completes from the file system.
    case path
    /// The name of a session object of that kind: completes from the session.
    case object(ObjectKind)
    /// The name of any session object: completes from the session.
    case objectName
    /// A person in the message store: completes from the store.
    case person
    /// One of a fixed set of words.
    case choice([String])

    public var expectation: String {
        switch self {
        case .string: return "text"
        case .int: return "an integer"
        case .double: return "a number"
        case .bool: return "true or false"
        case .path: return "a path"
        case .object(let kind): return "the name of a \(kind.rawValue)"
        case .objectName: return "an object's name"
        case .person: return "a person"
        case .choice(let words): return "one of " + words.joined(separator: ", ")
        }
    }
}

/// One argument of a command, declared once: parsing, help and completion all read it.
public struct ArgumentSpec: Sendable {
    public enum Role: Sendable, Equatable {
        /// Given by position (`import FILE`).
        case positional
        /// Every remaining positional value (`import FILE…`).
        case variadic
        /// Given as `key=value` (or `--key value`, `--key=value` in the shell).
        case keyed
        /// A switch given as `--name` (or `name=true`).
        case flag
    }

    public var name: String
    public var role: Role
    public var type: ValueType
    public var help: String
    public var required: Bool
    public var defaultValue: String?

    public static func positional(_ name: String, _ type: ValueType = .string, required: Bool = true, _ help: String) -> ArgumentSpec {
        ArgumentSpec(name: name, role: .positional, type: type, help: help, required: required, defaultValue: nil)
    }
    public static func variadic(_ name: String, _ type: ValueType = .string, required: Bool = true, _ help: String) -> ArgumentSpec {
        ArgumentSpec(name: name, role: .variadic, type: type, help: help, required: required, defaultValue: nil)
    }
    public static func keyed(_ name: String, _ type: ValueType = .string, default defaultValue: String? = nil, required: Bool = false, _ help: String) -> ArgumentSpec {
        ArgumentSpec(name: name, role: .keyed, type: type, help: help, required: required, defaultValue: defaultValue)
    }
    public static func flag(_ name: String, _ help: String) -> ArgumentSpec {
        ArgumentSpec(name: name, role: .flag, type: .bool, help: help, required: false, defaultValue: "false")
    }
}

/// A command of the workbench: its name, arguments, help and handler in one place.
/// The shell (`persona import F`) and the REPL (`import F`) run the same table.
public struct CommandSpec {
    /// One or two words: `import`, `model info`.
    public var name: String
    /// One line for `help`.
    public var summary: String
    /// Longer help for `help NAME`.
    public var details: String
    public var examples: [String]
    public var arguments: [ArgumentSpec]
    /// The command reads its words itself (`let NAME = COMMAND …` passes the rest on to
    /// another command): they all land in the variadic argument, unparsed.
    public var takesRawWords = false
    /// The command only reads the workspace: where there is none yet, it says so instead of
    /// creating an empty one (`persona people` in a new folder leaves nothing behind).
    public var readsOnly = false
    public var run: (CommandContext) throws -> Void

    /// This command, marked as only reading the workspace (`readsOnly`).
    public var readingOnly: CommandSpec {
        var c = self
        c.readsOnly = true
        return c
    }

    public init(_ name: String, summary: String, details: String = "", examples: [String] = [],
                arguments: [ArgumentSpec] = [], run: @escaping (CommandContext) throws -> Void) {
        self.name = name; self.summary = summary; self.details = details
        self.examples = examples; self.arguments = arguments; self.run = run
    }

    /// `import FILE… [format=F] [--json]`
    public var usage: String {
        var parts = [name]
        for a in arguments {
            switch a.role {
            case .positional: parts.append(a.required ? a.name.uppercased() : "[\(a.name.uppercased())]")
            case .variadic: parts.append(a.required ? "\(a.name.uppercased())…" : "[\(a.name.uppercased())…]")
            case .keyed:
                let shown = "\(a.name)=\(a.type == .int || a.type == .double ? "N" : a.name.uppercased())"
                parts.append(a.required ? shown : "[\(shown)]")
            case .flag: parts.append("[--\(a.name.replacingOccurrences(of: "_", with: "-"))]")
            }
        }
        return parts.joined(separator: " ")
    }
}

/// What a running command sees: the session, its parsed arguments, and where to print.
public final class CommandContext {
    public let bench: Workbench
    public let arguments: Arguments
    public let command: CommandSpec
    /// The words after the command's name, as typed (after lexing).
    public let words: [String]

    init(bench: Workbench, arguments: Arguments, command: CommandSpec, words: [String] = []) {
        self.bench = bench; self.arguments = arguments; self.command = command; self.words = words
    }

    /// Prints one line (or several, joined by newlines) of the command's output.
    /// Output goes through the session so that recordings and `--check` see it.
    public func print(_ text: String = "") { bench.output.write(text + "\n") }

    /// Prints a table with a header row.
    public func printTable(_ rows: [[String]], rightAligned: Set<Int> = []) {
        for line in TextTable.render(rows, rightAligned: rightAligned) { print(line) }
    }

    public var progress: ProgressReporter { bench.progress }
    public var cancellation: CancellationToken { bench.cancellation }
}
