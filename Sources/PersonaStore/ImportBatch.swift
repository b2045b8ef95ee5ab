import Foundation

/// The export formats persona reads.
public enum ImportFormat: String, CaseIterable, Sendable {
    case imazing, whatsapp, chatdb, smsbackup, telegram, csv, jsonl, vcard
}

/// What the user told `import`.
public struct ImportOptions: Sendable {
    /// Forces a format instead of detecting it.
    public var format: ImportFormat?
    /// The owner's display name as it appears in exports that name every sender (WhatsApp text).
    public var me: String?
    /// Zone of exports whose times carry none (WhatsApp text, iMazing CSV, generic CSV).
    public var timeZone: TimeZone
    /// Country (ISO 3166 alpha-2) whose calling code national phone numbers get.
    public var defaultCountry: String
    /// Reads numeric dates day-first (true) or month-first (false) instead of deciding from the file (WhatsApp text).
    public var dayFirst: Bool?

    public init(format: ImportFormat? = nil, me: String? = nil, timeZone: TimeZone = .current, defaultCountry: String = "US", dayFirst: Bool? = nil) {
        self.format = format; self.me = me; self.timeZone = timeZone; self.defaultCountry = defaultCountry; self.dayFirst = dayFirst
    }
}

/// What one file contributed.
public struct ImportSummary: Equatable, Sendable {
    public var file: String
    public var format: ImportFormat
    public var conversations: Int
    public var newMessages: Int
    public var duplicateMessages: Int
    /// Records read but not stored (drafts, failed sends, chats of a kind not imported).
    public var skippedMessages: Int
    /// People created or updated from contacts (vCard).
    public var contacts: Int
    public var seconds: Double
    /// What the importer assumed and the user may want to override, one line each.
    public var warnings: [String] = []
}

/// A sender or participant as an export names it, before it is matched to a person.
struct ParsedPerson {
    /// Identity within the file ("me", "phone:+4477…", "name:alice"): part of the dedup key.
    var key = ""
    var name: String?
    var handles: [Handle]
    var isMe: Bool
    /// The export shows a contact name for them (not just a number), or they come from contacts.
    var inContacts: Bool
}

enum ReplyReference {
    case sourceID(String)
    /// The replied-to message by its text (iMazing's "Replying to", text reactions).
    case text(String)
}

struct ParsedAttachment {
    var fileName: String?
    var mimeType: String?
    var info: String?
}

struct ParsedMessage {
    var conversation: Int
    /// Index into `ImportBatch.people`; nil for notices from the app itself.
    var sender: Int?
    /// Milliseconds since 1970-01-01 UTC.
    var sentAt: Int64
    var text: String
    var kind: MessageKind
    var edited = false
    var deleted = false
    var sourceID: String?
    var replyTo: ReplyReference?
    var attachments: [ParsedAttachment] = []
}

struct ParsedConversation {
    /// Identity of the conversation within its source: the same chat exported twice has the same key.
    var key: String
    var title: String
    var isGroup: Bool
    var participants: Set<Int>
}

/// Everything one file holds, parsed and validated, before any of it touches the
/// database: the writer stores a batch in one transaction, so a file lands whole or not at all.
final class ImportBatch {
    let source: String
    var people: [ParsedPerson] = []
    private var personByKey: [String: Int] = [:]
    var conversations: [ParsedConversation] = []
    private var conversationByKey: [String: Int] = [:]
    var messages: [ParsedMessage] = []
    var skipped = 0
    /// Assumptions the file left open (an ambiguous date order), for the import's summary.
    var warnings: [String] = []
    /// Contacts files only add people.
    var isContacts = false

    init(source: String) { self.source = source }

    /// The owner, created on first use.
    func me(name: String? = nil) -> Int {
        if let i = personByKey["me"] {
            if people[i].name == nil, let name { people[i].name = name }
            return i
        }
        people.append(ParsedPerson(key: "me", name: name, handles: [], isMe: true, inContacts: false))
        personByKey["me"] = people.count - 1
        return people.count - 1
    }

    /// A person identified within this file by `key` (a normalized handle or a name).
    func person(key: String, make: () -> ParsedPerson) -> Int {
        if let i = personByKey[key] { return i }
        var made = make()
        made.key = key
        people.append(made)
        personByKey[key] = people.count - 1
        return people.count - 1
    }

    /// A person seen as a raw address (phone, email, id) and maybe a display name.
    func person(address: String?, name: String?, defaultCountry: String) -> Int {
        let handle = address.flatMap { Handle.parse($0, defaultCountry: defaultCountry) }
        let cleanName = name.map { $0.trimmingCharacters(in: .whitespacesAndNewlines.union(HandleNormalizer.invisibleMarks)) }
            .flatMap { $0.isEmpty ? nil : $0 }
        // A "name" that is really a number means the person is not in the contacts.
        let nameAsHandle = cleanName.flatMap { Handle.parse($0, defaultCountry: defaultCountry) }
        let nameIsAddress = nameAsHandle.map { $0.kind == .phone || $0.kind == .email } ?? false
        let key: String
        if let handle { key = "\(handle.kind.rawValue):\(handle.value)" }
        else if let nameAsHandle, nameIsAddress { key = "\(nameAsHandle.kind.rawValue):\(nameAsHandle.value)" }
        else if let cleanName { key = "name:" + cleanName.lowercased() }
        else { key = "unknown" }
        return person(key: key) {
            var handles: [Handle] = []
            if let handle { handles.append(handle) }
            if nameIsAddress, let nameAsHandle, nameAsHandle != handle { handles.append(nameAsHandle) }
            if let cleanName, !nameIsAddress, let n = Handle.name(cleanName) { handles.append(n) }
            return ParsedPerson(name: nameIsAddress ? (nameAsHandle?.value ?? cleanName) : (cleanName ?? handle?.value),
                                handles: handles, isMe: false, inContacts: cleanName != nil && !nameIsAddress)
        }
    }

    func conversation(key: String, title: String, isGroup: Bool) -> Int {
        if let i = conversationByKey[key] { return i }
        conversations.append(ParsedConversation(key: key, title: title, isGroup: isGroup, participants: []))
        conversationByKey[key] = conversations.count - 1
        return conversations.count - 1
    }

    func add(_ message: ParsedMessage) {
        if let s = message.sender { conversations[message.conversation].participants.insert(s) }
        messages.append(message)
    }
}
