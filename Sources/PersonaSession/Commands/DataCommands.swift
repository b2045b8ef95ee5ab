import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PersonaCore
import PersonaData
import PersonaModel
import PersonaStore
import PersonaTensor
import PersonaText

/// The data area's session state: tokenizers loaded by path, and the dataset tables.
final class DataState {
    var tokenizers: [String: (Tokenizer, ChatMarkupName?)] = [:]
    var datasetStore: DatasetStore?
}

extension CommandContext {
    fileprivate var dataState: DataState { bench.state(DataState.self) { DataState() } }

    /// The dataset tables of the workspace database (created on first use).
    func datasetStore() throws -> DatasetStore {
        if let existing = dataState.datasetStore { return existing }
        let store = try DatasetStore(database: try messageStore().database)
        dataState.datasetStore = store
        return store
    }

    /// The tokenizer (and chat markup) of `model=` (a session model or a file; nil: the session's model).
    fileprivate func datasetTokenizer(_ model: String?) throws -> (path: String, tokenizer: Tokenizer, markup: ChatMarkupName?) {
        let path = try DataCommandSupport.resolveModelPath(try modelPath(model))
        if let cached = dataState.tokenizers[path] { return (path, cached.0, cached.1) }
        let gguf = try GGUFFile(path: path)
        let tokenizer = try loadTokenizer(gguf: gguf)
        var markup: ChatMarkupName? = nil
        if let template = try? ChatTemplate.forModel(gguf: gguf) {
            switch template.family {
            case .chatml: markup = .chatML
            case .llama3: markup = .llama3
            case .llama2, .mistral: markup = nil
            }
        }
        dataState.tokenizers[path] = (tokenizer, markup)
        return (path, tokenizer, markup)
    }

    /// The dataset called `name`: from the session, else loaded from the workspace and registered.
    func dataset(named name: String) throws -> Dataset {
        if let d = try? bench.object(name, kind: .dataset, as: Dataset.self) { return d }
        let d = try datasetStore().load(name)
        bench.register(DataCommandSupport.namedObject(d))
        return d
    }
}

enum DataCommandSupport {
    /// A `.gguf` file, or a folder holding exactly one.
    static func resolveModelPath(_ model: String?) throws -> String {
        let path = try model ?? DefaultModel.resolve(nil)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CommandError.failed(command: "dataset", reason: "model file \(path) not found (give model=FILE.gguf)")
        }
        guard isDirectory.boolValue else { return path }
        let ggufs = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".gguf") }.sorted()
        guard ggufs.count == 1, let only = ggufs.first else {
            throw CommandError.failed(command: "dataset", reason: "\(path) holds \(ggufs.count) .gguf files; name one with model=FILE.gguf")
        }
        return path + "/" + only
    }

    static func namedObject(_ d: Dataset) -> NamedObject {
        var object = NamedObject(name: d.name, kind: .dataset, summary: summary(d), value: d) { details(d) }
        object.indexCount = d.chunks.count   // Tab completes `NAME[` with chunk indices
        return object
    }

    static func summary(_ d: Dataset) -> String {
        let train = d.chunks(split: .train).count
        return "\(d.chunks.count) chunks (\(train) train, \(d.chunks.count - train) test), \(d.tokenCount) tokens, format \(d.parameters.format.rawValue) v\(d.formatVersion)"
    }

    static func details(_ d: Dataset) -> [String] {
        let p = d.parameters
        var lines = [
            "tokens: \(d.tokenCount) (\(d.countedTokenCount) counted by the loss), max_tokens=\(p.maxTokens)",
            "messages: \(d.report.messagesUsed) used from \(d.report.conversations) conversations; \(d.report.messagesDropped) left out by kind; \(d.report.splitMessages) cut to fit",
            "split: \(p.split.rawValue), test_fraction=\(p.testFraction)\(p.split == .random ? ", seed=\(p.seed)" : ""); imitate=\(p.imitate.rawValue); overlap=\(p.overlap)",
            "sessions: gap=\(Int(p.sessionGapSeconds))s\(p.spanSessions ? " (chunks may span sessions)" : ""); merge=\(p.merge); reactions=\(p.reactions)",
            "tokenizer: \(p.tokenizerSource); digest \(d.contentDigest)",
        ]
        if p.conversationsSkippedNote(d.report) != nil { lines.append(p.conversationsSkippedNote(d.report) ?? "") }
        return lines
    }

    /// `chats[12]` → ("chats", 12); `chats` → ("chats", nil).
    static func parseReference(_ text: String) throws -> (String, Int?) {
        guard let open = text.firstIndex(of: "["), text.hasSuffix("]") else { return (text, nil) }
        let name = String(text[..<open])
        let inside = text[text.index(after: open)..<text.index(before: text.endIndex)]
        guard !name.isEmpty, let index = Int(inside) else {
            throw CommandError.badValue(command: "dataset show", argument: "chunk", value: text, expected: "NAME or NAME[INDEX], such as chats[12]")
        }
        return (name, index)
    }

    /// The chunk's text with counted tokens marked: reverse video on a colour terminal,
    /// ⟦…⟧ otherwise (NO_COLOR, scripts, recordings).
    static func highlighted(_ chunk: Chunk, tokenizer: Tokenizer?, color: Bool) -> String {
        let open = color ? "\u{1B}[7m" : "⟦"
        let close = color ? "\u{1B}[0m" : "⟧"
        guard let tokenizer else {
            // Without the tokenizer, mark whole counted turns as they appear in the text.
            var out = chunk.text
            for turn in chunk.turns where turn.counted {
                if let range = out.range(of: turn.text) { out.replaceSubrange(range, with: open + turn.text + close) }
            }
            return out
        }
        var out = ""
        var start = 0
        while start < chunk.tokens.count {
            var end = start + 1
            while end < chunk.tokens.count, chunk.mask[end] == chunk.mask[start] { end += 1 }
            let piece = tokenizer.decode(Array(chunk.tokens[start..<end]))
            if chunk.mask[start] {
                // Close the mark before a line end so that each marked line reads as one.
                var body = Substring(piece)
                var trailing = ""
                while body.hasSuffix("\n") { body = body.dropLast(); trailing += "\n" }
                out += open + body + close + trailing
            } else {
                out += piece
            }
            start = end
        }
        return out
    }

    /// User plus system CPU time of this process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func parseRelationships(_ text: String?) throws -> [String: String] {
        guard let text, !text.isEmpty else { return [:] }
        var out: [String: String] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw CommandError.badValue(command: "dataset build", argument: "relationships", value: text,
                                            expected: "NAME=RELATIONSHIP pairs separated by commas, such as \"Alice=his sister,Bob=a colleague\"")
            }
            out[parts[0]] = parts[1]
        }
        return out
    }
}

