import Foundation

/// Tab completion, generated from the command table: command names (two-word names too),
/// `key=` and `--flag` words, and values by argument type (object names, people, choices,
/// file paths, dataset indices like `chats[3]`).
public enum Completion {
    /// Candidates for argument types the session cannot list itself. The store area
    /// registers people: `Completion.providers[.person] = { bench in … }`. A provider for
    /// `.object(kind)` adds to the session's own objects of that kind.
    nonisolated(unsafe) public static var providers: [ValueType: (Workbench) -> [String]] = [:]

    /// Longest list a completion offers (a dataset's indices can run to thousands).
    public static let candidateLimit = 200

    public struct Result: Equatable {
        /// Where the word being completed starts, in Unicode scalars from the line's start.
        public var start: Int
        /// The word typed so far (what the candidates replace).
        public var partial: String
        /// Whole words that could replace `partial`, sorted.
        public var candidates: [String]

        /// What all candidates share: the text to put in place of `partial`.
        public var commonPrefix: String {
            guard var prefix = candidates.first else { return partial }
            for c in candidates.dropFirst() {
                while !c.hasPrefix(prefix) { prefix.removeLast() }
            }
            return prefix
        }

        /// Whether a completed word is finished (a space follows) or expects more (`key=`, `dir/`, `chats[`).
        public static func isOpenEnded(_ word: String) -> Bool {
            word.hasSuffix("=") || word.hasSuffix("/") || word.hasSuffix("[")
        }
    }

    /// Completes the word that ends at the end of `line` (the text before the cursor).
    public static func complete(line: String, bench: Workbench) -> Result {
        let (words, partial, start) = splitForCompletion(line)
        let candidates = Array(Set(candidatesFor(words: words, partial: partial, bench: bench)))
            .filter { $0.hasPrefix(partial) }
            .sorted()
        return Result(start: start, partial: partial, candidates: Array(candidates.prefix(candidateLimit)))
    }

    /// The finished words of the current command (after the last `;`), the partial word at
    /// the end, and where that word starts. Quotes group words; the quote marks are dropped.
    static func splitForCompletion(_ line: String) -> (words: [String], partial: String, start: Int) {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Unicode.Scalar?
        var start = 0
        for (i, c) in line.unicodeScalars.enumerated() {
            if let q = quote {
                if c == q { quote = nil } else { word.unicodeScalars.append(c) }
                continue
            }
            switch c {
            case " ", "\t":
                if inWord { words.append(word); word = ""; inWord = false }
            case ";":
                words = []; word = ""; inWord = false
            case "\"", "'":
                if !inWord { start = i }
                quote = c; inWord = true
            default:
                if !inWord { start = i }
                inWord = true
                word.unicodeScalars.append(c)
            }
        }
        if !inWord { start = line.unicodeScalars.count }
        return (words, inWord ? word : "", start)
    }

    static func candidatesFor(words: [String], partial: String, bench: Workbench) -> [String] {
        guard let first = words.first else { return commandWords(after: nil) }
        // `let NAME = COMMAND …` completes COMMAND as a command of its own.
        if first == "let" {
            if words.count == 2 { return ["="] }
            if words.count >= 3, words[2] == "=" {
                return candidatesFor(words: Array(words.dropFirst(3)), partial: partial, bench: bench)
            }
            return []
        }
        var result: [String] = []
        if words.count == 1 { result += commandWords(after: first) }
        let spec: CommandSpec
        let given: [String]
        if words.count >= 2, let two = CommandTable.command(named: first + " " + words[1]) {
            spec = two; given = Array(words.dropFirst(2))
        } else if let one = CommandTable.command(named: first) {
            spec = one; given = Array(words.dropFirst())
        } else {
            return result
        }
        // `help COMMAND` completes command names.
        if spec.name == "help" {
            return result + (given.isEmpty ? commandWords(after: nil) : given.count == 1 ? commandWords(after: given[0]) : [])
        }
        return result + argumentCandidates(spec: spec, given: given, partial: partial, bench: bench)
    }

    /// First words of all commands, or the second words of the commands starting with `first`.
    static func commandWords(after first: String?) -> [String] {
        var result = Set<String>()
        for c in CommandTable.all {
            let parts = c.name.split(separator: " ").map(String.init)
            if let first {
                if parts.count == 2, parts[0] == first { result.insert(parts[1]) }
            } else if let head = parts.first {
                result.insert(head)
            }
        }
        return Array(result)
    }

