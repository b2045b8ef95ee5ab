import PersonaCore

public enum CommandError: UserFacingError, Equatable {
    case unknownCommand(String, suggestion: String?)
    case missingArgument(command: String, argument: String)
    /// `known`: how the command's keyed arguments and flags are written (`model=`, `--json`),
    /// listed in the hint when no one of them is close to `key`.
    case unknownKey(command: String, key: String, suggestion: String?, known: [String] = [])
    case badValue(command: String, argument: String, value: String, expected: String)
    case tooManyArguments(command: String, extra: String)
    case noSuchObject(name: String, kind: ObjectKind?)
    case failed(command: String, reason: String)
    /// A `.persona` file that cannot be read as one.
    case sessionFile(path: String, line: Int, reason: String)
    /// `run --check`: a command's output is not the recorded one (`line` is the command's
    /// own line in the file).
    case outputDiffers(path: String, line: Int, command: String)
    /// `run --check --keep-going`: how many commands differed.
    case checkFailed(path: String, differing: Int, commands: Int)
    /// A command of a script (a `.persona` file, piped input) failed; scripts stop there.
    case scriptFailed(source: String, line: Int, message: String)
    /// `run`/`replay` inside each other past the cap (a file replaying itself).
    case nestingTooDeep(path: String, limit: Int)
    /// A command that only reads the workspace, where there is none yet.
    case noWorkspace(command: String, path: String)

    public var message: String {
        switch self {
        case .unknownCommand(let name, _): return "unknown command '\(name)'"
        case .missingArgument(let command, let argument): return "\(command): missing \(argument.uppercased())"
        case .unknownKey(let command, let key, _, _): return "\(command): unknown argument '\(key)'"
        case .badValue(let command, let argument, let value, let expected):
            return "\(command): \(argument)=\(value) is not valid; expected \(expected)"
        case .tooManyArguments(let command, let extra): return "\(command): unexpected argument '\(extra)'"
        case .noSuchObject(let name, let kind):
            return "no \(kind?.rawValue ?? "object") named '\(name)'"
        case .failed(let command, let reason): return "\(command): \(reason)"
        case .sessionFile(let path, let line, let reason): return "\(path):\(line): \(reason)"
        case .outputDiffers(let path, let line, let command):
            return "\(path):\(line): the output of '\(command)' differs from the recording"
        case .checkFailed(let path, let differing, let commands):
            return "\(path): \(differing) of \(commands) commands printed something other than their recorded output"
        case .scriptFailed(let source, let line, let message): return "\(source):\(line): \(message)"
        case .nestingTooDeep(let path, let limit):
            return "\(path): sessions replayed inside each other more than \(limit) deep"
        case .noWorkspace(let command, let path):
            return "\(command): there is no workspace at \(path) yet"
        }
    }

    public var hint: String? {
        switch self {
        case .unknownCommand(_, let suggestion?), .unknownKey(_, _, let suggestion?, _): return "did you mean '\(suggestion)'?"
        case .unknownKey(let command, _, nil, let known) where !known.isEmpty:
            return "'\(command)' takes " + known.joined(separator: ", ")
        case .unknownKey(let command, _, nil, _): return "'\(command)' takes no named arguments; 'help \(command)' shows its usage"
        case .unknownCommand: return "type 'help' for the list of commands"
        case .noSuchObject: return "'ls' lists the session's objects"
        case .outputDiffers, .checkFailed: return "the diff is above; 'run --update FILE' records the new output if it is right"
        case .nestingTooDeep: return "does a session replay itself?"
        case .noWorkspace: return "'import FILE' makes one ('demo-data DIR' writes invented exports to import); --workspace DIR chooses another"
        default: return nil
        }
    }
}

/// A command's arguments after parsing against its spec: values are checked for type
/// here, so handlers read them with typed accessors that cannot fail on a declared name.
public struct Arguments {
    public let command: String
    private var values: [String: String]
    public private(set) var variadic: [String]
    private let specs: [String: ArgumentSpec]