extension DatasetParameters {
    fileprivate func conversationsSkippedNote(_ report: BuildReport) -> String? {
        report.conversationsSkipped > 0 ? "\(report.conversationsSkipped) conversations left out for fewer than \(minMessages) messages" : nil
    }
}

extension CommandTable {
    /// Commands of the data area.
    static let dataCommands: [CommandSpec] = [
        CommandSpec("dataset build", summary: "Pack conversations into prompt-plus-messages chunks under a token budget",
                    details: """
                        Per one-to-one conversation in time order: sessions split at silences longer than gap, as many \
                        consecutive messages per chunk as fit in max_tokens counted exactly with the model's tokenizer \
                        (prompt and formatting included), over-long messages cut at a word with … marks. \
                        Formats: donner (the reference project's layout), transcript, chat (the model's chat template, \
                        the imitated person as assistant), template (your own, with {me} {them} {date} {relationship} {messages}). \
                        The loss mask covers the imitated person's messages (imitate=me|them|both), never the prompt. \
                        split=time keeps the last test_fraction of each conversation for test; split=random draws chunks with the seed. \
                        The dataset is stored in the workspace; the same parameters rebuild the same chunks.
                        """,
                    examples: ["dataset build chats", "dataset build alice format=chat imitate=them max_tokens=256 overlap=2",
                               "dataset build mine format=template template=\"{me} texting {them} on {date}\\n{messages}\" min_messages=200"],
                    arguments: [
                        .positional("name", .string, "name of the dataset"),
                        .keyed("format", .choice(ChunkFormatName.allCases.map(\.rawValue)), default: "donner", "chunk layout"),
                        .keyed("template", .string, "user template for format=template"),
                        .keyed("max_tokens", .int, default: "200", "largest chunk in tokens, prompt included"),
                        .keyed("gap", .string, default: "4h", "silence that starts a new session (30m, 4h, 1d)"),
                        .flag("span_sessions", "let a chunk run across sessions"),
                        .keyed("imitate", .choice(ImitationTarget.allCases.map(\.rawValue)), default: "both", "whose messages the loss counts"),
                        .keyed("split", .choice(SplitMethod.allCases.map(\.rawValue)), default: "time", "how test is chosen"),
                        .keyed("test_fraction", .double, default: "0.1", "share of messages (time) or chunks (random) for test"),
                        .keyed("seed", .int, "seed of the random split (default: the session's)"),
                        .keyed("overlap", .int, default: "0", "messages of a chunk repeated at the start of the next, as context"),
                        .flag("merge", "join consecutive messages of one sender into one turn"),
                        .keyed("separator", .string, default: "\\n", "what joins merged messages"),
                        .flag("reactions", "keep reactions as text (Liked “…”)"),
                        .flag("media", "keep media placeholders"),
                        .keyed("min_messages", .int, default: "1000", "least text messages for a conversation to be used"),
                        .keyed("model", .object(.model), "model whose tokenizer counts tokens: a session model or a file (default: the session's model)"),
                        .keyed("markup", .choice(ChatMarkupName.allCases.map(\.rawValue)), "chat markup for format=chat (default: the model's template)"),
                        .keyed("relationships", .string, "how contacts relate to you: \"Alice=his sister,Bob=a colleague\""),
                        .keyed("since", .string, "only messages at or after this date (2024-01-31)"),
                        .keyed("until", .string, "only messages before this date"),
                        .flag("strangers", "include people not in the contacts"),
                        .flag("redact", "replace phone numbers, emails, URLs and card-like numbers"),
                    ]) { ctx in
            let a = ctx.arguments
            let name = try a.required("name")
            guard !name.isEmpty, !name.contains("["), !name.contains(" ") else {
                throw CommandError.badValue(command: "dataset build", argument: "name", value: name, expected: "a name without spaces or brackets")
            }
            var p = DatasetParameters()
            p.format = ChunkFormatName(rawValue: a.string("format", default: "donner")) ?? .donner
            // `\n` in a template or separator means a newline, typed from a shell or the REPL alike.
            p.template = a.string("template").map { $0.replacingOccurrences(of: "\\n", with: "\n") }
            p.maxTokens = a.int("max_tokens", default: 200)
            let gap = a.string("gap", default: "4h")
            guard let gapSeconds = DatasetParameters.parseDuration(gap) else {
                throw CommandError.badValue(command: "dataset build", argument: "gap", value: gap, expected: "a duration such as 30m, 4h or 1d")
            }
            p.sessionGapSeconds = gapSeconds
            p.spanSessions = a.flag("span_sessions")
            p.imitate = ImitationTarget(rawValue: a.string("imitate", default: "both")) ?? .both
            p.split = SplitMethod(rawValue: a.string("split", default: "time")) ?? .time
            p.testFraction = a.double("test_fraction", default: 0.1)
            let seed = a.int("seed") ?? Int(truncatingIfNeeded: ctx.bench.settings.seed)
            guard seed >= 0 else { throw CommandError.badValue(command: "dataset build", argument: "seed", value: String(seed), expected: "a non-negative integer") }
            p.seed = UInt64(seed)
            p.overlap = a.int("overlap", default: 0)
            p.merge = a.flag("merge")
            p.mergeSeparator = a.string("separator", default: "\\n").replacingOccurrences(of: "\\n", with: "\n")
            p.reactions = a.flag("reactions")
            p.media = a.flag("media")
            p.minMessages = a.int("min_messages", default: 1000)
            p.relationships = try DataCommandSupport.parseRelationships(a.string("relationships"))
            let model = try ctx.datasetTokenizer(a.string("model"))
            p.tokenizerSource = model.path
            if let markup = a.string("markup").flatMap(ChatMarkupName.init(rawValue:)) {
                p.chatMarkup = markup
            } else if p.format == .chat {
                guard let markup = model.markup else {
                    throw CommandError.failed(command: "dataset build", reason: "the chat template of \(model.path) is not one format=chat can mask exactly (ChatML or Llama 3); give markup=chatml or markup=llama3")
                }
                p.chatMarkup = markup
            }
            try p.validate()

            func date(_ key: String) throws -> Date? {
                guard let raw = a.string(key) else { return nil }
                guard let d = UTCFormat.parse(raw) else {
                    throw CommandError.badValue(command: "dataset build", argument: key, value: raw, expected: "a date such as 2024-01-31")
                }
                return d
            }
            let filter = MessageFilter(excludeGroups: true, contactsOnly: !a.flag("strangers"), minMessages: p.minMessages,
                                       since: try date("since"), until: try date("until"), includeSystem: false,
                                       includeReactions: p.reactions, includeMedia: p.media, redact: a.flag("redact"))
            let conversations = try ctx.messageStore().trainingConversations(filter: filter)
            guard !conversations.isEmpty else {
                throw DataError.noConversations(reason: "no one-to-one conversation with at least \(p.minMessages) messages passes the filters")
            }
            let dataset = try DatasetBuilder.build(name: name, conversations: conversations, parameters: p, tokenizer: model.tokenizer,
                                                   threads: ctx.bench.settings.threads, cancellation: ctx.cancellation,
                                                   progress: ctx.progress)
            let previous = try ctx.datasetStore().storedDigest(of: name)
            try ctx.datasetStore().save(dataset)
            ctx.bench.register(DataCommandSupport.namedObject(dataset))
            ctx.print("\(name): " + DataCommandSupport.summary(dataset))
            for line in DataCommandSupport.details(dataset).prefix(2) { ctx.print("  " + line) }
            switch previous {
            case nil: ctx.print("  digest \(dataset.contentDigest)")
            case dataset.contentDigest?: ctx.print("  digest \(dataset.contentDigest): the same chunks as the build it replaces")
            case let old?: ctx.print("  digest \(dataset.contentDigest): replaces a different build (digest \(old))")
            }
        },
        CommandSpec("dataset list", summary: "List the datasets stored in the workspace") { ctx in
            let stored = try ctx.datasetStore().list()
            if stored.isEmpty { ctx.print("no datasets (build one with 'dataset build NAME')"); return }
            ctx.printTable([["name", "format", "chunks", "tokens"]] + stored.map { [$0.name, $0.format, String($0.chunks), String($0.tokens)] },
                           rightAligned: [2, 3])
        }.readingOnly,
        CommandSpec("dataset show", summary: "Show a dataset, or one chunk with its counted tokens marked",
                    details: "Counted tokens (those the loss uses) are shown in reverse video on a colour terminal, between ⟦ and ⟧ otherwise.",
                    examples: ["dataset show chats", "dataset show chats[12]"],
                    arguments: [.positional("chunk", .object(.dataset), "NAME or NAME[INDEX]")]) { ctx in
            let (name, index) = try DataCommandSupport.parseReference(try ctx.arguments.required("chunk"))
            let dataset = try ctx.dataset(named: name)
            guard let index else {
                ctx.print("\(name): " + DataCommandSupport.summary(dataset))
                for line in DataCommandSupport.details(dataset) { ctx.print("  " + line) }
                return
            }
            let chunk = try dataset.chunk(index)
            // The dataset's own tokenizer shows exact token boundaries; without it (model moved),
            // whole counted messages are marked instead.
            var tokenizer: Tokenizer? = nil
            let source = dataset.parameters.tokenizerSource
            if !source.isEmpty, FileManager.default.fileExists(atPath: source),
               let t = try? ctx.datasetTokenizer(source).tokenizer, t.decode(chunk.tokens) == chunk.text {
                tokenizer = t
            }
            ctx.print("\(name)[\(index)]  \(chunk.split.rawValue)  \(chunk.meName) ↔ \(chunk.personName)  \(CalendarText.longDate(chunk.firstMessageAt))  "
                      + "\(chunk.tokens.count) tokens (\(chunk.countedTokens) counted)  \(chunk.messageCount) message\(chunk.messageCount == 1 ? "" : "s")"
                      + (chunk.overlapCount > 0 ? " (\(chunk.overlapCount) context)" : ""))
            let color = ctx.useColor()
            ctx.print(DataCommandSupport.highlighted(chunk, tokenizer: tokenizer, color: color))
            ctx.print("source messages: " + chunk.sourceMessageIDs.map(String.init).joined(separator: " "))
        }.readingOnly,
        CommandSpec("dataset stats", summary: "Chunks and tokens per person and split, and messages per chunk",
                    examples: ["dataset stats chats"],
                    arguments: [.positional("name", .object(.dataset), "the dataset")]) { ctx in
            let dataset = try ctx.dataset(named: try ctx.arguments.required("name"))
            let stats = DatasetStatistics(dataset)
            var rows = [["person", "split", "chunks", "tokens", "counted", "messages"]]
            for r in stats.rows {
                rows.append([r.person, r.split.rawValue, String(r.chunks), String(r.tokens), String(r.countedTokens), String(r.messages)])
            }
            for split in DatasetSplit.allCases {
                guard let r = stats.totals[split] else { continue }
                rows.append(["(all)", split.rawValue, String(r.chunks), String(r.tokens), String(r.countedTokens), String(r.messages)])
            }
            ctx.printTable(rows, rightAligned: [2, 3, 4, 5])
            let q = stats.messagesPerChunkQuantiles
            ctx.print(String(format: "messages per chunk: min %d, p25 %d, median %d, p75 %d, max %d, mean %.2f",
                             q.min, q.p25, q.median, q.p75, q.max, stats.meanMessagesPerChunk))
            let histogram = stats.messagesPerChunk.keys.sorted().map { "\($0):\(stats.messagesPerChunk[$0] ?? 0)" }
            ctx.print("chunks by messages held: " + histogram.joined(separator: " "))
            ctx.print("messages cut to fit: \(dataset.report.splitMessages); messages in both splits: \(stats.messagesInBothSplits)")
        }.readingOnly,
        CommandSpec("dataset export", summary: "Write a dataset as JSONL for TRL, mlx-lm or plain-text trainers",
                    details: """
                        Two files, train and test: FILE.jsonl becomes FILE.train.jsonl and FILE.test.jsonl; a folder (ending in /) \
                        gets train.jsonl and test.jsonl (valid.jsonl for mlx). trl: {"messages"} for chat datasets, else \
                        {"prompt","completion"}; mlx: {"messages"} or {"text"}; text: {"text"}. Written atomically, mode 0600.
                        """,
                    examples: ["dataset export chats --format trl chats.jsonl", "dataset export chats --format mlx data/"],
                    arguments: [
                        .positional("name", .object(.dataset), "the dataset"),
                        .positional("file", .path, "output FILE.jsonl or folder/"),
                        .keyed("format", .choice(ExportFormat.allCases.map(\.rawValue)), default: "trl", "shape of each line"),
                    ]) { ctx in
            let dataset = try ctx.dataset(named: try ctx.arguments.required("name"))
            let format = ExportFormat(rawValue: ctx.arguments.string("format", default: "trl")) ?? .trl
            for written in try DatasetExporter.export(dataset, format: format, to: try ctx.arguments.required("file")) {
                ctx.print("\(written.split.rawValue): \(written.lines) lines → \(written.path)")
            }
        }.readingOnly,
    ]
}

