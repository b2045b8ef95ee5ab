import Foundation
import PersonaCore
import PersonaStore

/// The store area's session state: the workspace's message store, opened on first use.
final class StoreState {
    let store: MessageStore
    init(workspace: Workspace) throws { store = try MessageStore(workspace: workspace) }
}

extension CommandContext {
    /// The workspace's message store (opened, created and migrated on first use).
    func messageStore() throws -> MessageStore {
        try bench.state(StoreState.self) { try StoreState(workspace: try bench.workspace()) }.store
    }
}

/// Filter arguments shared by every command that reads messages through a `MessageFilter`.
enum StoreFilterArguments {
    static let specs: [ArgumentSpec] = [
        .flag("groups", "include group chats"),
        .flag("strangers", "include people not in the contacts"),
        .keyed("min", .int, default: "1000", "least text messages in one-to-one chats for a person to be kept"),
        .keyed("since", .string, "only messages at or after this date (2024-01-31 or ISO 8601, UTC)"),
        .keyed("until", .string, "only messages before this date"),
        .flag("system", "keep app notices"),
        .flag("reactions", "keep reactions (tapbacks)"),
        .flag("media", "keep media placeholders"),
        .flag("redact", "replace phone numbers, emails, URLs and card-like numbers"),
    ]

    static func filter(_ ctx: CommandContext, person: String? = nil) throws -> MessageFilter {
        let a = ctx.arguments
        func date(_ key: String) throws -> Date? {
            guard let raw = a.string(key) else { return nil }
            guard let d = UTCFormat.parse(raw) else {
                throw CommandError.badValue(command: ctx.command.name, argument: key, value: raw, expected: "a date such as 2024-01-31")
            }
            return d
        }
        let min = a.int("min", default: 1000)
        guard min >= 0 else { throw CommandError.badValue(command: ctx.command.name, argument: "min", value: String(min), expected: "a count of 0 or more") }
        return MessageFilter(excludeGroups: !a.flag("groups"), contactsOnly: !a.flag("strangers"), minMessages: min,
                             since: try date("since"), until: try date("until"),
                             includeSystem: a.flag("system"), includeReactions: a.flag("reactions"), includeMedia: a.flag("media"),
                             redact: a.flag("redact"), person: person)
    }
}

