import Foundation
import PersonaCore
import PersonaData
import PersonaSample
import PersonaStore

/// The saved generations of the workspace, opened once per session on the message store's
/// connection (a second connection would read stale snapshots after the first writes).
final class GenerationState {
    var records: GenerationRecords?
}

extension CommandContext {
    func generationRecords() throws -> GenerationRecords {
        let state = bench.state(GenerationState.self) { GenerationState() }
        if let records = state.records { return records }
        let records = try GenerationRecords(database: try messageStore().database)
        state.records = records
        return records
    }
}

extension CommandTable {
    /// `seed=N` of a generating command: a seed printed by an earlier run reproduces it.
    /// Seeds are 64-bit unsigned, wider than the `int` argument type.
    static func explicitSeed(_ ctx: CommandContext) throws -> UInt64? {
        guard let text = ctx.arguments.string("seed") else { return nil }
        guard let seed = UInt64(text) else {
            throw CommandError.badValue(command: ctx.command.name, argument: "seed", value: text,
                                        expected: "a whole number from 0 to \(UInt64.max) (the seed an earlier run printed)")
        }
        return seed
    }

    /// The store's name for `query` (as= or with=): a name, a handle, or the start of one
    /// person's name. With `invent`, a name the store lacks is taken as it is written.
    static func storePerson(_ ctx: CommandContext, argument: String, _ query: String, invent: Bool) throws -> String {
        let store = try ctx.messageStore()
        do {
            let found = try store.person(named: query)
            return invent && found.name.lowercased() != query.lowercased() ? query : found.name
        } catch StoreError.noSuchPerson {
            if invent { return query }
            throw CommandError.failed(command: ctx.command.name, reason: "\(argument)=\(query): " + (try peopleHint(store, query: query)))
        }
    }

    /// "no one of that name in the store; it has …": the owner and the people with the most
    /// messages, so that the name can be fixed without leaving the command.
    private static func peopleHint(_ store: MessageStore, query: String) throws -> String {
        let owner = try store.ownerName()
        let others = try store.peopleSummaries().map(\.name)
        let everyone = (owner.map { [$0] } ?? []) + others
        if everyone.isEmpty {
            return "the store has no people yet ('import FILE' first); --invent writes as invented people"
        }
        let shown = 8
        var names = everyone.prefix(shown).map { $0 == owner ? "\($0) (you)" : $0 }
        if everyone.count > shown { names.append("and \(everyone.count - shown) more ('people' lists them)") }
        let suggestion = closestMatch(query, in: everyone).map { "did you mean '\($0)'? " } ?? ""
        return "no one of that name in the store; \(suggestion)it has \(names.joined(separator: ", ")); --invent writes as invented people"
    }

    /// The dataset layout a generation writes in: `format=` (and `markup=`) when given, else
    /// the parameters of the dataset the adapter was last trained on in this workspace, else
    /// the transcript format.
    static func generationParameters(_ ctx: CommandContext, adapter: String?) throws -> DatasetParameters {
        let a = ctx.arguments
        var parameters = DatasetParameters()
        parameters.format = .transcript
        if let word = a.string("format") {
            parameters.format = ChunkFormatName(rawValue: word) ?? .transcript
        } else if let adapter, let trained = try trainedDatasetParameters(ctx, adapter: adapter) {
            parameters = trained
        }
        if let word = a.string("markup"), let markup = ChatMarkupName(rawValue: word) { parameters.chatMarkup = markup }
        return parameters
    }

    /// The parameters of the dataset of the adapter's most recent training run, if the
    /// workspace has the run and the dataset.
    static func trainedDatasetParameters(_ ctx: CommandContext, adapter: String) throws -> DatasetParameters? {
        guard let run = try ctx.train.runStore(ctx).runs().last(where: { $0.adapter == adapter }) else { return nil }
        if let dataset = try? ctx.bench.object(run.dataset, kind: .dataset, as: Dataset.self) { return dataset.parameters }
        return try ctx.datasetStore().parameters(of: run.dataset)
    }

    /// How a generation's format is recorded: `transcript`, `donner`, `chat/chatml`.
    static func formatLabel(_ layout: ChunkLayout, markup: ChatMarkupName) -> String {
        layout.format.rawValue + (layout.format == .chat ? "/" + markup.rawValue : "")
    }

    static func saveGeneration(_ ctx: CommandContext, _ generation: NewGeneration) throws -> Int64 {
        try ctx.generationRecords().save(generation)
    }

