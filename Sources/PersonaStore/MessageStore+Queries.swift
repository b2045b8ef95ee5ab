import Foundation

/// A message as `messages` prints it.
public struct StoredMessage: Equatable, Sendable {
    public var id: Int64
    public var conversationID: Int64
    public var conversation: String
    /// Nil for notices from the app.
    public var sender: String?
    public var isMe: Bool
    public var sentAt: Date
    public var text: String
    public var kind: MessageKind
}

/// One row of `people`.
public struct PersonSummary: Equatable, Sendable {
    public var id: Int64
    public var name: String
    public var sent: Int
    public var received: Int
    public var first: Date?
    public var last: Date?
    public var inOneToOne: Bool
    public var inGroup: Bool
    public var inContacts: Bool
    /// Text messages in one-to-one chats with them, both directions (what `minMessages` counts).
    public var oneToOneTexts: Int
    /// Passes the default filter: in the contacts, one-to-one, at least `minMessages`.
    public var imitable: Bool
}

public struct StoreStats: Equatable, Sendable {
    public var people: Int
    public var contacts: Int
    public var conversations: Int
    public var groupConversations: Int
    public var messages: Int
    public var messagesByKind: [MessageKind: Int]
    public var messagesBySource: [(source: String, count: Int)]
    public var imports: Int
    public var first: Date?
    public var last: Date?

    public static func == (a: StoreStats, b: StoreStats) -> Bool {
        a.people == b.people && a.contacts == b.contacts && a.conversations == b.conversations && a.groupConversations == b.groupConversations
            && a.messages == b.messages && a.messagesByKind == b.messagesByKind && a.imports == b.imports && a.first == b.first && a.last == b.last
            && a.messagesBySource.map(\.source) == b.messagesBySource.map(\.source) && a.messagesBySource.map(\.count) == b.messagesBySource.map(\.count)
    }
}

extension MessageStore {
    struct ConversationInfo { var id: Int64; var title: String; var isGroup: Bool; var others: [Int64] }

    func conversationInfos() throws -> [ConversationInfo] {
        var others: [Int64: [Int64]] = [:]
        for (c, p) in try database.query("SELECT pa.conversation_id, pa.person_id FROM participants pa JOIN people p ON p.id = pa.person_id WHERE p.is_me = 0 ORDER BY 1, 2", [], { ($0.int64(0), $0.int64(1)) }) {
            others[c, default: []].append(p)
        }
        return try database.query("SELECT id, title, is_group FROM conversations ORDER BY id") {
            let id = $0.int64(0)
            let o = others[id] ?? []
            return ConversationInfo(id: id, title: $0.string(1), isGroup: $0.bool(2) || o.count > 1, others: o)
        }
    }

    struct PersonRow { var id: Int64; var name: String; var isMe: Bool; var inContacts: Bool }

    func peopleRows() throws -> [Int64: PersonRow] {
        var rows: [Int64: PersonRow] = [:]
        for r in try database.query("SELECT id, name, is_me, in_contacts FROM people", [], {
            PersonRow(id: $0.int64(0), name: $0.string(1), isMe: $0.bool(2), inContacts: $0.bool(3))
        }) { rows[r.id] = r }
        return rows
    }

    /// Text messages in one-to-one conversations, per other person.
    func oneToOneTextCounts(_ conversations: [ConversationInfo]) throws -> [Int64: Int] {
        var perConversation: [Int64: Int] = [:]
        for (c, n) in try database.query("SELECT conversation_id, COUNT(*) FROM messages WHERE kind = 'text' GROUP BY conversation_id", [], { ($0.int64(0), $0.int(1)) }) {
            perConversation[c] = n
        }
        var counts: [Int64: Int] = [:]
        for c in conversations where !c.isGroup { if let p = c.others.first { counts[p, default: 0] += perConversation[c.id] ?? 0 } }
        return counts
    }

    /// The conversations a filter lets through, with the person each one is with (nil for groups).
    func eligibleConversations(_ filter: MessageFilter) throws -> [(ConversationInfo, them: Int64?)] {
        let conversations = try conversationInfos()
        let people = try peopleRows()
        let counts = try oneToOneTextCounts(conversations)
        let only = try filter.person.map { try person(named: $0).id }
        var out: [(ConversationInfo, them: Int64?)] = []
        for c in conversations {
            if c.isGroup {
                if filter.excludeGroups { continue }
                if let only, !c.others.contains(only) { continue }
                if filter.contactsOnly, !c.others.allSatisfy({ people[$0]?.inContacts ?? false }) { continue }
                out.append((c, nil))
                continue
            }
            let them = c.others.first
            if let only, them != only { continue }
            if let them {
                if filter.contactsOnly, !(people[them]?.inContacts ?? false) { continue }
                if (counts[them] ?? 0) < filter.minMessages { continue }
            } else if filter.contactsOnly || filter.minMessages > 0 { continue }
            out.append((c, them))
        }
        return out
    }