extension CommandTable {
    /// Commands of the store area.
    static let storeCommands: [CommandSpec] = [
        CommandSpec("import", summary: "Import message exports into the workspace's store",
                    details: """
                        Formats are detected from content: iMazing CSV, WhatsApp text or .zip, Messages chat.db/sms.db, \
                        SMS Backup & Restore XML, Telegram result.json, generic CSV/JSONL (timestamp, conversation, sender, text), \
                        vCard contacts. Each file imports in one transaction; importing the same messages again adds nothing.
                        Files of a folder or a pattern that are not exports (photos, read-me files) are skipped and listed in one line; \
                        a file named on its own must be an export, and format= applies to every file.
                        timezone applies to exports whose times carry no zone (WhatsApp text, iMazing CSV); absolute times are never shifted.
                        """,
                    examples: ["import chats/*.csv me=\"Sam Rivera\" timezone=Europe/London",
                               "import \"WhatsApp Chat with Alex.zip\" country=GB", "import contacts.vcf"],
                    arguments: [
                        .variadic("file", .path, "export files, folders of them, or patterns (exports/*.csv)"),
                        .keyed("format", .choice(ImportFormat.allCases.map(\.rawValue)), "force a format instead of detecting it"),
                        .keyed("me", .string, "your name as exports show it (WhatsApp text names every sender)"),
                        .keyed("timezone", .string, "zone of times without one (default: the system's)"),
                        .keyed("country", .string, default: "US", "country of national phone numbers (ISO code: US, GB, DE…)"),
                        .keyed("dayfirst", .bool, "read WhatsApp dates day-first (true) or month-first (false) instead of deciding from the file"),
                    ]) { ctx in
            let a = ctx.arguments
            var zone = TimeZone.current
            if let name = a.string("timezone") {
                guard let z = TimeZone(identifier: name) else {
                    throw CommandError.badValue(command: "import", argument: "timezone", value: name, expected: "a zone such as Europe/London or UTC")
                }
                zone = z
            }
            let country = a.string("country", default: "US").uppercased()
            guard HandleNormalizer.isKnownCountry(country) else {
                throw CommandError.badValue(command: "import", argument: "country", value: country, expected: "an ISO country code such as US, GB, DE")
            }
            let options = ImportOptions(format: a.string("format").flatMap(ImportFormat.init(rawValue:)), me: a.string("me"),
                                        timeZone: zone, defaultCountry: country, dayFirst: a.has("dayfirst") ? a.flag("dayfirst") : nil)
            let files = try a.variadic.flatMap { try expandImportPath($0) }
            let store = try ctx.messageStore()
            if let me = options.me { try store.setMe(name: me) }
            ctx.progress.begin("import", total: files.count, unit: "files")
            defer { ctx.progress.finish() }
            var notExports: [String] = []
            for (i, (file, named)) in files.enumerated() {
                try ctx.cancellation.check()
                // A file named on the line must be an export; one found in a folder or by a
                // pattern may be a photo or a read-me beside the exports, and is passed over.
                let imported = named ? try store.importFile(file, options: options, cancellation: ctx.cancellation)
                    : try store.importIfExport(file, options: options, cancellation: ctx.cancellation)
                ctx.progress.advance(to: i + 1)
                guard let s = imported else { notExports.append((file as NSString).lastPathComponent); continue }
                let time = String(format: "%.2f s", s.seconds)
                if s.format == .vcard {
                    ctx.print("\(file): \(s.format.rawValue), \(s.contacts) contacts, \(s.skippedMessages) skipped (\(time))")
                } else {
                    ctx.print("\(file): \(s.format.rawValue), \(s.conversations) conversation\(s.conversations == 1 ? "" : "s"), "
                              + "\(s.newMessages) new, \(s.duplicateMessages) duplicate, \(s.skippedMessages) skipped (\(time))")
                }
                for warning in s.warnings { ctx.print("\(file): warning: \(warning)") }
            }
            if !notExports.isEmpty {
                let shown = notExports.prefix(5).joined(separator: ", ") + (notExports.count > 5 ? ", and \(notExports.count - 5) more" : "")
                if notExports.count == files.count {
                    throw CommandError.failed(command: "import", reason: "none of the files found is an export: \(shown); "
                                              + "import one by name to see why, or give format=")
                }
                ctx.print(notExports.count == 1 ? "skipped 1 file that is not an export: \(shown)"
                          : "skipped \(notExports.count) files that are not exports: \(shown)")
            }
        },
        CommandSpec("messages", summary: "Print the messages that pass the filters",
                    details: "Ordered by conversation, then time. --jsonl prints one object a line: conversation, sender, is_me, sent_at (ISO 8601, UTC), text, kind.",
                    examples: ["messages person=Alex --jsonl", "messages --all --jsonl"],
                    arguments: [
                        .keyed("person", .person, "only conversations with this person"),
                        .flag("all", "every message: groups, strangers, rare contacts and every kind"),
                        .flag("jsonl", "one JSON object a line"),
                    ] + StoreFilterArguments.specs) { ctx in
            let store = try ctx.messageStore()
            let person = ctx.arguments.string("person")
            var filter = try StoreFilterArguments.filter(ctx, person: person)
            if ctx.arguments.flag("all") {
                filter = MessageFilter.everything
                filter.person = person
                filter.redact = ctx.arguments.flag("redact")
            }
            let messages = try store.messages(filter: filter)
            let jsonl = ctx.arguments.flag("jsonl")
            for m in messages {
                if jsonl {
                    ctx.print("{\"conversation\": \(jsonString(m.conversation)), \"sender\": \(m.sender.map(jsonString) ?? "null"), "
                              + "\"is_me\": \(m.isMe), \"sent_at\": \(jsonString(UTCFormat.iso8601(m.sentAt))), "
                              + "\"text\": \(jsonString(m.text)), \"kind\": \(jsonString(m.kind.rawValue))}")
                } else {
                    let kind = m.kind == .text ? "" : " [\(m.kind.rawValue)]"
                    ctx.print("\(UTCFormat.minute(m.sentAt))  \(m.conversation)  \(m.sender ?? "-"):\(kind) \(m.text)")
                }
            }
            if !jsonl { ctx.print("\(messages.count) message\(messages.count == 1 ? "" : "s")") }
        }.readingOnly,
        CommandSpec("people", summary: "List the people in the store and who can be imitated",
                    details: "sent: messages they wrote; received: messages you wrote in chats with them; imitable: in contacts, one-to-one, at least min text messages.",
                    examples: ["people", "people min=500"],
                    arguments: [.keyed("min", .int, default: "1000", "text messages needed to be imitable")]) { ctx in
            let min = ctx.arguments.int("min", default: 1000)
            let rows = try ctx.messageStore().peopleSummaries(minMessages: min)
            if rows.isEmpty { ctx.print("no people; 'import FILE' first"); return }
            var table = [["person", "sent", "received", "first", "last", "chats", "contacts", "imitable"]]
            for p in rows {
                let chats = [p.inOneToOne ? "1:1" : nil, p.inGroup ? "group" : nil].compactMap { $0 }.joined(separator: "+")
                table.append([p.name, String(p.sent), String(p.received), p.first.map(UTCFormat.day) ?? "-", p.last.map(UTCFormat.day) ?? "-",
                              chats.isEmpty ? "-" : chats, p.inContacts ? "yes" : "no", p.imitable ? "yes" : "no"])
            }
            ctx.printTable(table, rightAligned: [1, 2])
            ctx.print("\(rows.filter(\.imitable).count) of \(rows.count) people imitable (min=\(min))")
            if !rows.contains(where: \.inContacts) {
                ctx.print("nobody is in the contacts: import a .vcf of your contacts, or pass --strangers to the filters")
            }
        }.readingOnly,
        CommandSpec("people merge", summary: "Merge two people into one (A's handles and messages become B's)",
                    examples: ["people merge \"+44 7700 900123\" \"Alex Chen\""],
                    arguments: [.positional("a", .person, "the person merged away"), .positional("b", .person, "the person kept")]) { ctx in
            let a = try ctx.arguments.required("a"), b = try ctx.arguments.required("b")
            let kept = try ctx.messageStore().mergePeople(a, into: b)
            ctx.print("merged '\(a)' into \(kept.name) (#\(kept.id))")
        },
        CommandSpec("stats", summary: "Counts of people, conversations and messages in the store") { ctx in
            let s = try ctx.messageStore().stats()
            ctx.print("people: \(s.people) (\(s.contacts) in contacts)")
            ctx.print("conversations: \(s.conversations) (\(s.groupConversations) group)")
            let kinds = MessageKind.allCases.map { "\($0.rawValue) \(s.messagesByKind[$0] ?? 0)" }.joined(separator: ", ")
            ctx.print("messages: \(s.messages) (\(kinds))")
            if !s.messagesBySource.isEmpty {
                ctx.print("sources: " + s.messagesBySource.map { "\($0.source) \($0.count)" }.joined(separator: ", "))
            }
            if let first = s.first, let last = s.last { ctx.print("from \(UTCFormat.day(first)) to \(UTCFormat.day(last))") }
            ctx.print("imports: \(s.imports)")
        }.readingOnly,
        CommandSpec("person", summary: "Show one person: handles, conversations, last messages",
                    examples: ["person Alex last=20", "person #3"],
                    arguments: [.positional("person", .person, "name, #id, phone or email"),
                                .keyed("last", .int, default: "10", "how many recent messages to show")]) { ctx in
            let last = ctx.arguments.int("last", default: 10)
            guard last >= 0 else { throw CommandError.badValue(command: "person", argument: "last", value: String(last), expected: "0 or more") }
            let d = try ctx.messageStore().personDetails(try ctx.arguments.required("person"), last: last)
            ctx.print("\(d.person.name) (#\(d.person.id))\(d.person.isMe ? ", you" : "")\(d.person.inContacts ? ", in contacts" : ", not in contacts")")
            for h in d.handles { ctx.print("  handle \(h)") }
            for c in d.conversations { ctx.print("  \(c.isGroup ? "group" : "1:1") \(c.title): \(c.messages) messages") }
            for m in d.recent {
                let kind = m.kind == .text ? "" : " [\(m.kind.rawValue)]"
                ctx.print("\(UTCFormat.minute(m.sentAt))  \(m.conversation)  \(m.sender ?? "-"):\(kind) \(m.text)")
            }
        }.readingOnly,
        CommandSpec("demo-data", summary: "Write an invented message history in real export formats",
                    details: "Sam Rivera and five contacts of clearly different styles (1,000+ messages each), a group chat, a stranger and a rare contact, as iMazing CSV files and a WhatsApp export. Deterministic for a seed.",
                    examples: ["demo-data demo-exports", "import demo-exports me=\"Sam Rivera\" timezone=UTC"],
                    arguments: [.positional("dir", .path, "folder to write (created 0700)"),
                                .keyed("seed", .int, default: "7", "seed of the generator")]) { ctx in
            let dir = try ctx.arguments.required("dir")
            let seed = ctx.arguments.int("seed", default: 7)
            guard seed >= 0 else { throw CommandError.badValue(command: "demo-data", argument: "seed", value: String(seed), expected: "0 or more") }
            let files = try DemoDataGenerator(seed: UInt64(seed)).write(to: dir)
            for f in files { ctx.print("\(f.path): \(f.format.rawValue), \(f.messages) messages") }
            ctx.print("import with: import \(dir) me=\"\(DemoDataGenerator.ownerName)\" timezone=UTC")
        },
    ]
}

