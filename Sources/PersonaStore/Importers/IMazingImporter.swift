/// iMazing's CSV export of Messages (one file per conversation), in each header variant it
/// writes: 15 columns (with Edited Date), the older 14, the one with Reactions, and
/// WhatsApp through iMazing (Sent Date, Forwarded, Reactions, Attachment info). Columns are
/// found by name, so their order and extra columns do not matter.
enum IMazingImporter {
    static let required = ["Chat Session", "Message Date", "Type", "Text"]

    static func parse(_ bytes: [UInt8], context: ImportContext) throws -> ImportBatch {
        var reader = CSVReader(bytes: bytes, context: context)
        var fields: [CSVReader.Field] = []
        guard try reader.next(into: &fields) else { throw context.fail(nil, "the file is empty") }
        var columns: [String: Int] = [:]
        for (i, f) in fields.enumerated() {
            let name = reader.string(f).trimmingCharacters(in: .whitespaces.union(HandleNormalizer.invisibleMarks))
            columns[name.lowercased()] = i
        }
        for name in required where columns[name.lowercased()] == nil {
            throw context.fail("line 1", "missing column '\(name)'; expected an iMazing Messages header (\(required.joined(separator: ", ")), …)")
        }
        func column(_ name: String) -> Int? { columns[name.lowercased()] }
        let session = column("Chat Session") ?? 0, date = column("Message Date") ?? 0
        let type = column("Type") ?? 0, textColumn = column("Text") ?? 0
        let senderID = column("Sender ID"), senderName = column("Sender Name")
        let edited = column("Edited Date"), replying = column("Replying to")
        let attachment = column("Attachment"), attachmentType = column("Attachment type"), attachmentInfo = column("Attachment info")
        let isWhatsApp = column("Service") == nil && (column("Forwarded") != nil || column("Sent Date") != nil)
        let batch = ImportBatch(source: isWhatsApp ? "imazing-whatsapp" : "imazing")
        let me = batch.me(name: context.options.me)
        var clock = LocalTimeConverter(zone: context.options.timeZone)
        let country = context.options.defaultCountry
        let minimumColumns = [session, date, type, textColumn].max() ?? 0
        var senderSets: [Int: Set<Int>] = [:]
        var sessionCache: (String, Int)?
        // Matching a sender normalizes their handles, which costs microseconds: once per sender, not per row.
        var personCache: [String: Int] = [:]

        while try reader.next(into: &fields) {
            let line = reader.recordLine
            guard fields.count > minimumColumns else {
                if fields.count == 1, reader.isEmpty(fields[0]) { continue }
                throw context.fail("line \(line)", "\(fields.count) fields; expected \(columns.count) as in the header")
            }
            func value(_ c: Int?) -> String? {
                guard let c, c < fields.count, !reader.isEmpty(fields[c]) else { return nil }
                return reader.string(fields[c])
            }
            guard let when = reader.dateComponents(fields[date]),
                  let sentAt = clock.utcMillis(year: when.year, month: when.month, day: when.day, hour: when.hour,
                                               minute: when.minute, second: when.second, millisecond: when.millisecond) else {
                throw context.fail("line \(line)", "Message Date '\(reader.string(fields[date]))' is not a date; expected YYYY-MM-DD HH:MM:SS")
            }
            let sessionName = value(session) ?? context.fileName
            let conversation: Int
            if let cached = sessionCache, cached.0 == sessionName { conversation = cached.1 }
            else {
                conversation = batch.conversation(key: sessionName, title: sessionName, isGroup: false)
                sessionCache = (sessionName, conversation)
            }
            let typeText = value(type) ?? ""
            var sender: Int?
            switch typeText == "Incoming" ? "incoming" : typeText == "Outgoing" ? "outgoing" : typeText.lowercased() {
            case "outgoing", "sent": sender = me
            case "incoming", "received":
                let address = value(senderID), name = value(senderName)
                let cacheKey = (address ?? "") + "\u{1F}" + (name ?? "") + "\u{1F}" + sessionName
                let who: Int
                if let cached = personCache[cacheKey] { who = cached }
                else {
                    who = batch.person(address: address, name: name ?? (address == nil ? sessionName : nil), defaultCountry: country)
                    personCache[cacheKey] = who
                }
                senderSets[conversation, default: []].insert(who)
                sender = who
            case "notification", "system", "": sender = nil
            default:
                throw context.fail("line \(line)", "Type '\(typeText)' is not Incoming, Outgoing or Notification")
            }
            var text = value(textColumn) ?? ""
            var kind: MessageKind = sender == nil ? .system : .text
            var replyTo: ReplyReference?
            var attachments: [ParsedAttachment] = []
            if let file = value(attachment) {
                attachments.append(ParsedAttachment(fileName: file, mimeType: value(attachmentType), info: value(attachmentInfo)))
            }
            if kind == .text {
                if let reaction = TextReaction.parse(text) {
                    kind = .reaction
                    replyTo = .text(reaction.quoted)
                } else if text.isEmpty {
                    guard !attachments.isEmpty else { batch.skipped += 1; continue }
                    kind = .media
                    text = "<Media omitted>"
                } else if let quoted = value(replying) {
                    replyTo = .text(TextReaction.innerQuote(quoted) ?? quoted)
                }
            } else if text.isEmpty {
                batch.skipped += 1
                continue
            }
            var message = ParsedMessage(conversation: conversation, sender: sender, sentAt: sentAt, text: text, kind: kind)
            message.edited = value(edited) != nil
            message.replyTo = replyTo
            message.attachments = attachments
            batch.add(message)
        }
        for (conversation, senders) in senderSets where senders.count > 1 {
            batch.conversations[conversation].isGroup = true
        }
        return batch
    }
}

/// Reactions that Messages sends as text to phones that cannot show tapbacks
/// (`Liked “see you at 6”`), and that iMazing exports as such.
enum TextReaction {
    static let verbs = ["Liked", "Loved", "Disliked", "Laughed at", "Emphasized", "Emphasised", "Questioned",
                        "Removed a like from", "Removed a heart from", "Removed a dislike from",
                        "Removed a laugh from", "Removed an exclamation from", "Removed a question mark from"]

    /// The verb and the quoted text, when `text` is a text reaction.
    static func parse(_ text: String) -> (verb: String, quoted: String)? {
        guard text.hasSuffix("”") || text.hasSuffix("\"") else { return nil }
        var verb: String?
        for v in verbs where text.hasPrefix(v + " “") || text.hasPrefix(v + " \"") { verb = v; break }
        if verb == nil, text.hasPrefix("Reacted "), let to = text.range(of: " to “") {
            verb = String(text[..<to.lowerBound])
        }
        guard let verb, let quoted = innerQuote(text) else { return nil }
        return (verb, quoted)
    }

    /// The text between the first opening quote and the last closing one.
    static func innerQuote(_ text: String) -> String? {
        for (open, close) in [("“", "”"), ("«", "»"), ("\"", "\"")] {
            if let a = text.range(of: open), let b = text.range(of: close, options: .backwards), a.upperBound <= b.lowerBound {
                return String(text[a.upperBound..<b.lowerBound]).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}

import Foundation
