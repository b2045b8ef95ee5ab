import CSQLite
import Foundation

/// macOS Messages `chat.db` and iOS `sms.db`: message, handle, chat and their join tables.
/// Dates count from 2001-01-01 UTC in seconds (older) or nanoseconds (newer); text lost
/// to a NULL `text` column is recovered from `attributedBody`; tapbacks become reactions.
enum ChatDBImporter {
    static let appleEpoch: Int64 = 978_307_200

    static func parse(path: String, bytes: [UInt8], context: ImportContext) throws -> ImportBatch {
        // Opened read-only: the export must not be changed by reading it. A copy with no
        // -wal beside it is opened immutable (no -shm is created); with one, SQLite must read it.
        var handle: OpaquePointer?
        let hasWAL = FileManager.default.fileExists(atPath: path + "-wal")
        let uri = "file:" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path) + (hasWAL ? "?mode=ro" : "?immutable=1")
        let rc = sqlite3_open_v2(uri, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nil)
        guard rc == SQLITE_OK, let handle else {
            if let handle { sqlite3_close_v2(handle) }
            throw context.fail(nil, "cannot open as a SQLite database (code \(rc))")
        }
        defer { sqlite3_close_v2(handle) }

        func query(_ sql: String, _ row: (OpaquePointer) throws -> Void) throws {
            var s: OpaquePointer?
            guard sqlite3_prepare_v2(handle, sql, -1, &s, nil) == SQLITE_OK, let s else {
                throw context.fail(nil, "not a Messages database: \(String(cString: sqlite3_errmsg(handle)))")
            }
            defer { sqlite3_finalize(s) }
            while true {
                let r = sqlite3_step(s)
                if r == SQLITE_DONE { return }
                guard r == SQLITE_ROW else { throw context.fail(nil, "cannot read the database: \(String(cString: sqlite3_errmsg(handle)))") }
                try row(s)
            }
        }
        func text(_ s: OpaquePointer, _ c: Int32) -> String? {
            guard sqlite3_column_type(s, c) != SQLITE_NULL, let p = sqlite3_column_text(s, c) else { return nil }
            return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(s, c))), as: UTF8.self)
        }
        func blob(_ s: OpaquePointer, _ c: Int32) -> [UInt8] {
            let n = Int(sqlite3_column_bytes(s, c))
            guard n > 0, let p = sqlite3_column_blob(s, c) else { return [] }
            return [UInt8](UnsafeRawBufferPointer(start: p, count: n))
        }

        var messageColumns: Set<String> = []
        try query("PRAGMA table_info(message)") { s in if let n = text(s, 1) { messageColumns.insert(n) } }
        for required in ["ROWID", "text", "date", "is_from_me", "handle_id"] where !messageColumns.contains(required) {
            throw context.fail(nil, "not a Messages database: table 'message' lacks column '\(required)'")
        }
        func optional(_ column: String) -> String { messageColumns.contains(column) ? "m.\(column)" : "NULL" }

        let batch = ImportBatch(source: "messages")
        let me = batch.me(name: context.options.me)
        let country = context.options.defaultCountry

        var handles: [Int64: String] = [:]
        try query("SELECT ROWID, id FROM handle") { s in handles[sqlite3_column_int64(s, 0)] = text(s, 1) }
        var chatParticipants: [Int64: [Int64]] = [:]
        try query("SELECT chat_id, handle_id FROM chat_handle_join ORDER BY chat_id, handle_id") { s in
            chatParticipants[sqlite3_column_int64(s, 0), default: []].append(sqlite3_column_int64(s, 1))
        }
        var conversationOfChat: [Int64: Int] = [:]
        var chatColumns: Set<String> = []
        try query("PRAGMA table_info(chat)") { s in if let n = text(s, 1) { chatColumns.insert(n) } }
        let styleColumn = chatColumns.contains("style") ? "style" : "NULL"
        try query("SELECT ROWID, guid, chat_identifier, display_name, \(styleColumn) FROM chat ORDER BY ROWID") { s in
            let chatID = sqlite3_column_int64(s, 0)
            let identifier = text(s, 2) ?? text(s, 1) ?? "chat \(chatID)"
            let participants = chatParticipants[chatID] ?? []
            let style = sqlite3_column_int64(s, 4)
            let isGroup = style == 43 || participants.count > 1
            let display = text(s, 3).flatMap { $0.isEmpty ? nil : $0 }
            let title = display ?? (isGroup ? participants.compactMap { handles[$0] }.joined(separator: ", ") : identifier)
            let key = isGroup ? "group:" + (text(s, 1) ?? identifier)
                : "direct:" + (Handle.parse(identifier, defaultCountry: country).map { "\($0.kind.rawValue):\($0.value)" } ?? identifier)
            let c = batch.conversation(key: key, title: title, isGroup: isGroup)
            for p in participants {
                let person = batch.person(address: handles[p], name: nil, defaultCountry: country)
                batch.conversations[c].participants.insert(person)
            }
            conversationOfChat[chatID] = c
        }

        let sql = """
            SELECT m.ROWID, \(optional("guid")), m.text, \(optional("attributedBody")), m.date, m.is_from_me, m.handle_id,
                   \(optional("associated_message_type")), \(optional("associated_message_guid")),
                   \(optional("cache_has_attachments")), \(optional("item_type")), \(optional("thread_originator_guid")),
                   \(optional("date_edited")), \(optional("date_retracted")), cmj.chat_id
            FROM message m JOIN chat_message_join cmj ON cmj.message_id = m.ROWID
            ORDER BY m.date, m.ROWID
            """
        var textByGUID: [String: String] = [:]
        try query(sql) { s in
            let rowID = sqlite3_column_int64(s, 0)
            guard let conversation = conversationOfChat[sqlite3_column_int64(s, 14)] else { batch.skipped += 1; return }
            let raw = sqlite3_column_int64(s, 4)
            // Nanoseconds since macOS 10.13; seconds before.
            let seconds = raw.magnitude > 10_000_000_000 ? Double(raw) / 1e9 : Double(raw)
            let sentAt = Int64(((seconds + Double(appleEpoch)) * 1000).rounded())
            let guid = text(s, 1)
            var body = text(s, 2)
            if body == nil || body?.isEmpty == true {
                let attributed = blob(s, 3)
                if !attributed.isEmpty { body = TypedStreamText.recover(attributed) }
            }
            let itemType = sqlite3_column_int64(s, 10)
            let sender: Int?
            if sqlite3_column_int64(s, 5) != 0 { sender = me }
            else if itemType != 0 && body == nil { sender = nil }
            else {
                let address = handles[sqlite3_column_int64(s, 6)]
                sender = address.map { batch.person(address: $0, name: nil, defaultCountry: country) }
                    ?? (batch.conversations[conversation].isGroup ? nil : batch.conversations[conversation].participants.first)
            }
            // U+FFFC marks where an attachment sat in the text. Text around it is trimmed, but
            // a message that is only spaces is kept as written: the store keeps every message
            // and the dataset filters decide what to leave out.
            let withoutAttachments = body?.replacingOccurrences(of: "\u{FFFC}", with: "") ?? ""
            let trimmed = withoutAttachments.trimmingCharacters(in: .whitespacesAndNewlines)
            let marksAttachments = body?.contains("\u{FFFC}") ?? false
            var content = trimmed.isEmpty && !marksAttachments ? withoutAttachments : trimmed
            let associatedType = sqlite3_column_int64(s, 7)
            var kind: MessageKind = sender == nil ? .system : .text
            var replyTo: ReplyReference?
            if (2000...3007).contains(associatedType), let target = text(s, 8).map(stripPartPrefix) {
                kind = .reaction
                replyTo = .sourceID(target)
                let quoted = textByGUID[target] ?? ""
                content = TapbackNames.render(type: associatedType, quoted: quoted, fallback: content)
            } else if content.isEmpty {
                if sqlite3_column_int64(s, 9) != 0 { kind = .media; content = "<Media omitted>" }
                else if itemType != 0 { kind = .system; content = "<item type \(itemType)>" }
                else { batch.skipped += 1; return }
            }
            if let thread = text(s, 11), kind == .text { replyTo = .sourceID(thread) }
            var message = ParsedMessage(conversation: conversation, sender: sender, sentAt: sentAt, text: content, kind: kind)
            message.sourceID = guid ?? String(rowID)
            message.replyTo = replyTo
            message.edited = sqlite3_column_int64(s, 12) != 0
            message.deleted = sqlite3_column_int64(s, 13) != 0
            if let guid, kind == .text || kind == .media { textByGUID[guid] = content }
            batch.add(message)
        }
        return batch
    }

    /// "p:0/GUID" and "bp:GUID" name a part of a message; the GUID is what we key on.
    static func stripPartPrefix(_ s: String) -> String {
        if let slash = s.firstIndex(of: "/") { return String(s[s.index(after: slash)...]) }
        if s.hasPrefix("bp:") { return String(s.dropFirst(3)) }
        return s
    }
}

