import Foundation

/// Telegram Desktop's JSON export (`result.json`): one chat (`{"name", "type", "messages"}`)
/// or a whole account (`{"personal_information", "chats": {"list": […]}}`). Every chat is
/// stored; groups and channels are marked as groups, so that the default filters leave them
/// out of datasets as they do for other formats. Times come from `date_unixtime` (absolute)
/// when present.
enum TelegramImporter {
    static func parse(_ bytes: [UInt8], context: ImportContext) throws -> ImportBatch {
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: Data(bytes)) }
        catch { throw context.fail(nil, "not valid JSON (\(jsonErrorDetail(error))); expected Telegram's result.json") }
        guard let object = root as? [String: Any] else { throw context.fail(nil, "the JSON is not an object; expected Telegram's result.json") }
        let batch = ImportBatch(source: "telegram")
        var ownerID: String?
        if let info = object["personal_information"] as? [String: Any], let id = info["user_id"] {
            ownerID = "user\(id)"
        }
        var chats: [[String: Any]] = []
        if let list = (object["chats"] as? [String: Any])?["list"] as? [[String: Any]] { chats = list }
        else if object["messages"] != nil { chats = [object] }
        else { throw context.fail(nil, "no 'messages' or 'chats' key; expected Telegram's result.json") }
        var clock = LocalTimeConverter(zone: context.options.timeZone)
        for (chatIndex, chat) in chats.enumerated() {
            let type = chat["type"] as? String ?? ""
            guard let messages = chat["messages"] as? [[String: Any]] else {
                throw context.fail("chat \(chatIndex)", "'messages' is missing or not a list")
            }
            let isOneToOne = oneToOneTypes.contains(type)
            let chatName = chat["name"] as? String ?? (type == "saved_messages" ? "Saved Messages" : "chat \(chat["id"] ?? chatIndex)")
            let chatKey = "chat:" + String(describing: chat["id"] ?? chatName)
            let conversation = batch.conversation(key: chatKey, title: chatName, isGroup: !isOneToOne)
            for m in messages {
                let id = m["id"].map { String(describing: $0) } ?? "?"
                let where_ = "message id \(id)"
                let sentAt: Int64
                let unix = (m["date_unixtime"] as? String).flatMap { Int64($0) } ?? (m["date_unixtime"] as? NSNumber)?.int64Value
                if let seconds = unix, seconds.magnitude < 100_000_000_000 { sentAt = seconds * 1000 }
                else if let date = m["date"] as? String, let t = isoLocal(date, clock: &clock) { sentAt = t }
                else { throw context.fail(where_, "no valid date or date_unixtime") }
                let text = flatten(m["text"])
                if (m["type"] as? String) == "service" {
                    let action = m["action"] as? String ?? "service"
                    var message = ParsedMessage(conversation: conversation, sender: nil, sentAt: sentAt, text: text.isEmpty ? action : text, kind: .system)
                    message.sourceID = id
                    batch.add(message)
                    continue
                }
                let fromID = m["from_id"] as? String
                let fromName = m["from"] as? String
                // A one-chat export does not say who the owner is; in a personal chat it is
                // whoever the chat is not named after. In a group that guess would make
                // everyone the owner, so there only the ids and names known count.
                let isMe = (ownerID != nil && fromID == ownerID) || (fromName.map(context.isMe) ?? false)
                    || (type == "personal_chat" && ownerID == nil && context.options.me == nil && context.meNames.isEmpty
                        && fromName != nil && fromName != chatName)
                let sender = isMe ? batch.me(name: context.options.me ?? fromName) : batch.person(key: "telegram:" + (fromID ?? fromName ?? "?")) {
                    var handles: [Handle] = []
                    if let fromID { handles.append(Handle(kind: .other, value: "telegram:" + fromID.lowercased())) }
                    if let fromName, let n = Handle.name(fromName) { handles.append(n) }
                    return ParsedPerson(name: fromName ?? fromID, handles: handles, isMe: false, inContacts: fromName != nil)
                }
                var kind = MessageKind.text
                var body = text
                if m["media_type"] != nil || m["photo"] != nil || m["file"] != nil {
                    if body.isEmpty { kind = .media; body = "<Media omitted>" }
                }
                guard !body.isEmpty else { batch.skipped += 1; continue }
                var message = ParsedMessage(conversation: conversation, sender: sender, sentAt: sentAt, text: body, kind: kind)
                message.sourceID = id
                message.edited = m["edited"] != nil
                if let reply = m["reply_to_message_id"] { message.replyTo = .sourceID(String(describing: reply)) }
                batch.add(message)
            }
        }
        return batch
    }

    /// Chat types with the owner and at most one other person; every other type (groups,
    /// supergroups, channels, and types Telegram adds later) is stored as a group.
    static let oneToOneTypes: Set<String> = ["personal_chat", "bot_chat", "saved_messages"]

    /// Text as a string, or an array of strings and entities `{"type", "text"}`.
    static func flatten(_ value: Any?) -> String {
        if let s = value as? String { return s }
        if let parts = value as? [Any] {
            return parts.map { part in
                if let s = part as? String { return s }
                if let d = part as? [String: Any] { return d["text"] as? String ?? "" }
                return ""
            }.joined()
        }
        return ""
    }

    /// "2023-05-04T18:22:31" in the export's local time.
    static func isoLocal(_ s: String, clock: inout LocalTimeConverter) -> Int64? {
        let parts = s.split(whereSeparator: { $0 == "-" || $0 == "T" || $0 == ":" || $0 == " " }).compactMap { Int($0) }
        guard parts.count >= 6 else { return nil }
        return clock.utcMillis(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4], second: parts[5])
    }
}

func jsonErrorDetail(_ error: Error) -> String {
    let ns = error as NSError
    if let detail = ns.userInfo["NSDebugDescription"] as? String { return detail }
    return ns.localizedDescription
}
