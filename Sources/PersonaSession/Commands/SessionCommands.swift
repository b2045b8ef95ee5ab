import Foundation
import PersonaCore

extension CommandTable {
    /// The commands of the session itself: help, objects, settings.
    static let sessionCommands: [CommandSpec] = [
        CommandSpec("help", summary: "List commands, or explain one",
                    details: "Help is generated from the command table, so it always matches what runs.",
                    examples: ["help", "help set", "help run"],
                    arguments: [.variadic("command", required: false, "the command to explain")]) { ctx in
            let words = ctx.arguments.variadic
            if words.isEmpty {
                printCommandList(CommandTable.sections, ctx: ctx)
                ctx.print("Type 'help COMMAND' for its arguments and examples.")
                return
            }
            let name = words.joined(separator: " ")
            if let spec = CommandTable.command(named: name) {
                printHelp(for: spec, ctx: ctx)
                return
            }
            // `help model` lists the two-word commands that begin with `model`.
            let family = CommandTable.all.filter { $0.name.hasPrefix(name + " ") }
            if !family.isEmpty {
                printCommandList([(title: name, commands: family)], ctx: ctx)
                return
            }
            throw CommandError.unknownCommand(name, suggestion: closestMatch(name, in: CommandTable.all.map(\.name)))
        },
        CommandSpec("ls", summary: "List the session's named objects",
                    examples: ["ls", "ls model"],
                    arguments: [.positional("kind", .choice(ObjectKind.allCases.map(\.rawValue)), required: false, "only objects of this kind")]) { ctx in
            let kind = ctx.arguments.string("kind").flatMap(ObjectKind.init(rawValue:))
            let shown = ctx.bench.objects.filter { kind == nil || $0.kind == kind }
            if shown.isEmpty { ctx.print("no objects"); return }
            ctx.printTable([["name", "kind", "summary"]] + shown.map { [$0.name, $0.kind.rawValue, $0.summary] })
        },
        CommandSpec("show", summary: "Show one named object in detail",
                    examples: ["show base"],
                    arguments: [.positional("name", .objectName, "the object")]) { ctx in
            let name = try ctx.arguments.required("name")
            guard let o = ctx.bench.object(name) else {
                // Saved generations are numbered, not named: point there rather than at 'ls'.
                if Int(name) != nil { throw CommandError.failed(command: "show", reason: "no object named '\(name)'; 'generation show \(name)' shows saved generation \(name)") }
                throw CommandError.noSuchObject(name: name, kind: nil)
            }
            ctx.print("\(o.name) (\(o.kind.rawValue)): \(o.summary)")
            for line in o.details() { ctx.print(line) }
        },
        CommandSpec("drop", summary: "Forget named objects (frees what they hold)",
                    examples: ["drop old-sampler", "drop a b"],
                    arguments: [.variadic("name", .objectName, "the objects to forget")]) { ctx in
            let names = ctx.arguments.variadic
            for name in names where ctx.bench.object(name) == nil { throw CommandError.noSuchObject(name: name, kind: nil) }
            for name in names { ctx.bench.remove(name) }
            ctx.print("dropped " + names.joined(separator: ", "))
        },
        {
            var spec = CommandSpec(
                "let", summary: "Run a command and give the object it creates a name",
                details: """
                let NAME = COMMAND … runs COMMAND and names the object it creates NAME (letters, digits, \
                '_', '-', '.'; starting with a letter). A command whose first argument is the object's \
                name (model NAME PATH) gets NAME there, one with a name= argument gets name=NAME; \
                otherwise the last object the command registered is renamed. An object already \
                called NAME is replaced. It is an error when the command creates no object.
                """,
                examples: ["let base = model models/SmolLM2-135M-Instruct.Q4_1.gguf", "let hot = sampler temperature=1.2"],
                arguments: [
                    .positional("name", .string, "the name to give"),
                    .variadic("command", .string, "'=' then the command that creates the object"),
                ]) { ctx in
                try runLet(words: ctx.words, bench: ctx.bench)
            }
            spec.takesRawWords = true
            return spec
        }(),
        CommandSpec("set", summary: "Change session settings (no arguments: show them)",
                    details: "Replays are deterministic for a given seed and thread count: a .persona file starts with 'set seed=… threads=…'.",
                    examples: ["set seed=42", "set threads=2", "set editor=vi", "set color=off"],
                    arguments: [
                        .keyed("seed", .int, "seed of the session's random generator (reseeds it)"),
                        .keyed("threads", .int, "worker threads for numerical work"),
                        .keyed("editor", .choice(["emacs", "vi"]), "key bindings at the prompt"),
                        .keyed("color", .choice(["on", "off"]), "colour in heat maps and highlights (only ever on a terminal, never with NO_COLOR or in recordings)"),
                    ]) { ctx in
            if let seed = ctx.arguments.int("seed") {
                guard seed >= 0 else { throw CommandError.badValue(command: "set", argument: "seed", value: String(seed), expected: "a non-negative integer") }
                ctx.bench.reseed(UInt64(seed))
            }
            if let threads = ctx.arguments.int("threads") {
                guard (1...256).contains(threads) else {
                    throw CommandError.badValue(command: "set", argument: "threads", value: String(threads), expected: "1 to 256")
                }
                ctx.bench.settings.threads = threads
            }
            var shown = "seed=\(ctx.bench.settings.seed) threads=\(ctx.bench.settings.threads)"
            if let editor = ctx.arguments.string("editor") {
                ctx.bench.settings.editor = editor
                shown += " editor=\(editor)"
            }
            if let color = ctx.arguments.string("color") {
                ctx.bench.settings.color = color == "on"
                shown += " color=\(color)"
            }
            ctx.print(shown)
        },
        CommandSpec("echo", summary: "Print its words (notes in a recorded session)",
                    examples: [#"echo "baseline done""#],
                    arguments: [.variadic("text", required: false, "the words to print")]) { ctx in
            ctx.print(ctx.arguments.variadic.joined(separator: " "))
        },
        CommandSpec("sleep", summary: "Wait, showing progress; Ctrl-C cancels it",
                    details: "Useful to try progress and cancellation, and to pace a demonstration.",
                    examples: ["sleep 2", "sleep 0.5"],
                    arguments: [.positional("seconds", .double, "how long to wait (at most 86400)")]) { ctx in
            let seconds = ctx.arguments.double("seconds") ?? 0
            guard seconds >= 0, seconds <= 86_400 else {
                throw CommandError.badValue(command: "sleep", argument: "seconds", value: String(seconds), expected: "0 to 86400")
            }
            let milliseconds = Int((seconds * 1000).rounded(.up))
            let start = monotonicSeconds()
            ctx.progress.begin("sleep", total: milliseconds, unit: "ms")
            defer { ctx.progress.finish() }
            while true {
                try ctx.cancellation.check()
                let elapsed = monotonicSeconds() - start
                if elapsed >= seconds { break }
                ctx.progress.advance(to: min(milliseconds, Int(elapsed * 1000)))
                usleep(UInt32(min(0.02, seconds - elapsed) * 1_000_000) + 1)
            }
        },
        CommandSpec("quit", summary: "Leave the session (Ctrl-D does the same)") { ctx in
            ctx.bench.wantsToQuit = true
        },
        CommandSpec("exit", summary: "Leave the session (as quit)") { ctx in
            ctx.bench.wantsToQuit = true
        },
    ]

    /// Commands that record and replay `.persona` files.
    static let sessionFileCommands: [CommandSpec] = [
        CommandSpec("run", summary: "Replay a .persona session file; --check compares outputs with the recording",
                    details: """
                    A .persona file holds prose ('#' lines), commands, and under each command its recorded \
                    output as lines starting with '| ' (a lone '|' is an empty line; 'error: …' records an \
                    expected error). 'run FILE' replays it in this session and prints it as it goes. An error \
                    that was not recorded stops the replay, naming FILE:LINE, unless --keep-going.
                    --check compares every command's output with the recorded one and fails on the first \
                    difference with FILE:LINE and a diff. Before comparing, both sides are normalised: \
                    rates ('456 tokens/s', '12.5 MB/s') become <rate>; durations ('0.123 s', '12.3 ms', '4s') \
                    become <time>; save times with seconds ('2026-12-06 04:20:11') become <clock>; the workspace path becomes <workspace>, the current folder <cwd>, and paths \
                    under the temporary folder (/tmp/…) <tmp>; runs of spaces count as one and trailing \
                    spaces are ignored. Then numbers are compared as numbers, because the last digits of a float \
                    differ between CPUs (AVX2, AVX-512): a number printed with a decimal point matches when the \
                    two differ by at most 1e-3 relative or by one unit in the last recorded digit ('9.9058' \
                    replays as '9.9059'; '9.9058' → '9.9258' fails). Integers (counts, ids, steps), token text, \
                    generated text and everything else must match exactly. Recordings write <workspace> and \
                    <cwd> in place of those folders, so a session file names no one's home folder.
                    --update replays and rewrites the recorded outputs (atomically; an unrecorded error stops \
                    it and leaves the file as it was, unless --keep-going, which records the error).
                    Relative paths in a file are relative to the current folder: run sessions/ from the \
                    repository root. Files replayed inside each other stop at 8 deep.
                    """,
                    examples: ["run sessions/workbench.persona", "run --check sessions/workbench.persona",
                               "run --update sessions/workbench.persona"],
                    arguments: [
                        .positional("file", .path, "the .persona file"),
                        .flag("check", "compare outputs with the recorded ones; print only the result"),
                        .flag("update", "rewrite the recorded outputs with the new ones"),
                        .flag("keep_going", "go on after an error or a difference (and fail at the end)"),
                    ]) { ctx in
            let path = try ctx.arguments.required("file")
            let check = ctx.arguments.flag("check"), update = ctx.arguments.flag("update")
            if check && update {
                throw CommandError.failed(command: "run", reason: "--check and --update do not go together: check first, then update")
            }
            let options = SessionReplayer.Options(check: check, update: update, keepGoing: ctx.arguments.flag("keep_going"),
                                                  printTranscript: !check && !update)
            let summary = try ctx.bench.closingLineModesOpened { try SessionReplayer.replay(path: path, in: ctx.bench, options: options) }
            if check {
                ctx.print("\(path): \(summary.commands) commands replayed, every output matches the recording")
            } else if update {
                ctx.print("\(path): \(summary.commands) commands replayed, \(summary.updated) recorded outputs updated")
            }
        },
        CommandSpec("replay", summary: "Run a .persona file inside this session, printing it as it goes",
                    details: "The same as 'run FILE' (see 'help run'): objects and settings it makes stay in the session.",
                    examples: ["replay sessions/workbench.persona"],
                    arguments: [
                        .positional("file", .path, "the .persona file"),
                        .flag("keep_going", "go on after an error"),
                    ]) { ctx in
            let path = try ctx.arguments.required("file")
            try ctx.bench.closingLineModesOpened {
                try SessionReplayer.replay(path: path, in: ctx.bench, options: .init(keepGoing: ctx.arguments.flag("keep_going")))
            }
        },
        CommandSpec("record", summary: "Record the session into a .persona file ('record stop' ends it)",
                    details: """
                    Every command typed after 'record FILE' is appended to FILE with its output, errors \
                    included, so that 'run --check FILE' replays it. The recording starts with the commands \
                    that recreate the session's models, samplers and adapters (and 'model use' / 'adapter \
                    use' for the active ones), so that it replays on its own; an adapter trained since it was \
                    made cannot be recreated by a command, and 'record' refuses, naming it. Then comes \
                    'set seed=… threads=…' (which reseeds the session) so that it replays from the same \
                    state. Datasets and messages live in the workspace and are not written. The file is \
                    private (0600).
                    """,
                    examples: ["record afternoon.persona", "record stop", "record notes.persona --append"],
                    arguments: [
                        .positional("file", .path, "the .persona file to write, or 'stop'"),
                        .flag("append", "add to an existing file instead of refusing to overwrite it"),
                    ]) { ctx in
            let path = try ctx.arguments.required("file")
            let bench = ctx.bench
            if path == "stop" {
                guard let recorder = bench.recorder else { throw CommandError.failed(command: "record", reason: "no recording is running") }
                bench.recorder = nil
                ctx.print("recording stopped: \(recorder.path)")
                return
            }
            if let recorder = bench.recorder {
                throw CommandError.failed(command: "record", reason: "already recording to \(recorder.path); 'record stop' first")
            }
            // Made before the file is opened: an object that cannot be recreated leaves no file behind.
            let trainState = bench.existingState(TrainAreaState.self)
            let preamble = try SessionRecipes.preamble(for: bench, active: (ctx.sessionModels.activeModel, trainState?.activeAdapter))
            let recorder = try SessionRecorder(path: path, append: ctx.arguments.flag("append"))
            try recorder.append(preamble.text)
            // The recording begins from a known state: the seed and thread count, reapplied.
            let start = ["set", "seed=\(bench.settings.seed)", "threads=\(bench.settings.threads)"]
            let screen = bench.output
            let captured = CapturedOutput()
            bench.output = captured
            defer { bench.output = screen }
            try bench.execute(words: start)
            var entry = LineLexer.join(start) + "\n"
            for line in SessionFile.lines(of: captured.text) { entry += SessionFile.outputLine(line) + "\n" }
            try recorder.append(entry)
            bench.output = screen
            bench.recorder = recorder
            ctx.print("recording to \(path) ('record stop' ends it)")
            if !preamble.names.isEmpty { ctx.print("  it begins with the commands that recreate \(preamble.names.joined(separator: ", "))") }
        },
    ]

    private static func printCommandList(_ sections: [(title: String, commands: [CommandSpec])], ctx: CommandContext) {
        let width = sections.flatMap(\.commands).map(\.name.count).max() ?? 0
        for section in sections where !section.commands.isEmpty {
            ctx.print(section.title)
            for c in section.commands {
                ctx.print("  " + c.name + String(repeating: " ", count: width - c.name.count) + "  " + c.summary)
            }
        }
    }

    private static func printHelp(for spec: CommandSpec, ctx: CommandContext) {
        ctx.print("usage: \(spec.usage)")
        ctx.print(spec.summary)
        for paragraph in spec.details.isEmpty ? [] : spec.details.split(separator: "\n", omittingEmptySubsequences: false) {
            for line in wrap(String(paragraph), width: 90) { ctx.print(line) }
        }
        if !spec.arguments.isEmpty {
            var rows = [["argument", "type", "default", "meaning"]]
            for a in spec.arguments {
                let name: String
                switch a.role {
                case .flag: name = "--" + a.name.replacingOccurrences(of: "_", with: "-")
                case .keyed: name = a.name + "="
                case .positional: name = a.name.uppercased()
                case .variadic: name = a.name.uppercased() + "…"
                }
                rows.append([name, a.role == .flag ? "switch" : a.type.expectation, a.role == .flag ? "off" : (a.defaultValue ?? (a.required ? "required" : "-")), a.help])
            }
            ctx.printTable(rows)
        }
        if !spec.examples.isEmpty {
            ctx.print("examples:")
            for e in spec.examples { ctx.print("  " + e) }
        }
    }

    /// Words of `text` in lines of at most `width` columns (a longer word gets its own line).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty, current.unicodeScalars.count + 1 + word.unicodeScalars.count > width {
                lines.append(current)
                current = ""
            }
            current += (current.isEmpty ? "" : " ") + word
        }
        if !current.isEmpty || lines.isEmpty { lines.append(current) }
        return lines
    }

    /// `let NAME = COMMAND …`
    static func runLet(words: [String], bench: Workbench) throws {
        guard words.count >= 3, words[1] == "=" else {
            throw CommandError.failed(command: "let", reason: "expected 'let NAME = COMMAND …'")
        }
        let name = words[0]
        guard isObjectName(name) else {
            throw CommandError.badValue(command: "let", argument: "name", value: name,
                                        expected: "letters, digits, '_', '-' or '.', starting with a letter")
        }
        var command = Array(words.dropFirst(2))
        let (spec, rest) = try CommandTable.resolve(command, extra: bench.extraCommands)
        let keyedName = spec.arguments.contains { $0.name == "name" && $0.role == .keyed }
        // `model NAME PATH`: a command whose first positional is its object's name gets it there.
        let positionalName = spec.arguments.first { $0.role == .positional }?.name.lowercased() == "name"
        let takesName = keyedName || positionalName
        if keyedName {
            if rest.contains(where: { $0.hasPrefix("name=") || $0 == "--name" || $0.hasPrefix("--name=") }) {
                throw CommandError.failed(command: "let", reason: "give the name once: 'let \(name) = \(spec.name) …' without name=")
            }
            command.append("name=\(name)")
        } else if positionalName {
            command.insert(name, at: command.count - rest.count)
        }
        let mark = bench.registrationMark
        try bench.execute(words: command)
        let created = bench.objectsRegistered(since: mark)
        if takesName, created.contains(name) { return }
        guard let last = created.last else {
            throw CommandError.failed(command: "let", reason: "'\(spec.name)' created no object to name")
        }
        try bench.rename(last, to: name)
    }

    static func isObjectName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.properties.isAlphabetic else { return false }
        return s.unicodeScalars.allSatisfy {
            $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == "."
        }
    }
}