/// Tapbacks rendered the way Messages sends them as text (and iMazing exports them).
enum TapbackNames {
    static func render(type: Int64, quoted: String, fallback: String) -> String {
        let verbs: [Int64: String] = [2000: "Loved", 2001: "Liked", 2002: "Disliked", 2003: "Laughed at", 2004: "Emphasized", 2005: "Questioned",
                                      3000: "Removed a heart from", 3001: "Removed a like from", 3002: "Removed a dislike from",
                                      3003: "Removed a laugh from", 3004: "Removed an exclamation from", 3005: "Removed a question mark from"]
        if TextReaction.parse(fallback) != nil { return fallback }
        let verb = verbs[type] ?? (type < 3000 ? "Reacted to" : "Removed a reaction from")
        return "\(verb) “\(quoted)”"
    }
}

/// Text from an NSAttributedString archived as a typedstream (`attributedBody`): the
/// NSString's bytes follow the class name and a `+`, with a one-byte length, or 0x81 and
/// a 16-bit little-endian length, or 0x82 and a 32-bit one.
enum TypedStreamText {
    static func recover(_ blob: [UInt8]) -> String? {
        let marker = Array("NSString".utf8)
        guard let at = find(marker, in: blob) else { return nil }
        var i = at + marker.count
        let limit = min(blob.count, i + 16)
        while i < limit, blob[i] != 0x2B { i += 1 }
        guard i < limit else { return nil }
        i += 1
        guard i < blob.count else { return nil }
        var length = Int(blob[i])
        i += 1
        if length == 0x81 {
            guard i + 2 <= blob.count else { return nil }
            length = Int(blob[i]) | Int(blob[i + 1]) << 8
            i += 2
        } else if length == 0x82 {
            guard i + 4 <= blob.count else { return nil }
            length = Int(blob[i]) | Int(blob[i + 1]) << 8 | Int(blob[i + 2]) << 16 | Int(blob[i + 3]) << 24
            i += 4
        }
        guard length > 0, length <= blob.count - i else { return nil }
        return String(decoding: blob[i..<(i + length)], as: UTF8.self)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        outer: for start in 0...(haystack.count - needle.count) {
            for j in 0..<needle.count where haystack[start + j] != needle[j] { continue outer }
            return start
        }
        return nil
    }
}
