import PersonaCore

/// Every command of the workbench. Each area of the product declares its commands in its
/// own file under Commands/ (`storeCommands`, `modelCommands`, …); help and tab completion
/// are generated from this one list. No prefix matching: a new command never changes
/// what an old session file means.
public enum CommandTable {
    /// The commands by area, in the order `help` lists them.
    public static let sections: [(title: String, commands: [CommandSpec])] = [
        ("session", sessionCommands),
        ("session files", sessionFileCommands),
        ("messages", storeCommands),
        ("text", textCommands),
        ("model files", modelFileCommands),
        ("model", modelCommands),
        ("datasets", dataCommands),
        ("inspection", inspectCommands),
        ("sampling", sampleCommands),
        ("training", trainCommands),
        ("evaluation", evalCommands),
        ("benchmarks", benchCommands),
    ]

    public static let all: [CommandSpec] = sections.flatMap(\.commands)

    private static let byName: [String: CommandSpec] = {
        var table: [String: CommandSpec] = [:]
        for c in all { table[c.name] = c }
        return table
    }()

    public static func command(named name: String) -> CommandSpec? { byName[name] }

    /// Finds the command the words start with (two-word names first) and the words left over.
    /// `extra` commands (a session's own, see `Workbench.extraCommands`) come first.
    public static func resolve(_ words: [String], extra: [CommandSpec] = []) throws -> (CommandSpec, [String]) {
        guard let first = words.first else { throw CommandError.unknownCommand("", suggestion: nil) }
        func find(_ name: String) -> CommandSpec? { extra.first { $0.name == name } ?? byName[name] }
        if words.count >= 2, let two = find(first + " " + words[1]) {
            return (two, Array(words.dropFirst(2)))
        }
        if let one = find(first) { return (one, Array(words.dropFirst())) }
        let names = all.map(\.name) + extra.map(\.name)
        let attempted = words.count >= 2 && names.contains { $0.hasPrefix(first + " ") } ? first + " " + words[1] : first
        throw CommandError.unknownCommand(attempted, suggestion: closestMatch(attempted, in: names))
    }
}

extension Workbench {
    /// Runs one command given as words (already lexed, or argv from the shell). While a
    /// recording is open, the outermost command is written into it with its output.
    public func execute(words: [String]) throws {
        if commandDepth == 0, let recorder, SessionRecorder.isRecorded(words) {
            try recorder.record(words: words, in: self) { try run(words: words) }
        } else {
            try run(words: words)
        }
    }

    private func run(words: [String]) throws {
        let (spec, rest) = try CommandTable.resolve(words, extra: extraCommands)
        let arguments = spec.takesRawWords ? Arguments(rawWords: rest, spec: spec) : try Arguments(words: rest, spec: spec)
        commandDepth += 1
        let outerReadingCommand = readingCommand
        readingCommand = spec.readsOnly ? spec.name : nil
        defer { commandDepth -= 1; readingCommand = outerReadingCommand }
        // Only the outermost command clears Ctrl-C: one pressed during a replay must stop
        // the replay, not just the command that happened to be running.
        if commandDepth == 1 { cancellation.reset() }
        let mark = registrationMark
        try spec.run(CommandContext(bench: self, arguments: arguments, command: spec, words: rest))
        rememberRecipes(words: words, since: mark)
    }

    /// Notes `words` as the recipe of every object this command registered, unless a command
    /// it ran inside itself (`run FILE`) already did: the innermost command recreates it.
    private func rememberRecipes(words: [String], since mark: Int) {
        for name in objectsRegistered(since: mark) {
            if let existing = recipes[name], existing.stamp > mark { continue }
            guard let object = object(name) else { continue }
            recipes[name] = ObjectRecipe(words: words, stamp: registrationMark,
                                         fingerprint: SessionRecipes.fingerprint(of: object.value))
        }
    }

    /// Lexes and runs a line that may hold several `;`-separated commands. While a line mode
    /// is open (the live chat), the line goes to it whole instead.
    public func execute(line: String) throws {
        if let mode = lineMode { return try execute(line: line, in: mode) }
        for words in try LineLexer.split(line) {
            try execute(words: words)
            if wantsToQuit { return }
        }
    }
}