    private func loadMessages(conversation: Int64, filter: MessageFilter, limitLast: Int? = nil, _ each: (Statement) throws -> Void) throws {
        let kinds = filter.kinds.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        var sql = """
            SELECT m.id, m.sender_id, COALESCE(p.is_me, 0), COALESCE(p.name, ''), m.sent_at, m.text, m.kind
            FROM messages m LEFT JOIN people p ON p.id = m.sender_id
            WHERE m.conversation_id = ? AND m.kind IN (\(kinds)) AND m.sent_at >= ? AND m.sent_at < ?
            """
        sql += limitLast != nil ? " ORDER BY m.sent_at DESC, m.id DESC LIMIT ?" : " ORDER BY m.sent_at, m.id"
        let s = try database.prepare(sql)
        try s.bind(1, conversation)
        try s.bind(2, filter.since.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.up)) } ?? Int64.min)
        try s.bind(3, filter.until.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.up)) } ?? Int64.max)
        if let limitLast { try s.bind(4, Int64(limitLast)) }
        while try s.step() { try each(s) }
    }

    /// One-to-one conversations that pass `filter`, each in time order: what datasets are built from.
    public func trainingConversations(filter: MessageFilter) throws -> [TrainingConversation] {
        let meName = try database.query("SELECT name FROM people WHERE is_me = 1 ORDER BY id LIMIT 1", [], { $0.string(0) }).first ?? "Me"
        let people = try peopleRows()
        var out: [TrainingConversation] = []
        for (c, them) in try eligibleConversations(filter) {
            guard let them else { continue }  // datasets are built from one-to-one chats only
            var messages: [TrainingMessage] = []
            try loadMessages(conversation: c.id, filter: filter) { s in
                let text = filter.redact ? Redactor.redact(s.string(5)) : s.string(5)
                messages.append(TrainingMessage(id: s.int64(0), fromMe: s.bool(2), senderName: s.string(3),
                                                sentAt: Date(timeIntervalSince1970: Double(s.int64(4)) / 1000), text: text,
                                                kind: MessageKind(rawValue: s.string(6)) ?? .text))
            }
            if messages.isEmpty { continue }
            out.append(TrainingConversation(conversationID: c.id, me: meName, them: people[them]?.name ?? c.title,
                                            themPersonID: them, messages: messages))
        }
        return out
    }

    /// Messages that pass `filter`, ordered by conversation then time (groups included unless filtered).
    public func messages(filter: MessageFilter) throws -> [StoredMessage] {
        var out: [StoredMessage] = []
        for (c, _) in try eligibleConversations(filter) {
            try loadMessages(conversation: c.id, filter: filter) { s in
                out.append(StoredMessage(id: s.int64(0), conversationID: c.id, conversation: c.title,
                                         sender: s.isNull(1) ? nil : s.string(3), isMe: s.bool(2),
                                         sentAt: Date(timeIntervalSince1970: Double(s.int64(4)) / 1000),
                                         text: filter.redact ? Redactor.redact(s.string(5)) : s.string(5),
                                         kind: MessageKind(rawValue: s.string(6)) ?? .text))
            }
        }
        return out
    }

    /// Texts of messages (all kinds `text`), from the owner (true), from others (false) or all (nil).
    public func messageTexts(fromMe: Bool?) throws -> [(id: Int64, text: String)] {
        var sql = "SELECT m.id, m.text FROM messages m LEFT JOIN people p ON p.id = m.sender_id WHERE m.kind = 'text'"
        if let fromMe { sql += fromMe ? " AND p.is_me = 1" : " AND COALESCE(p.is_me, 0) = 0" }
        sql += " ORDER BY m.id"
        return try database.query(sql) { (id: $0.int64(0), text: $0.string(1)) }
    }

    /// The `people` table: everyone but the owner, most messages first.
    public func peopleSummaries(minMessages: Int = 1000) throws -> [PersonSummary] {
        let conversations = try conversationInfos()
        let people = try peopleRows()
        let counts = try oneToOneTextCounts(conversations)
        let meIDs = Set(people.values.filter(\.isMe).map(\.id))
        var byConversation: [Int64: [(sender: Int64?, count: Int, first: Int64, last: Int64)]] = [:]
        for row in try database.query("SELECT conversation_id, sender_id, COUNT(*), MIN(sent_at), MAX(sent_at) FROM messages GROUP BY 1, 2", [], {
            ($0.int64(0), $0.optionalInt64(1), $0.int(2), $0.int64(3), $0.int64(4))
        }) { byConversation[row.0, default: []].append((row.1, row.2, row.3, row.4)) }
        var summaries: [Int64: PersonSummary] = [:]
        for p in people.values where !p.isMe {
            summaries[p.id] = PersonSummary(id: p.id, name: p.name, sent: 0, received: 0, first: nil, last: nil, inOneToOne: false, inGroup: false,
                                            inContacts: p.inContacts, oneToOneTexts: counts[p.id] ?? 0, imitable: false)
        }
        func widen(_ s: inout PersonSummary, _ first: Int64, _ last: Int64) {
            let f = Date(timeIntervalSince1970: Double(first) / 1000), l = Date(timeIntervalSince1970: Double(last) / 1000)
            if s.first == nil || f < s.first! { s.first = f }
            if s.last == nil || l > s.last! { s.last = l }
        }
        for c in conversations {
            for other in c.others {
                guard var s = summaries[other] else { continue }
                if c.isGroup { s.inGroup = true } else { s.inOneToOne = true }
                for row in byConversation[c.id] ?? [] {
                    if row.sender == other { s.sent += row.count; widen(&s, row.first, row.last) }
                    else if let sender = row.sender, meIDs.contains(sender) { s.received += row.count; widen(&s, row.first, row.last) }
                }
                summaries[other] = s
            }
        }
        return summaries.values.map { s in
            var s = s
            s.imitable = s.inContacts && s.inOneToOne && s.oneToOneTexts >= minMessages
            return s
        }.sorted { ($0.sent + $0.received, $1.name, $1.id) > ($1.sent + $1.received, $0.name, $0.id) }
    }

    public func stats() throws -> StoreStats {
        let conversations = try conversationInfos()
        var byKind: [MessageKind: Int] = [:]
        for (k, n) in try database.query("SELECT kind, COUNT(*) FROM messages GROUP BY kind", [], { ($0.string(0), $0.int(1)) }) {
            if let kind = MessageKind(rawValue: k) { byKind[kind] = n }
        }
        let bySource = try database.query("SELECT source, COUNT(*) FROM messages GROUP BY source ORDER BY source", [], { (source: $0.string(0), count: $0.int(1)) })
        let range = try database.query("SELECT MIN(sent_at), MAX(sent_at) FROM messages", [], { ($0.optionalInt64(0), $0.optionalInt64(1)) }).first
        return StoreStats(
            people: Int(try database.scalarInt("SELECT COUNT(*) FROM people WHERE is_me = 0") ?? 0),
            contacts: Int(try database.scalarInt("SELECT COUNT(*) FROM people WHERE is_me = 0 AND in_contacts = 1") ?? 0),
            conversations: conversations.count, groupConversations: conversations.filter(\.isGroup).count,
            messages: byKind.values.reduce(0, +), messagesByKind: byKind, messagesBySource: bySource,
            imports: Int(try database.scalarInt("SELECT COUNT(*) FROM imports") ?? 0),
            first: range?.0.map { Date(timeIntervalSince1970: Double($0) / 1000) },
            last: range?.1.map { Date(timeIntervalSince1970: Double($0) / 1000) })
    }

    /// A person's handles, conversations and last messages (for `person`).
    public func personDetails(_ query: String, last: Int) throws -> (person: PersonRecord, handles: [String], conversations: [(title: String, isGroup: Bool, messages: Int)], recent: [StoredMessage]) {
        let p = try person(named: query)
        let handles = try database.query("SELECT kind, value FROM handles WHERE person_id = ? ORDER BY kind, value", [.int(p.id)]) { "\($0.string(0)) \($0.string(1))" }
        let mine = try conversationInfos().filter { $0.others.contains(p.id) }
        var conversations: [(title: String, isGroup: Bool, messages: Int)] = []
        var recent: [StoredMessage] = []
        for c in mine {
            let n = Int(try database.scalarInt("SELECT COUNT(*) FROM messages WHERE conversation_id = ?", [.int(c.id)]) ?? 0)
            conversations.append((c.title, c.isGroup, n))
            try loadMessages(conversation: c.id, filter: .everything, limitLast: last) { s in
                recent.append(StoredMessage(id: s.int64(0), conversationID: c.id, conversation: c.title, sender: s.isNull(1) ? nil : s.string(3),
                                            isMe: s.bool(2), sentAt: Date(timeIntervalSince1970: Double(s.int64(4)) / 1000),
                                            text: s.string(5), kind: MessageKind(rawValue: s.string(6)) ?? .text))
            }
        }
        recent.sort { ($0.sentAt, $0.id) < ($1.sentAt, $1.id) }
        return (p, handles, conversations, Array(recent.suffix(last)))
    }
}