    /// Parses words (already lexed) against `spec`. Accepts `key=value`, `--key value`,
    /// `--key=value` and `--flag`; the rest are positionals in declared order.
    public init(words: [String], spec: CommandSpec) throws {
        command = spec.name
        var specsByName: [String: ArgumentSpec] = [:]
        for a in spec.arguments { specsByName[a.name] = a }
        specs = specsByName
        values = [:]
        variadic = []
        let positionals = spec.arguments.filter { $0.role == .positional }
        let variadicSpec = spec.arguments.first { $0.role == .variadic }
        var nextPositional = 0
        var i = 0

        func keyName(_ raw: String) -> String { raw.replacingOccurrences(of: "-", with: "_") }
        func lookup(_ key: String) throws -> ArgumentSpec {
            let normalised = keyName(key)
            if let a = specsByName[normalised] ?? specsByName[key], a.role == .keyed || a.role == .flag { return a }
            let named = spec.arguments.filter { $0.role == .keyed || $0.role == .flag }
            let known = named.map { $0.role == .flag ? "--" + $0.name.replacingOccurrences(of: "_", with: "-") : $0.name + "=" }
            throw CommandError.unknownKey(command: spec.name, key: key, suggestion: closestMatch(key, in: named.map(\.name)), known: known)
        }

        while i < words.count {
            let word = words[i]
            if word.hasPrefix("--"), word.count > 2 {
                let body = String(word.dropFirst(2))
                if let eq = body.firstIndex(of: "=") {
                    let a = try lookup(String(body[..<eq]))
                    values[a.name] = String(body[body.index(after: eq)...])
                } else {
                    let a = try lookup(body)
                    if a.role == .flag {
                        values[a.name] = "true"
                    } else {
                        guard i + 1 < words.count else { throw CommandError.missingArgument(command: spec.name, argument: a.name) }
                        i += 1
                        values[a.name] = words[i]
                    }
                }
            } else if let eq = word.firstIndex(of: "="), eq != word.startIndex,
                      Arguments.isKey(word[..<eq]) {
                let a = try lookup(String(word[..<eq]))
                values[a.name] = String(word[word.index(after: eq)...])
            } else if nextPositional < positionals.count {
                values[positionals[nextPositional].name] = word
                nextPositional += 1
            } else if variadicSpec != nil {
                variadic.append(word)
            } else {
                throw CommandError.tooManyArguments(command: spec.name, extra: word)
            }
            i += 1
        }

        for a in spec.arguments {
            switch a.role {
            case .variadic:
                if a.required && variadic.isEmpty { throw CommandError.missingArgument(command: spec.name, argument: a.name) }
                for v in variadic { try Arguments.check(v, against: a, command: spec.name) }
            default:
                if let v = values[a.name] {
                    try Arguments.check(v, against: a, command: spec.name)
                } else if a.required {
                    throw CommandError.missingArgument(command: spec.name, argument: a.name)
                }
            }
        }
    }

    /// Every word as an unparsed variadic value (commands with `takesRawWords`).
    public init(rawWords words: [String], spec: CommandSpec) {
        command = spec.name
        var specsByName: [String: ArgumentSpec] = [:]
        for a in spec.arguments { specsByName[a.name] = a }
        specs = specsByName
        values = [:]
        variadic = words
    }

    /// A key is a word of letters, digits and underscores starting with a letter, so that
    /// a positional such as `a=b.txt` path or an expression is not mistaken for one.
    static func isKey(_ s: Substring) -> Bool {
        guard let first = s.unicodeScalars.first, first.properties.isAlphabetic else { return false }
        return s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }

    static func check(_ value: String, against a: ArgumentSpec, command: String) throws {
        let ok: Bool
        switch a.type {
        case .int: ok = Int(value) != nil || Arguments.parseDoubleWithSuffix(value).map { $0 == $0.rounded() } == true
        case .double: ok = Arguments.parseDoubleWithSuffix(value) != nil
        case .bool: ok = ["true", "false", "yes", "no", "on", "off", "1", "0"].contains(value.lowercased())
        case .choice(let words): ok = words.contains(value)
        default: ok = true
        }
        if !ok { throw CommandError.badValue(command: command, argument: a.name, value: value, expected: a.type.expectation) }
    }

    /// Numbers may carry a k/M suffix (`steps=1k`) or an exponent (`lr=2e-4`).
    static func parseDoubleWithSuffix(_ s: String) -> Double? {
        if let d = Double(s) { return d }
        guard let last = s.last else { return nil }
        let multiplier: Double
        switch last {
        case "k", "K": multiplier = 1e3
        case "M": multiplier = 1e6
        default: return nil
        }
        return Double(s.dropLast()).map { $0 * multiplier }
    }

    public func has(_ name: String) -> Bool { values[name] != nil }

    /// The given value, or the declared default.
    public func string(_ name: String) -> String? { values[name] ?? specs[name]?.defaultValue }

    public func string(_ name: String, default fallback: String) -> String { string(name) ?? fallback }

    public func int(_ name: String) -> Int? {
        guard let s = string(name) else { return nil }
        if let i = Int(s) { return i }
        return Arguments.parseDoubleWithSuffix(s).map { Int($0) }
    }

    public func int(_ name: String, default fallback: Int) -> Int { int(name) ?? fallback }

    public func double(_ name: String) -> Double? { string(name).flatMap(Arguments.parseDoubleWithSuffix) }

    public func double(_ name: String, default fallback: Double) -> Double { double(name) ?? fallback }

    public func flag(_ name: String) -> Bool {
        guard let s = string(name)?.lowercased() else { return false }
        return ["true", "yes", "on", "1"].contains(s)
    }

    /// The positional or keyed value, or a `missingArgument` error naming it.
    public func required(_ name: String) throws -> String {
        guard let v = string(name) else { throw CommandError.missingArgument(command: command, argument: name) }
        return v
    }
}

/// The closest word by edit distance, when it is close enough to be a plausible typo.
public func closestMatch(_ word: String, in candidates: [String]) -> String? {
    var best: (String, Int)?
    for c in candidates {
        let d = editDistance(word, c)
        if d <= max(1, min(word.count, c.count) / 3), best == nil || d < best!.1 { best = (c, d) }
    }
    if best == nil, let prefixed = candidates.first(where: { $0.hasPrefix(word) && word.count >= 2 }) { return prefixed }
    return best?.0
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent
/// transpositions ("hlep" is one step from "help") each cost 1.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
    for i in 0...x.count { d[i][0] = i }
    for j in 0...y.count { d[0][j] = j }
    for i in 1...x.count {
        for j in 1...y.count {
            let cost = x[i - 1] == y[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
            }
        }
    }
    return d[x.count][y.count]
}