extension BenchTable {
    /// Benchmarks of the store area.
    static let storeBenches: [BenchSpec] = [
        BenchSpec("import", summary: "Import a 250,000-message iMazing CSV and WhatsApp export into fresh workspaces") { ctx in
            let runs = max(1, ctx.arguments.int("runs", default: 1))
            let count = 250_000
            let folder = NSTemporaryDirectory() + "persona-bench-import-\(getpid())"
            try PrivateFiles.makeDirectory(folder)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let csv = folder + "/Messages - Alex Chen.csv", whatsapp = folder + "/WhatsApp Chat with Alex Chen.txt"
            try DemoDataGenerator.writeBenchmarkExports(messages: count, imazingPath: csv, whatsappPath: whatsapp, seed: 1)
            var results: [BenchResult] = []
            var notes: [String] = []
            for (label, path) in [("imazing", csv), ("whatsapp", whatsapp)] {
                var seconds: [Double] = []
                var cpuSeconds: [Double] = []
                for run in 0..<runs {
                    let workspacePath = folder + "/workspace-\(label)-\(run)"
                    let store = try MessageStore(workspace: try Workspace(path: workspacePath))
                    let options = ImportOptions(me: DemoDataGenerator.ownerName, timeZone: TimeZone(identifier: "UTC") ?? .current)
                    var summary: ImportSummary?
                    let cpuBefore = processCPUSeconds()
                    seconds += try measureSeconds(runs: 1) { summary = try store.importFile(path, options: options) }
                    cpuSeconds.append(processCPUSeconds() - cpuBefore)
                    if let s = summary, s.newMessages != count {
                        notes.append("\(label): imported \(s.newMessages) of \(count) messages")
                    }
                }
                results.append(BenchResult(name: "\(label) 250k seconds", unit: "s", samples: seconds))
                results.append(BenchResult(name: "\(label) messages/s", unit: "msg/s", samples: seconds.map { Double(count) / $0 }))
                results.append(BenchResult(name: "\(label) 250k cpu seconds", unit: "s", samples: cpuSeconds))
            }
            notes.append("target: at most 3 s per format (about 80,000+ messages/s) on 2 cores")
            notes.append("cpu seconds: user + system time of this process (wall time inflates on a busy machine)")
            return BenchReport(bench: "import", results: results, notes: notes)
        },
    ]
}

