import PersonaCore

extension CommandTable {
    /// The commands of the session itself: help, objects, settings.
    static let sessionCommands: [CommandSpec] = [
        CommandSpec("help", summary: "List commands, or explain one",
                    examples: ["help", "help import"],
                    arguments: [.variadic("command", required: false, "the command to explain")]) { ctx in
            let words = ctx.arguments.variadic
            if words.isEmpty {
                ctx.printTable([["command", "what it does"]] + CommandTable.all.map { [$0.name, $0.summary] })
                ctx.print("Type 'help COMMAND' for its arguments and examples.")
                return
            }
            let name = words.joined(separator: " ")
            guard let spec = CommandTable.command(named: name) else {
                throw CommandError.unknownCommand(name, suggestion: closestMatch(name, in: CommandTable.all.map(\.name)))
            }
            ctx.print("usage: \(spec.usage)")
            ctx.print(spec.summary)
            if !spec.details.isEmpty { ctx.print(spec.details) }
            if !spec.arguments.isEmpty {
                var rows = [["argument", "type", "default", "meaning"]]
                for a in spec.arguments {
                    rows.append([a.role == .flag ? "--" + a.name : a.name, a.type.expectation,
                                 a.defaultValue ?? (a.required ? "required" : "-"), a.help])
                }
                ctx.printTable(rows)
            }
            if !spec.examples.isEmpty {
                ctx.print("examples:")
                for e in spec.examples { ctx.print("  " + e) }
            }
        },
        CommandSpec("ls", summary: "List the session's named objects",
                    arguments: [.positional("kind", .choice(ObjectKind.allCases.map(\.rawValue)), required: false, "only objects of this kind")]) { ctx in
            let kind = ctx.arguments.string("kind").flatMap(ObjectKind.init(rawValue:))
            let shown = ctx.bench.objects.filter { kind == nil || $0.kind == kind }
            if shown.isEmpty { ctx.print("no objects"); return }
            ctx.printTable([["name", "kind", "summary"]] + shown.map { [$0.name, $0.kind.rawValue, $0.summary] })
        },
        CommandSpec("show", summary: "Show one named object in detail",
                    arguments: [.positional("name", .string, "the object")]) { ctx in
            let name = try ctx.arguments.required("name")
            guard let o = ctx.bench.object(name) else { throw CommandError.noSuchObject(name: name, kind: nil) }
            ctx.print("\(o.name) (\(o.kind.rawValue)): \(o.summary)")
            for line in o.details() { ctx.print(line) }
        },
        CommandSpec("set", summary: "Change session settings",
                    examples: ["set seed=42", "set threads=2"],
                    arguments: [
                        .keyed("seed", .int, "seed of the session's random generator (reseeds it)"),
                        .keyed("threads", .int, "worker threads for numerical work"),
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
            ctx.print("seed=\(ctx.bench.settings.seed) threads=\(ctx.bench.settings.threads)")
        },
        CommandSpec("quit", summary: "Leave the session") { ctx in
            ctx.bench.wantsToQuit = true
        },
    ]
}
