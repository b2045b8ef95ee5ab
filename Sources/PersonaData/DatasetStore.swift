import Foundation
import PersonaStore

/// Datasets in the workspace database, in the data layer's own tables (namespace `data`):
/// one row per dataset (name, parameters, format version, token counts, build report) and
/// one per chunk (text, token ids, mask, split, person, source message ids).
public final class DatasetStore {
    public let database: Database

    static let migrations = [
        """
        CREATE TABLE data_datasets(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            parameters TEXT NOT NULL,
            format TEXT NOT NULL,
            format_version INTEGER NOT NULL,
            chunk_count INTEGER NOT NULL,
            token_count INTEGER NOT NULL,
            counted_token_count INTEGER NOT NULL,
            report TEXT NOT NULL
        );
        CREATE TABLE data_chunks(
            dataset_id INTEGER NOT NULL REFERENCES data_datasets(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            split TEXT NOT NULL,
            person_id INTEGER NOT NULL,
            person_name TEXT NOT NULL,
            me_name TEXT NOT NULL,
            conversation_id INTEGER NOT NULL,
            first_message_at REAL NOT NULL,
            message_count INTEGER NOT NULL,
            overlap_count INTEGER NOT NULL,
            text TEXT NOT NULL,
            header_text TEXT NOT NULL,
            tokens BLOB NOT NULL,      -- int32 little-endian, one per token
            mask BLOB NOT NULL,        -- one byte per token, 1 = counted by the loss
            source_ids BLOB NOT NULL,  -- int64 little-endian store message ids
            turns TEXT NOT NULL,       -- JSON array of ChunkTurn
            PRIMARY KEY(dataset_id, idx)
        ) WITHOUT ROWID;
        """,
    ]

    public init(database: Database) throws {
        self.database = database
        try database.migrate(namespace: "data", migrations: Self.migrations)
    }

    /// One line per stored dataset, for listings.
    public struct Summary: Equatable, Sendable {
        public var name: String
        public var format: String
        public var chunks: Int
        public var tokens: Int
    }

    public func list() throws -> [Summary] {
        try database.query("SELECT name, format, chunk_count, token_count FROM data_datasets ORDER BY name") {
            Summary(name: $0.string(0), format: $0.string(1), chunks: $0.int(2), tokens: $0.int(3))
        }
    }

    public func contains(_ name: String) throws -> Bool {
        try database.scalarInt("SELECT COUNT(*) FROM data_datasets WHERE name = ?", [.text(name)]) ?? 0 > 0
    }

    /// Stores `dataset`, replacing one of the same name, in one transaction.
    public func save(_ dataset: Dataset) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let report = String(decoding: try encoder.encode(dataset.report), as: UTF8.self)
        try database.transaction {
            try database.run("DELETE FROM data_datasets WHERE name = ?", [.text(dataset.name)])
            try database.run("""
                INSERT INTO data_datasets(name, parameters, format, format_version, chunk_count, token_count, counted_token_count, report)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(dataset.name), .text(dataset.parameters.json()), .text(dataset.parameters.format.rawValue),
                      .int(Int64(dataset.formatVersion)), .int(Int64(dataset.chunks.count)), .int(Int64(dataset.tokenCount)),
                      .int(Int64(dataset.countedTokenCount)), .text(report)])
            let datasetID = database.lastInsertRowID
            let insert = try database.prepare("""
                INSERT INTO data_chunks(dataset_id, idx, split, person_id, person_name, me_name, conversation_id, first_message_at,
                                        message_count, overlap_count, text, header_text, tokens, mask, source_ids, turns)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for chunk in dataset.chunks {
                insert.reset()
                try insert.bind([
                    .int(datasetID), .int(Int64(chunk.id)), .text(chunk.split.rawValue), .int(chunk.personID),
                    .text(chunk.personName), .text(chunk.meName), .int(chunk.conversationID),
                    .double(chunk.firstMessageAt.timeIntervalSince1970), .int(Int64(chunk.messageCount)),
                    .int(Int64(chunk.overlapCount)), .text(chunk.text), .text(chunk.headerText),
                    .blob(Self.bytes(chunk.tokens)), .blob(chunk.maskBytes), .blob(Self.bytes(chunk.sourceMessageIDs)),
                    .text(String(decoding: try encoder.encode(chunk.turns), as: UTF8.self)),
                ])
                try insert.step()
            }
        }
    }

    public func delete(_ name: String) throws {
        try database.run("DELETE FROM data_datasets WHERE name = ?", [.text(name)])
    }

    /// The stored parameters of `name`, or nil when there is no such dataset.
    public func parameters(of name: String) throws -> DatasetParameters? {
        guard let json = try database.query("SELECT parameters FROM data_datasets WHERE name = ?", [.text(name)], { $0.string(0) }).first
        else { return nil }
        return try DatasetParameters.fromJSON(json)
    }

