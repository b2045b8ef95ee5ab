import Foundation
import PersonaCore

/// The workspace's message history: people, their handles, conversations and messages
/// from every imported export, deduplicated, in `persona.db`.
public final class MessageStore {
    public let database: Database

    /// Opens (creating and migrating when needed) the store of `workspace`.
    public convenience init(workspace: Workspace) throws {
        try self.init(path: workspace.databasePath)
    }

    public init(path: String) throws {
        database = try Database(path: path)
        try database.migrate(namespace: StoreSchema.namespace, migrations: StoreSchema.migrations)
    }

    // MARK: Import

    /// Imports one file in one transaction: on error nothing of it is kept.
    public func importFile(_ path: String, options: ImportOptions, cancellation: CancellationToken? = nil) throws -> ImportSummary {
        // Required to be an export, the file either imports or throws; the guard cannot fail.
        guard let summary = try importFile(path, options: options, cancellation: cancellation, requireExport: true) else {
            throw StoreError.cannotDetectFormat(file: path)
        }
        return summary
    }

    /// Imports a file found in a folder (or by a pattern), where photos, voice notes and
    /// read-me files sit beside the exports: nil when the file is not an export (empty, of
    /// no format persona reads, or a zip with no chat text in it). A file that is an export
    /// but is broken still throws, and imports all or nothing.
    public func importIfExport(_ path: String, options: ImportOptions, cancellation: CancellationToken? = nil) throws -> ImportSummary? {
        try importFile(path, options: options, cancellation: cancellation, requireExport: false)
    }

