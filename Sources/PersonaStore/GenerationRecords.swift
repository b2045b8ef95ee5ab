import Foundation
import PersonaCore

/// One turn of a saved conversation.
public struct GenerationTurn: Equatable, Sendable {
    public var sender: String
    public var text: String
    public init(sender: String, text: String) { self.sender = sender; self.text = text }
}

/// What `generate`, `chat` and `complete` save, so that each can be listed, shown, exported
/// and reproduced (model, adapter, sampler settings and seed).
public struct NewGeneration: Equatable, Sendable {
    /// `conversation` (generate), `chat` (a chat saved with /save, or one `chat say=` exchange), `completion`.
    public var kind: String
    public var model: String
    public var adapter: String?
    public var sampler: String
    /// The sampler's changed settings as `key=value` words.
    public var settings: String
    public var seed: UInt64
    /// The dataset format written in (`transcript`, `donner`, `chat/chatml`), if any.
    public var format: String?
    /// Who the model wrote as (the persona) and with whom; nil for completions.
    public var persona: String?
    public var partner: String?
    public var prompt: String
    /// The turns of a conversation; empty for a completion, whose text is `output`.
    public var turns: [GenerationTurn]
    public var output: String
    public var repetition: String?
    public var regurgitation: String?
    /// It fell into a loop (RepetitionScore).
    public var looped: Bool
    /// It copied more than the threshold from the owner's messages.
    public var copyFlagged: Bool

    public init(kind: String, model: String, adapter: String?, sampler: String, settings: String, seed: UInt64,
                format: String?, persona: String?, partner: String?, prompt: String, turns: [GenerationTurn], output: String,
                repetition: String?, regurgitation: String?, looped: Bool, copyFlagged: Bool) {
        self.kind = kind; self.model = model; self.adapter = adapter; self.sampler = sampler; self.settings = settings
        self.seed = seed; self.format = format; self.persona = persona; self.partner = partner; self.prompt = prompt
        self.turns = turns; self.output = output; self.repetition = repetition; self.regurgitation = regurgitation
        self.looped = looped; self.copyFlagged = copyFlagged
    }
}

/// A saved generation as read back.
public struct GenerationRecord: Equatable, Sendable {
    public var id: Int64
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    public var createdAt: String
    public var generation: NewGeneration
}

/// The generations table of the workspace database (namespace "sample"; version 1 is the
/// table older workspaces already have, version 2 adds the people, the turns and the flags).
public final class GenerationRecords {
    static let namespace = "sample"
    static let migrations = [
        """
        CREATE TABLE generations(
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            kind TEXT NOT NULL,
            model TEXT NOT NULL,
            adapter TEXT,
            sampler TEXT NOT NULL,
            settings TEXT NOT NULL,
            seed INTEGER NOT NULL,
            format TEXT,
            speakers TEXT,
            prompt TEXT NOT NULL,
            output TEXT NOT NULL,
            repetition TEXT,
            regurgitation TEXT
        )
        """,
        // Rows of version 1 keep NULL turns: they are read back from `output` ("Name: text" lines).
        """
        ALTER TABLE generations ADD COLUMN persona TEXT;
        ALTER TABLE generations ADD COLUMN partner TEXT;
        ALTER TABLE generations ADD COLUMN turns TEXT;
        ALTER TABLE generations ADD COLUMN looped INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE generations ADD COLUMN copy_flagged INTEGER NOT NULL DEFAULT 0;
        """,
    ]

    public let database: Database

    public init(database: Database) throws {
        self.database = database
        try database.migrate(namespace: GenerationRecords.namespace, migrations: GenerationRecords.migrations)
    }

