import Foundation

/// Stores a parsed batch: matches people by handle, finds or creates conversations, and
/// inserts messages keyed by content plus occurrence, so that a re-imported or
/// overlapping export adds nothing twice while two identical "ok"s in one minute stay two.
/// The caller runs it inside one transaction.
struct ImportWriter {
    let database: Database
    let options: ImportOptions

    struct Counts { var conversations = 0, new = 0, duplicate = 0, contacts = 0 }

    func write(_ batch: ImportBatch, importID: Int64) throws -> Counts {
        var counts = Counts()
        var personIDs: [Int64] = []
        personIDs.reserveCapacity(batch.people.count)
        for p in batch.people { personIDs.append(try resolve(p, isContact: batch.isContacts)) }
        if batch.isContacts { counts.contacts = Set(personIDs).count }

        var conversationIDs: [Int64] = []
        for c in batch.conversations {
            let id = try conversationID(source: batch.source, c)
            for p in c.participants {
                try database.run("INSERT OR IGNORE INTO participants(conversation_id, person_id) VALUES (?, ?)", [.int(id), .int(personIDs[p])])
            }
            conversationIDs.append(id)
        }
        counts.conversations = Set(conversationIDs).count
        if let meIndex = batch.people.firstIndex(where: \.isMe) {
            // The owner takes part in every conversation of their own export.
            for id in Set(conversationIDs) {
                try database.run("INSERT OR IGNORE INTO participants(conversation_id, person_id) VALUES (?, ?)", [.int(id), .int(personIDs[meIndex])])
            }
        }

        let insert = try database.prepare("""
            INSERT INTO messages(conversation_id, sender_id, sent_at, text, kind, reply_to, edited, deleted,
                                           source, source_id, dedup_hash, occurrence, import_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let insertAttachment = try database.prepare("INSERT INTO attachments(message_id, file_name, mime_type, info) VALUES (?, ?, ?, ?)")
        // The messages already stored in these conversations, by key. Read inside the write
        // transaction (BEGIN IMMEDIATE), so no other writer can add one meanwhile.
        var existing: [Int64: [Key: Int64]] = [:]
        let readExisting = try database.prepare("SELECT dedup_hash, occurrence, id FROM messages WHERE conversation_id = ?")
        for conversation in Set(conversationIDs) {
            readExisting.reset()
            try readExisting.bind(1, conversation)
            var keys: [Key: Int64] = [:]
            while try readExisting.step() { keys[Key(hash: readExisting.int64(0), occurrence: readExisting.int64(1))] = readExisting.int64(2) }
            existing[conversation] = keys
        }

        var occurrences: [OccurrenceKey: Int64] = [:]
        occurrences.reserveCapacity(batch.messages.count)
        // Where each message of the batch landed (a new row or the row it duplicates), for replies.
        var bySourceID: [String: Int64] = [:]
        var byText: [TextKey: Int64] = [:]

        for m in batch.messages {
            let conversation = conversationIDs[m.conversation]
            let senderKey = m.sender.map { batch.people[$0].key } ?? "system"
            let hash = ImportWriter.dedupHash(senderKey: senderKey, sentAt: m.sentAt, kind: m.kind, text: m.text)
            let occurrenceKey = OccurrenceKey(conversation: m.conversation, hash: hash)
            let occurrence = (occurrences[occurrenceKey] ?? 0) + 1
            occurrences[occurrenceKey] = occurrence

            let key = Key(hash: hash, occurrence: occurrence)
            if let id = existing[conversation]?[key] {
                counts.duplicate += 1
                if let s = m.sourceID { bySourceID[s] = id }
                if m.kind == .text || m.kind == .media { byText[TextKey(conversation: m.conversation, text: m.text)] = id }
                continue
            }

            var replyID: Int64?
            switch m.replyTo {
            case .sourceID(let id)?: replyID = bySourceID[id]
            case .text(let t)?: replyID = byText[TextKey(conversation: m.conversation, text: t)]
            case nil: break
            }

            insert.reset()
            try insert.bind(1, conversation)
            if let s = m.sender { try insert.bind(2, personIDs[s]) }
            try insert.bind(3, m.sentAt)
            try insert.bind(4, m.text)
            try insert.bind(5, m.kind.rawValue)
            try insert.bind(6, replyID)
            try insert.bind(7, m.edited)
            try insert.bind(8, m.deleted)
            try insert.bind(9, batch.source)
            try insert.bind(10, m.sourceID)
            try insert.bind(11, hash)
            try insert.bind(12, occurrence)
            try insert.bind(13, importID)
            try insert.step()
            let id = database.lastInsertRowID
            counts.new += 1
            for a in m.attachments {
                insertAttachment.reset()
                try insertAttachment.bind(1, id)
                try insertAttachment.bind(2, a.fileName)
                try insertAttachment.bind(3, a.mimeType)
                try insertAttachment.bind(4, a.info)
                try insertAttachment.step()
            }
            if let s = m.sourceID { bySourceID[s] = id }
            if m.kind == .text || m.kind == .media { byText[TextKey(conversation: m.conversation, text: m.text)] = id }
        }
        return counts
    }

    private struct Key: Hashable { var hash: Int64; var occurrence: Int64 }
    private struct OccurrenceKey: Hashable { var conversation: Int; var hash: Int64 }
    private struct TextKey: Hashable { var conversation: Int; var text: String }

    /// FNV-1a over sender, minute, kind and text. Minutes, because WhatsApp's Android
    /// layout drops seconds that its iOS layout and other tools keep.
    static func dedupHash(senderKey: String, sentAt: Int64, kind: MessageKind, text: String) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) func mix(_ byte: UInt8) { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        for b in senderKey.utf8 { mix(b) }
        mix(0x1F)
        var minute = sentAt >= 0 ? sentAt / 60_000 : (sentAt - 59_999) / 60_000
        for _ in 0..<8 { mix(UInt8(truncatingIfNeeded: minute)); minute >>= 8 }
        for b in kind.rawValue.utf8 { mix(b) }
        mix(0x1F)
        for b in text.utf8 { mix(b) }
        return Int64(bitPattern: h)
    }

    // MARK: People

    /// The person a parsed sender is: the owner, the person holding one of its handles,
    /// or a new person. A contacts entry whose handles belong to several people merges them.
    private func resolve(_ p: ParsedPerson, isContact: Bool) throws -> Int64 {
        if p.isMe {
            let id = try meID(name: options.me ?? p.name)
            try addHandles(p.handles, to: id)
            return id
        }
        var found: [Int64] = []
        for h in p.handles {
            if let id = try database.scalarInt("SELECT person_id FROM handles WHERE kind = ? AND value = ?", [.text(h.kind.rawValue), .text(h.value)]),
               !found.contains(id) {
                found.append(id)
            }
        }
        let name = p.name ?? p.handles.first?.value ?? "unknown"
        let id: Int64
        if let first = found.first {
            id = first
            if isContact, found.count > 1 {
                for other in found.dropFirst() { try MessageStore.merge(person: other, into: first, in: database) }
            }
            if p.inContacts {
                // A contact name replaces a bare number; contacts files rename outright.
                let current = try database.query("SELECT name, in_contacts FROM people WHERE id = ?", [.int(id)]) { ($0.string(0), $0.bool(1)) }.first
                if isContact || current?.1 == false {
                    try database.run("UPDATE people SET name = ?, in_contacts = 1 WHERE id = ? AND is_me = 0", [.text(name), .int(id)])
                }
            }
        } else {
            try database.run("INSERT INTO people(name, is_me, in_contacts) VALUES (?, 0, ?)", [.text(name), .int(p.inContacts ? 1 : 0)])
            id = database.lastInsertRowID
        }
        try addHandles(p.handles, to: id)
        return id
    }

    private func addHandles(_ handles: [Handle], to id: Int64) throws {
        for h in handles {
            try database.run("INSERT OR IGNORE INTO handles(person_id, kind, value) VALUES (?, ?, ?)", [.int(id), .text(h.kind.rawValue), .text(h.value)])
        }
    }

    /// The owner's person id, created on first need; a name given with `me=` renames them.
    func meID(name: String?) throws -> Int64 {
        if let id = try database.scalarInt("SELECT id FROM people WHERE is_me = 1 ORDER BY id LIMIT 1") {
            if let name = options.me {
                try database.run("UPDATE people SET name = ? WHERE id = ?", [.text(name), .int(id)])
                try addHandles([Handle.name(name)].compactMap { $0 }, to: id)
            }
            return id
        }
        let shown = name ?? "Me"
        try database.run("INSERT INTO people(name, is_me, in_contacts) VALUES (?, 1, 1)", [.text(shown)])
        let id = database.lastInsertRowID
        if name != nil { try addHandles([Handle.name(shown)].compactMap { $0 }, to: id) }
        return id
    }

    private func conversationID(source: String, _ c: ParsedConversation) throws -> Int64 {
        if let id = try database.scalarInt("SELECT id FROM conversations WHERE source = ? AND source_key = ?", [.text(source), .text(c.key)]) {
            if c.isGroup { try database.run("UPDATE conversations SET is_group = 1 WHERE id = ?", [.int(id)]) }
            return id
        }
        try database.run("INSERT INTO conversations(source, source_key, title, is_group) VALUES (?, ?, ?, ?)",
                         [.text(source), .text(c.key), .text(c.title), .int(c.isGroup ? 1 : 0)])
        return database.lastInsertRowID
    }
}