    private func importFile(_ path: String, options: ImportOptions, cancellation: CancellationToken?, requireExport: Bool) throws -> ImportSummary? {
        let start = monotonicSeconds()
        let name = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw StoreError.badInput(file: path, location: nil, reason: "is a directory; give the export file inside it")
            }
            throw StoreError.badInput(file: path, location: nil, reason: "cannot read the file (missing or not readable)")
        }
        let bytes = [UInt8](data)
        guard !bytes.isEmpty else {
            if requireExport { throw StoreError.badInput(file: path, location: nil, reason: "the file is empty") }
            return nil
        }
        let format: ImportFormat
        if let forced = options.format { format = forced }
        else if let detected = try FormatDetector.detect(bytes: bytes, path: path),
                requireExport || detected != .whatsapp || FormatDetector.mayHoldChat(zipOrText: bytes) { format = detected }
        else if requireExport { throw StoreError.cannotDetectFormat(file: path) }
        else { return nil }

        let resolved = options
        let context = ImportContext(path: path, options: resolved, meNames: try meNames())
        // The digest is only recorded: compute it on the other core while this one parses.
        let digestBox = DigestBox()
        let digestDone = DispatchGroup()
        DispatchQueue.global().async(group: digestDone) { digestBox.value = SHA256.hex(bytes) }
        let parsed = Result { try Importers.parse(format: format, bytes: bytes, context: context) }
        digestDone.wait()
        let batch = try parsed.get()
        try cancellation?.check()
        let digest = digestBox.value
        // The writer creates every row a message refers to (conversation, sender, import,
        // replied-to message) itself in this transaction, so the per-row foreign-key lookups
        // (four B-tree searches per message) are skipped for the import and restored after.
        try database.execute("PRAGMA foreign_keys=OFF")
        defer { try? database.execute("PRAGMA foreign_keys=ON") }
        let counts: ImportWriter.Counts = try database.transaction {
            try database.run("INSERT INTO imports(file_name, sha256, format, imported_at) VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                             [.text(name), .text(digest), .text(format.rawValue)])
            let importID = database.lastInsertRowID
            let counts = try ImportWriter(database: database, options: resolved).write(batch, importID: importID)
            try database.run("UPDATE imports SET conversations = ?, messages_new = ?, messages_duplicate = ?, messages_skipped = ? WHERE id = ?",
                             [.int(Int64(counts.conversations)), .int(Int64(counts.new)), .int(Int64(counts.duplicate)),
                              .int(Int64(batch.skipped)), .int(importID)])
            return counts
        }
        return ImportSummary(file: path, format: format, conversations: counts.conversations, newMessages: counts.new,
                             duplicateMessages: counts.duplicate, skippedMessages: batch.skipped, contacts: counts.contacts,
                             seconds: monotonicSeconds() - start, warnings: batch.warnings)
    }

    /// Names the owner goes by in exports, lower-cased (from earlier imports and `me=`).
    func meNames() throws -> Set<String> {
        Set(try database.query("SELECT h.value FROM handles h JOIN people p ON p.id = h.person_id WHERE p.is_me = 1 AND h.kind = 'name'") { $0.string(0) })
    }

    /// Sets the owner's display name (creating the owner when missing).
    public func setMe(name: String) throws {
        try database.transaction {
            _ = try ImportWriter(database: database, options: ImportOptions(me: name)).meID(name: name)
        }
    }

    // MARK: People

    /// Finds one person by `#id`, exact name, or handle (phone, email), case-insensitively.
    public func person(named query: String, defaultCountry: String = "US") throws -> PersonRecord {
        let trimmed = query.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("#"), let id = Int64(trimmed.dropFirst()) {
            if let p = try personRecord(id: id) { return p }
            throw StoreError.noSuchPerson(query)
        }
        var ids = try database.query("SELECT id FROM people WHERE name = ? COLLATE NOCASE ORDER BY id", [.text(trimmed)]) { $0.int64(0) }
        if ids.isEmpty {
            var handles: [Handle] = []
            if let h = Handle.parse(trimmed, defaultCountry: defaultCountry) { handles.append(h) }
            if let h = Handle.name(trimmed) { handles.append(h) }
            for h in handles {
                if let id = try database.scalarInt("SELECT person_id FROM handles WHERE kind = ? AND value = ?", [.text(h.kind.rawValue), .text(h.value)]) {
                    ids = [id]; break
                }
            }
        }
        if ids.isEmpty, !trimmed.isEmpty {
            // A first name or the start of a name ("Tom" for "Tom Fischer"), when only one person fits.
            let lowered = trimmed.lowercased()
            ids = try database.query("SELECT id, name FROM people ORDER BY id") { ($0.int64(0), $0.string(1).lowercased()) }
                .filter { $0.1.hasPrefix(lowered) }.map(\.0)
        }
        if ids.isEmpty { throw StoreError.noSuchPerson(query) }
        if ids.count > 1 {
            throw StoreError.ambiguousPerson(query, candidates: try ids.compactMap { try personRecord(id: $0) }.map { "#\($0.id) \($0.name)" })
        }
        guard let p = try personRecord(id: ids[0]) else { throw StoreError.noSuchPerson(query) }
        return p
    }

    /// Every person's display name, sorted (for completion).
    public func personNames() throws -> [String] {
        try database.query("SELECT name FROM people ORDER BY name COLLATE NOCASE, id") { $0.string(0) }
    }

    /// The owner's display name, when the store knows who they are.
    public func ownerName() throws -> String? {
        try database.query("SELECT name FROM people WHERE is_me = 1 ORDER BY id LIMIT 1") { $0.string(0) }.first
    }

    func personRecord(id: Int64) throws -> PersonRecord? {
        try database.query("SELECT id, name, is_me, in_contacts FROM people WHERE id = ?", [.int(id)]) {
            PersonRecord(id: $0.int64(0), name: $0.string(1), isMe: $0.bool(2), inContacts: $0.bool(3))
        }.first
    }

    /// Merges person `a` into `b`: `a`'s handles, messages and conversations become `b`'s.
    @discardableResult
    public func mergePeople(_ a: String, into b: String) throws -> PersonRecord {
        let from = try person(named: a), to = try person(named: b)
        guard from.id != to.id else { throw StoreError.invalid("people merge: '\(a)' and '\(b)' are the same person") }
        try database.transaction {
            try MessageStore.merge(person: from.id, into: to.id, in: database)
            if from.inContacts { try database.run("UPDATE people SET in_contacts = 1 WHERE id = ?", [.int(to.id)]) }
            if from.isMe { try database.run("UPDATE people SET is_me = 1 WHERE id = ?", [.int(to.id)]) }
        }
        return try personRecord(id: to.id) ?? to
    }

    static func merge(person from: Int64, into to: Int64, in database: Database) throws {
        try database.run("UPDATE handles SET person_id = ? WHERE person_id = ?", [.int(to), .int(from)])
        try database.run("UPDATE messages SET sender_id = ? WHERE sender_id = ?", [.int(to), .int(from)])
        try database.run("INSERT OR IGNORE INTO participants(conversation_id, person_id) SELECT conversation_id, ? FROM participants WHERE person_id = ?", [.int(to), .int(from)])
        try database.run("DELETE FROM participants WHERE person_id = ?", [.int(from)])
        try database.run("UPDATE people SET in_contacts = MAX(in_contacts, (SELECT in_contacts FROM people WHERE id = ?)) WHERE id = ?", [.int(from), .int(to)])
        try database.run("DELETE FROM people WHERE id = ?", [.int(from)])
    }
}

public struct PersonRecord: Equatable, Sendable {
    public var id: Int64
    public var name: String
    public var isMe: Bool
    public var inContacts: Bool
}

/// Carries the digest out of the worker closure (written once, read after the group's wait).
private final class DigestBox: @unchecked Sendable {
    var value = ""
}