    /// Saves one generation and returns its id.
    @discardableResult
    public func save(_ g: NewGeneration) throws -> Int64 {
        func optional(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
        let speakers = [g.persona, g.partner].compactMap { $0 }.joined(separator: ",")
        try database.run("""
            INSERT INTO generations(created_at, kind, model, adapter, sampler, settings, seed, format, speakers, prompt, output,
                                    repetition, regurgitation, persona, partner, turns, looped, copy_flagged)
            VALUES (datetime('now'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(g.kind), .text(g.model), optional(g.adapter), .text(g.sampler), .text(g.settings),
                  .int(Int64(bitPattern: g.seed)), optional(g.format), speakers.isEmpty ? .null : .text(speakers),
                  .text(g.prompt), .text(g.output), optional(g.repetition), optional(g.regurgitation),
                  optional(g.persona), optional(g.partner), .text(Self.encodeTurns(g.turns)),
                  .int(g.looped ? 1 : 0), .int(g.copyFlagged ? 1 : 0)])
        return database.lastInsertRowID
    }

    private static let columns = """
        id, created_at, kind, model, adapter, sampler, settings, seed, format, speakers, prompt, output,
        repetition, regurgitation, persona, partner, turns, looped, copy_flagged
        """

    /// Every saved generation, oldest first; `last` keeps only the most recent ones.
    public func all(last: Int? = nil) throws -> [GenerationRecord] {
        if let last {
            return try database.query("SELECT * FROM (SELECT \(Self.columns) FROM generations ORDER BY id DESC LIMIT ?) ORDER BY id",
                                      [.int(Int64(max(0, last)))], Self.read)
        }
        return try database.query("SELECT \(Self.columns) FROM generations ORDER BY id", [], Self.read)
    }

    public func record(id: Int64) throws -> GenerationRecord? {
        try database.query("SELECT \(Self.columns) FROM generations WHERE id = ?", [.int(id)], Self.read).first
    }

    public func count() throws -> Int {
        Int(try database.scalarInt("SELECT COUNT(*) FROM generations") ?? 0)
    }

    private static func read(_ s: Statement) throws -> GenerationRecord {
        func optional(_ column: Int32) -> String? { s.isNull(column) ? nil : s.string(column) }
        let kind = s.string(2), output = s.string(11)
        var persona = optional(14), partner = optional(15)
        if persona == nil, partner == nil, let speakers = optional(9) {
            // Version 1 rows: "persona,partner" (chat rows wrote the persona first too).
            let names = speakers.split(separator: ",", maxSplits: 1).map(String.init)
            persona = names.first
            partner = names.count > 1 ? names[1] : nil
        }
        let turns: [GenerationTurn]
        if let stored = optional(16) {
            turns = try decodeTurns(stored, id: s.int64(0))
        } else if kind == "completion" {
            turns = []
        } else {
            turns = turnsFromTranscript(output, speakers: [persona, partner].compactMap { $0 })
        }
        let g = NewGeneration(kind: kind, model: s.string(3), adapter: optional(4), sampler: s.string(5), settings: s.string(6),
                              seed: UInt64(bitPattern: s.int64(7)), format: optional(8), persona: persona, partner: partner,
                              prompt: s.string(10), turns: turns, output: output, repetition: optional(12), regurgitation: optional(13),
                              looped: s.bool(17), copyFlagged: s.bool(18))
        return GenerationRecord(id: s.int64(0), createdAt: s.string(1), generation: g)
    }

    /// `[{"sender": …, "text": …}, …]`
    static func encodeTurns(_ turns: [GenerationTurn]) -> String {
        "[" + turns.map { "{\"sender\": \(jsonString($0.sender)), \"text\": \(jsonString($0.text))}" }.joined(separator: ", ") + "]"
    }

    static func decodeTurns(_ text: String, id: Int64) throws -> [GenerationTurn] {
        guard let array = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any] else {
            throw StoreError.invalid("generation \(id): its turns are not a JSON array")
        }
        return try array.enumerated().map { index, element in
            guard let object = element as? [String: Any], let sender = object["sender"] as? String, let text = object["text"] as? String else {
                throw StoreError.invalid("generation \(id): turn \(index + 1) lacks a sender or a text")
            }
            return GenerationTurn(sender: sender, text: text)
        }
    }

    /// Turns of a transcript written as `Name: text` lines: a line that starts with a known
    /// speaker's label begins a turn, any other line continues the one before.
    static func turnsFromTranscript(_ output: String, speakers: [String]) -> [GenerationTurn] {
        var turns: [GenerationTurn] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if let speaker = speakers.first(where: { line.hasPrefix($0 + ":") }) {
                turns.append(GenerationTurn(sender: speaker, text: line.dropFirst(speaker.count + 1).trimmingCharacters(in: .whitespaces)))
            } else if !turns.isEmpty {
                turns[turns.count - 1].text += "\n" + line
            } else if !line.isEmpty {
                turns.append(GenerationTurn(sender: "", text: line))
            }
        }
        return turns
    }

    /// One line of `generations export`: `{"id", "as", "with", "model", "adapter", "sampler",
    /// "settings", "seed", "turns": [{"sender", "text"}]}`.
    public static func jsonLine(_ r: GenerationRecord) -> String {
        let g = r.generation
        func optional(_ s: String?) -> String { s.map(jsonString) ?? "null" }
        return "{\"id\": \(r.id), \"as\": \(optional(g.persona)), \"with\": \(optional(g.partner)), \"model\": \(jsonString(g.model)), "
            + "\"adapter\": \(optional(g.adapter)), \"sampler\": \(jsonString(g.sampler)), \"settings\": \(jsonString(g.settings)), "
            + "\"seed\": \(g.seed), \"turns\": \(encodeTurns(g.turns))}"
    }
}