/// User plus system CPU time of this process so far.
private func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
}

/// The files an `import` argument names: itself (`named`), the visible files of a folder
/// (sorted), or the matches of a pattern (sorted), since the REPL has no shell to expand `*`.
private func expandImportPath(_ argument: String) throws -> [(path: String, named: Bool)] {
    if argument.contains("*") || argument.contains("?") || argument.contains("[") {
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(argument, 0, nil, &result) == 0 else {
            throw CommandError.failed(command: "import", reason: "no file matches '\(argument)'")
        }
        var matches: [String] = []
        for i in 0..<Int(result.gl_pathc) {
            if let p = result.gl_pathv[i] { matches.append(String(cString: p)) }
        }
        return matches.sorted().map { ($0, false) }
    }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), isDirectory.boolValue {
        let names = try FileManager.default.contentsOfDirectory(atPath: argument).filter { !$0.hasPrefix(".") }.sorted()
        let folder = argument.hasSuffix("/") ? String(argument.dropLast()) : argument
        let files = names.map { folder + "/" + $0 }.filter {
            var sub: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &sub) && !sub.boolValue
        }
        guard !files.isEmpty else { throw CommandError.failed(command: "import", reason: "the folder '\(argument)' holds no files") }
        return files.map { ($0, false) }
    }
    return [(argument, true)]
}