    /// Commands that list, show and export saved generations.
    static let generationRecordCommands: [CommandSpec] = [
        CommandSpec("generations", summary: "List the saved generations (generate, chat /save, complete)",
                    details: "Flags: loop when the text fell into a loop, copy when it copied more than the threshold from your own messages. Times are UTC.",
                    examples: ["generations", "generations last=5"],
                    arguments: [.keyed("last", .int, default: "20", "show the most recent N (0: all)")]) { ctx in
            let last = ctx.arguments.int("last", default: 20)
            guard last >= 0 else {
                throw CommandError.badValue(command: "generations", argument: "last", value: String(last), expected: "0 (all) or more")
            }
            let records = try ctx.generationRecords()
            let total = try records.count()
            if total == 0 {
                ctx.print("no generations saved yet ('generate', 'chat' then /save, or 'complete' save them)")
                return
            }
            var rows = [["id", "time", "kind", "as", "with", "turns", "model", "adapter", "sampler", "seed", "loop", "copy"]]
            for r in try records.all(last: last == 0 ? nil : last) {
                let g = r.generation
                rows.append([String(r.id), r.createdAt, g.kind, g.persona ?? "-", g.partner ?? "-",
                             g.kind == "completion" ? "-" : String(g.turns.count), (g.model as NSString).lastPathComponent,
                             g.adapter ?? "-", g.sampler, String(g.seed), g.looped ? "loop" : "-", g.copyFlagged ? "copy" : "-"])
            }
            ctx.printTable(rows, rightAligned: [0, 5, 9])
            if rows.count - 1 < total { ctx.print("(the last \(rows.count - 1) of \(total); last=0 lists all)") }
        }.readingOnly,
        CommandSpec("generation show", summary: "Show one saved generation: its settings, seed, checks and text",
                    examples: ["generation show 1"],
                    arguments: [.positional("id", .int, "the generation's number (from 'generations')")]) { ctx in
            let id = ctx.arguments.int("id") ?? 0
            let records = try ctx.generationRecords()
            guard let r = try records.record(id: Int64(id)) else {
                let total = try records.count()
                throw CommandError.failed(command: "generation show",
                                          reason: "no generation \(id); " + (total == 0 ? "none is saved yet" : "'generations' lists the \(total) saved"))
            }
            let g = r.generation
            ctx.print("generation \(r.id): \(g.kind), \(r.createdAt) UTC")
            if let persona = g.persona { ctx.print("  as: \(persona)" + (g.partner.map { ", with: \($0)" } ?? "")) }
            ctx.print("  model: \(g.model)" + (g.adapter.map { ", adapter: \($0)" } ?? ""))
            ctx.print("  sampler: \(g.sampler)" + (g.settings.isEmpty ? " (defaults)" : " (\(g.settings))") + ", seed \(g.seed)")
            if let format = g.format { ctx.print("  format: \(format)") }
            if !g.prompt.isEmpty { ctx.print("  prompt: \(jsonString(g.prompt))") }
            if let repetition = g.repetition { ctx.print("  " + repetition) }
            if let regurgitation = g.regurgitation { ctx.print("  " + regurgitation) }
            if g.turns.isEmpty {
                for line in g.output.split(separator: "\n", omittingEmptySubsequences: false) { ctx.print(String(line)) }
            } else {
                for t in g.turns { ctx.print("\(t.sender): \(t.text)") }
            }
        }.readingOnly,
        CommandSpec("generations export", summary: "Write the saved conversations as JSONL, one conversation a line",
                    details: """
                    Each line: {"id", "as", "with", "model", "adapter", "sampler", "settings", "seed", "turns": [{"sender", "text"}]}. \
                    Completions have no turns and are left out. The file is private (0600) and replaced atomically.
                    """,
                    examples: ["generations export generated.jsonl"],
                    arguments: [.positional("file", .path, "the JSONL file to write")]) { ctx in
            let file = try ctx.arguments.required("file")
            let all = try ctx.generationRecords().all()
            let conversations = all.filter { !$0.generation.turns.isEmpty }
            let text = conversations.map { GenerationRecords.jsonLine($0) + "\n" }.joined()
            try PrivateFiles.writeAtomically(text, to: file)
            let left = all.count - conversations.count
            ctx.print("wrote \(conversations.count) conversation\(conversations.count == 1 ? "" : "s") to \(file)"
                      + (left > 0 ? " (\(left) without turns left out: completions)" : ""))
        },
    ]
}