extension BenchTable {
    /// Benchmarks of the data area.
    static let dataBenches: [BenchSpec] = [
        BenchSpec("dataset", summary: "Build a dataset from 250,000 generated messages, tokenization included") { ctx in
            let path = try DataCommandSupport.resolveModelPath(ctx.arguments.string("model"))
            let tokenizer = try loadTokenizer(gguf: try GGUFFile(path: path))
            let threads = ctx.arguments.int("threads") ?? ctx.bench.settings.threads
            let runs = max(1, ctx.arguments.int("runs") ?? 3)
            let conversations = SyntheticConversations.make(messages: 250_000)
            var parameters = DatasetParameters()
            parameters.tokenizerSource = (path as NSString).lastPathComponent
            var built: Dataset?
            var cpuSamples: [Double] = []
            let samples = try measureSeconds(runs: runs) {
                let cpuBefore = DataCommandSupport.processCPUSeconds()
                built = try DatasetBuilder.build(name: "bench", conversations: conversations, parameters: parameters,
                                                 tokenizer: tokenizer, threads: threads, cancellation: ctx.cancellation)
                cpuSamples.append(DataCommandSupport.processCPUSeconds() - cpuBefore)
            }
            // The floor of exact counting: every message line and every final chunk tokenized once, one thread.
            var floorSeconds = 0.0
            if let d = built {
                floorSeconds = try measureSeconds(runs: 1) {
                    for c in conversations { for m in c.messages { _ = tokenizer.encode("### \(m.senderName): \(m.text)\n", parseSpecialTokens: false) } }
                    for chunk in d.chunks { _ = tokenizer.encode(chunk.text, parseSpecialTokens: false) }
                }.first ?? 0
            }
            var notes = ["threads \(threads); 250,000 messages, 40 people; format donner, max_tokens 200, split time"]
            if let d = built {
                notes.append("\(d.chunks.count) chunks, \(d.tokenCount) tokens, \(d.report.messagesUsed) messages used, \(d.report.splitMessages) cut; "
                             + "\(d.report.joinedEncodes) joined encodes (\(d.report.joinedTokens) tokens)")
            }
            notes.append(String(format: "floor (one tokenization of each message and chunk, 1 thread): %.2f s", floorSeconds))
            return BenchReport(bench: "dataset", results: [
                BenchResult(name: "build", unit: "s", samples: samples),
                BenchResult(name: "messages per second", unit: "msg/s", samples: samples.map { 250_000 / $0 }),
                // CPU time of all threads: on a busy shared machine, wall time over-states the cost.
                BenchResult(name: "build cpu (all threads)", unit: "s", samples: cpuSamples),
            ], notes: notes)
        },
    ]
}