    static func argumentCandidates(spec: CommandSpec, given: [String], partial: String, bench: Workbench) -> [String] {
        let keyed = spec.arguments.filter { $0.role == .keyed }
        let flags = spec.arguments.filter { $0.role == .flag }
        func dashed(_ name: String) -> String { name.replacingOccurrences(of: "_", with: "-") }

        // key=partial value
        if let eq = partial.firstIndex(of: "="), eq != partial.startIndex {
            let key = String(partial[..<eq]).replacingOccurrences(of: "-", with: "_")
            guard let a = keyed.first(where: { $0.name == key }) ?? flags.first(where: { $0.name == key }) else { return [] }
            let prefix = String(partial[...eq])
            let valuePartial = String(partial[partial.index(after: eq)...])
            return values(for: a.type, partial: valuePartial, bench: bench).map { prefix + $0 }
        }

        // Which arguments are given already, and which positional comes next.
        var usedNames = Set<String>()
        var positionalCount = 0
        var i = 0
        var expectingValueFor: ArgumentSpec?
        while i < given.count {
            let w = given[i]
            if w.hasPrefix("--"), w.count > 2 {
                let body = String(w.dropFirst(2))
                let name = String(body.split(separator: "=", maxSplits: 1).first ?? "").replacingOccurrences(of: "-", with: "_")
                usedNames.insert(name)
                if !body.contains("="), let a = keyed.first(where: { $0.name == name }) {
                    if i + 1 < given.count { i += 1 } else { expectingValueFor = a }
                }
            } else if let eq = w.firstIndex(of: "="), eq != w.startIndex, Arguments.isKey(w[..<eq]) {
                usedNames.insert(String(w[..<eq]).replacingOccurrences(of: "-", with: "_"))
            } else {
                positionalCount += 1
            }
            i += 1
        }
        if let a = expectingValueFor { return values(for: a.type, partial: partial, bench: bench) }

        if partial.hasPrefix("--") {
            return (keyed + flags).filter { !usedNames.contains($0.name) }.map { "--" + dashed($0.name) }
        }
        var result: [String] = []
        let positionals = spec.arguments.filter { $0.role == .positional }
        if positionalCount < positionals.count {
            result += values(for: positionals[positionalCount].type, partial: partial, bench: bench)
        } else if let v = spec.arguments.first(where: { $0.role == .variadic }) {
            result += values(for: v.type, partial: partial, bench: bench)
        }
        result += indexCandidates(partial: partial, bench: bench)
        // Keys and flags not given yet are offered beside the values.
        result += keyed.filter { !usedNames.contains($0.name) }.map { $0.name + "=" }
        result += flags.filter { !usedNames.contains($0.name) }.map { "--" + dashed($0.name) }
        return result
    }

    /// Candidate values of one argument type.
    static func values(for type: ValueType, partial: String, bench: Workbench) -> [String] {
        var result = (providers[type]?(bench) ?? []) + (builtInSources[type]?(bench) ?? [])
        switch type {
        case .object(let kind):
            result += bench.names(of: kind)
            // model= takes a session model or a file: once a path is being typed, files too.
            if kind == .model, !partial.isEmpty { result += paths(partial: partial) }
        case .objectName: result += bench.objects.map(\.name)
        case .choice(let words): result += words
        case .bool: result += ["true", "false"]
        case .path: result += paths(partial: partial)
        case .string, .int, .double, .person: break
        }
        return result
    }

    /// `chats[` → `chats[0]` … for an object that declares how many elements it has.
    static func indexCandidates(partial: String, bench: Workbench) -> [String] {
        guard let open = partial.firstIndex(of: "[") else { return [] }
        let name = String(partial[..<open])
        guard let object = bench.object(name), let count = object.indexCount, count > 0 else { return [] }
        let typed = String(partial[partial.index(after: open)...])
        guard typed.allSatisfy(\.isNumber) else { return [] }
        var result: [String] = []
        for index in 0..<count where String(index).hasPrefix(typed) {
            result.append("\(name)[\(index)]")
            if result.count >= candidateLimit { break }
        }
        return result
    }

    /// Files and folders whose path starts with `partial` (folders end in `/`); hidden files
    /// only when the typed name starts with a dot.
    static func paths(partial: String) -> [String] {
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        var shownDirectory = ""
        var base = partial
        if let slash = partial.lastIndex(of: "/") {
            shownDirectory = String(partial[...slash])
            base = String(partial[partial.index(after: slash)...])
        }
        var directory = shownDirectory.isEmpty ? "." : shownDirectory
        if directory.hasPrefix("~/") { directory = home + directory.dropFirst() }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var result: [String] = []
        for name in names where name.hasPrefix(base) && (base.hasPrefix(".") || !name.hasPrefix(".")) {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory)
            result.append(shownDirectory + name + (isDirectory.boolValue ? "/" : ""))
        }
        return result
    }
}