    /// Loads the dataset called `name`, checking every blob against the token count.
    public func load(_ name: String) throws -> Dataset {
        struct Header { var id: Int64; var parameters: String; var version: Int; var chunks: Int; var report: String }
        guard let header = try database.query(
            "SELECT id, parameters, format_version, chunk_count, report FROM data_datasets WHERE name = ?", [.text(name)], {
                Header(id: $0.int64(0), parameters: $0.string(1), version: $0.int(2), chunks: $0.int(3), report: $0.string(4))
            }).first else {
            throw DataError.noSuchDataset(name: name)
        }
        let parameters: DatasetParameters
        let report: BuildReport
        do {
            parameters = try JSONDecoder().decode(DatasetParameters.self, from: Data(header.parameters.utf8))
            report = try JSONDecoder().decode(BuildReport.self, from: Data(header.report.utf8))
        } catch {
            throw DataError.corruptDataset(name: name, reason: "parameters or report are not valid JSON (\(error))")
        }
        let decoder = JSONDecoder()
        var chunks: [Chunk] = []
        chunks.reserveCapacity(header.chunks)
        let select = """
            SELECT idx, split, person_id, person_name, me_name, conversation_id, first_message_at, message_count, overlap_count,
                   text, header_text, tokens, mask, source_ids, turns
            FROM data_chunks WHERE dataset_id = ? ORDER BY idx
            """
        let statement = try database.prepare(select)
        try statement.bind([.int(header.id)])
        while try statement.step() {
            let index = statement.int(0)
            func corrupt(_ what: String) -> DataError { .corruptDataset(name: name, reason: "chunk \(index): \(what)") }
            guard index == chunks.count else { throw corrupt("expected index \(chunks.count)") }
            guard let split = DatasetSplit(rawValue: statement.string(1)) else { throw corrupt("unknown split '\(statement.string(1))'") }
            let tokenBytes = statement.blob(11)
            let maskBytes = statement.blob(12)
            let idBytes = statement.blob(13)
            guard tokenBytes.count % 4 == 0 else { throw corrupt("token blob of \(tokenBytes.count) bytes is not a multiple of 4") }
            guard maskBytes.count == tokenBytes.count / 4 else {
                throw corrupt("mask has \(maskBytes.count) entries for \(tokenBytes.count / 4) tokens")
            }
            guard idBytes.count % 8 == 0 else { throw corrupt("source id blob of \(idBytes.count) bytes is not a multiple of 8") }
            let turns: [ChunkTurn]
            do { turns = try decoder.decode([ChunkTurn].self, from: Data(statement.string(14).utf8)) } catch {
                throw corrupt("turns are not valid JSON")
            }
            chunks.append(Chunk(id: index, text: statement.string(9), tokens: Self.int32s(tokenBytes), mask: maskBytes.map { $0 != 0 },
                                split: split, personName: statement.string(3), meName: statement.string(4),
                                personID: statement.int64(2), conversationID: statement.int64(5),
                                sourceMessageIDs: Self.int64s(idBytes), messageCount: statement.int(7), overlapCount: statement.int(8),
                                firstMessageAt: Date(timeIntervalSince1970: statement.double(6)), headerText: statement.string(10),
                                turns: turns))
        }
        guard chunks.count == header.chunks else {
            throw DataError.corruptDataset(name: name, reason: "\(chunks.count) chunks stored, \(header.chunks) recorded")
        }
        return Dataset(name: name, parameters: parameters, formatVersion: header.version, chunks: chunks, report: report)
    }

    static func bytes(_ values: [Int32]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * 4)
        for (i, v) in values.enumerated() {
            let u = UInt32(bitPattern: v)
            out[4 * i] = UInt8(u & 0xFF); out[4 * i + 1] = UInt8((u >> 8) & 0xFF)
            out[4 * i + 2] = UInt8((u >> 16) & 0xFF); out[4 * i + 3] = UInt8(u >> 24)
        }
        return out
    }

    static func bytes(_ values: [Int64]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * 8)
        for (i, v) in values.enumerated() {
            let u = UInt64(bitPattern: v)
            for b in 0..<8 { out[8 * i + b] = UInt8((u >> (8 * UInt64(b))) & 0xFF) }
        }
        return out
    }

    static func int32s(_ bytes: [UInt8]) -> [Int32] {
        var out = [Int32](repeating: 0, count: bytes.count / 4)
        for i in out.indices {
            let u = UInt32(bytes[4 * i]) | UInt32(bytes[4 * i + 1]) << 8 | UInt32(bytes[4 * i + 2]) << 16 | UInt32(bytes[4 * i + 3]) << 24
            out[i] = Int32(bitPattern: u)
        }
        return out
    }

    static func int64s(_ bytes: [UInt8]) -> [Int64] {
        var out = [Int64](repeating: 0, count: bytes.count / 8)
        for i in out.indices {
            var u: UInt64 = 0
            for b in 0..<8 { u |= UInt64(bytes[8 * i + b]) << (8 * UInt64(b)) }
            out[i] = Int64(bitPattern: u)
        }
        return out
    }
}
