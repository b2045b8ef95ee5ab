import Foundation

/// WhatsApp's "Export chat" text, bare or in the .zip it makes, in both layouts:
/// iOS `[31/12/2023, 23:59:59] Name: text` and Android `31/12/2023, 23:59 - Name: text`,
/// with day- or month-first dates (decided over the whole file), 2- or 4-digit years,
/// 12- or 24-hour times, and the invisible marks WhatsApp scatters through both.
enum WhatsAppImporter {
    static func parseFileOrZip(_ bytes: [UInt8], context: ImportContext) throws -> ImportBatch {
        if bytes.starts(with: [0x50, 0x4B]) {
            let archive = try ZipArchive(bytes: bytes, context: context)
            let chats = archive.entries.filter { $0.name.lowercased().hasSuffix(".txt") && !$0.name.hasPrefix("__MACOSX") }
            guard let entry = chats.first(where: { ($0.name as NSString).lastPathComponent == "_chat.txt" })
                    ?? chats.first(where: { ($0.name as NSString).lastPathComponent.hasPrefix("WhatsApp") }) ?? chats.first else {
                throw context.fail(nil, "the zip holds no chat text (.txt); expected a WhatsApp export")
            }
            let inner = try archive.extract(entry)
            let text = try TextDecoding.utf8(inner, context: ImportContext(path: context.path + ":" + entry.name, options: context.options, meNames: context.meNames))
            let entryTitle = title(fromFileName: (entry.name as NSString).lastPathComponent)
            return try parse(text, context: context, title: title(fromFileName: context.fileName) ?? entryTitle)
        }
        return try parse(try TextDecoding.utf8(bytes, context: context), context: context, title: title(fromFileName: context.fileName))
    }

    /// "WhatsApp Chat with Alice.txt", "WhatsApp Chat - Alice.zip" → "Alice".
    static func title(fromFileName name: String) -> String? {
        var base = name
        for ext in [".txt", ".zip"] where base.lowercased().hasSuffix(ext) { base = String(base.dropLast(ext.count)) }
        for prefix in ["WhatsApp Chat with ", "WhatsApp Chat - ", "WhatsApp Chat – "] where base.hasPrefix(prefix) {
            let t = base.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
            // Exports of one chat made twice get " (1)" appended by the browser or Files.
            if let paren = t.range(of: #" \(\d+\)$"#, options: .regularExpression) { return String(t[..<paren.lowerBound]) }
            return t.isEmpty ? nil : t
        }
        return nil
    }

    /// True when `line` starts like a WhatsApp message (for format detection).
    /// A header with only a space before the name must also name a sender, so that logs
    /// (`2024-01-02 10:00:00 INFO …`) are not taken for chats.
    static func looksLikeMessageStart(_ line: [UInt8]) -> Bool {
        line.withUnsafeBufferPointer { b in
            guard let h = WhatsAppLineGrammar.parse(b, 0, b.count) else { return false }
            guard h.layout.nameSeparator == .space else { return true }
            var i = h.bodyStart
            while i + 1 < b.count { if b[i] == 0x3A, b[i + 1] == 0x20 { return true }; i += 1 }
            return false
        }
    }

    /// A line that reads as a header, before the file's layout and date order are known.
    struct Candidate {
        var line: Int
        var lineStart: Int
        /// The line's end without its `\r`, and where the next line starts.
        var contentEnd: Int
        var nextLineStart: Int
        var header: WhatsAppHeader
    }

    /// A message: its header line and the lines up to the next message's.
    struct Record {
        var candidate: Candidate
        var sentAt: Int64
        /// The bytes of the continuation lines (`continuationStart..<continuationEnd`, may be empty).
        var continuationEnd: Int
    }

    /// A lone header line dated more than a day before the messages around it is text inside a
    /// message (a pasted or quoted message), up to this many in a row; a longer run, or one the
    /// file does not return from, is a second export appended and starts messages.
    static let quotedRunLimit = 5

    static func parse(_ bytes: [UInt8], context: ImportContext, title fileTitle: String?) throws -> ImportBatch {
        // Pass 1: every line that reads as a header, and how often each layout occurs.
        var candidates: [Candidate] = []
        var layoutCounts: [WhatsAppLayout: Int] = [:]
        var firstLayouts: [WhatsAppLayout] = []
        bytes.withUnsafeBufferPointer { b in
            let n = b.count
            var lineStart = 0
            var lineNumber = 1
            while lineStart < n {
                var lineEnd = lineStart
                while lineEnd < n, b[lineEnd] != 0x0A { lineEnd += 1 }
                var contentEnd = lineEnd
                if contentEnd > lineStart, b[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                if let h = WhatsAppLineGrammar.parse(b, lineStart, contentEnd) {
                    candidates.append(Candidate(line: lineNumber, lineStart: lineStart, contentEnd: contentEnd, nextLineStart: min(lineEnd + 1, n), header: h))
                    if layoutCounts[h.layout, default: 0] == 0 { firstLayouts.append(h.layout) }
                    layoutCounts[h.layout, default: 0] += 1
                }
                lineStart = lineEnd + 1
                lineNumber += 1
            }
        }
        // The layout most headers share (the first seen on a tie); lines of others are text.
        guard let layout = firstLayouts.max(by: { layoutCounts[$0, default: 0] < layoutCounts[$1, default: 0] }) else {
            throw context.fail("line 1", "no WhatsApp message lines; expected lines like '[31/12/2023, 23:59:59] Name: text' or '31/12/2023, 23:59 - Name: text'")
        }
        let headers = candidates.filter { $0.header.layout == layout }

        // The date order, over the whole file.
        let capitals = headers.lazy.filter(\.header.capitalMeridiem).count
        let monthFirstLikely = layout.twelveHour && layout.dateSeparator == .slash && capitals * 2 > headers.count
        let runs = WhatsAppDateOrder.runs(headers.lazy.map(\.header))
        guard let decision = WhatsAppDateOrder.decide(runs, dayFirst: context.options.dayFirst, monthFirstLikely: monthFirstLikely) else {
            let first = headers[0]
            let wanted = context.options.dayFirst.map { $0 ? "a day-first" : "a month-first" } ?? "any"
            throw context.fail("line \(first.line)", "the date \(dateText(first.header)) has no reading in \(wanted) order; expected day, month and year fields")
        }
        let order = decision.order
        // A few dates that fit no order are text that looks like a header; more mean the file mixes orders.
        if decision.misfits > max(2, headers.count / 100), let bad = headers.first(where: { order.date($0.header.fields, $0.header.digits) == nil }) {
            throw context.fail("line \(bad.line)", "the date \(dateText(bad.header)) does not fit the \(order) order of the file's other dates"
                                + (context.options.dayFirst == nil ? "" : " (dayfirst=\(context.options.dayFirst!))"))
        }
        let batch = ImportBatch(source: "whatsapp")
        if let other = decision.alternative {
            // Name the first date the two orders read differently, as the file wrote it and as read.
            for c in headers {
                guard let d = order.date(c.header.fields, c.header.digits), let e = other.date(c.header.fields, c.header.digits), d != e else { continue }
                let override = order.isDayFirst != other.isDayFirst ? "; give dayfirst=\(!order.isDayFirst) to read them \(other)" : ""
                batch.warnings.append("dates could be \(order) or \(other) and nothing in the file decides; read as \(order) "
                                      + "(line \(c.line): \(dateText(c.header)) = \(String(format: "%04d-%02d-%02d", d.year, d.month, d.day)))\(override)")
                break
            }
        }

        // The messages: headers of the file's layout with a real date, less quoted ones.
        var clock = LocalTimeConverter(zone: context.options.timeZone)
        var dated: [(candidate: Candidate, day: Int64, sentAt: Int64)] = []
        dated.reserveCapacity(headers.count)
        for c in headers {
            guard let d = order.date(c.header.fields, c.header.digits) else { continue }
            let h = c.header
            guard let sentAt = clock.utcMillis(year: d.year, month: d.month, day: d.day, hour: h.hour24, minute: h.minute, second: h.second) else {
                throw context.fail("line \(c.line)", "invalid date or time (\(d.year)-\(d.month)-\(d.day) \(h.hour24):\(h.minute)); expected a real calendar date")
            }
            dated.append((c, LocalTimeConverter.daysFromCivil(year: d.year, month: d.month, day: d.day), sentAt))
        }
        var isQuoted = [Bool](repeating: false, count: dated.count)
        var latest = dated.first?.day ?? 0
        // Within a day of the latest date so far: iOS writes a few late deliveries out of order.
        func inOrder(_ index: Int) -> Bool { dated[index].day + 1 >= latest }
        var k = 0
        while k < dated.count {
            if inOrder(k) { latest = max(latest, dated[k].day); k += 1; continue }
            var j = k
            while j < dated.count, j - k < quotedRunLimit, !inOrder(j) { j += 1 }
            if j < dated.count, inOrder(j) {
                for q in k..<j { isQuoted[q] = true }
                k = j
            } else {
                latest = dated[k].day
                k += 1
            }
        }
        var records: [Record] = []
        records.reserveCapacity(dated.count)
        for (index, d) in dated.enumerated() where !isQuoted[index] {
            if !records.isEmpty { records[records.count - 1].continuationEnd = d.candidate.lineStart }
            records.append(Record(candidate: d.candidate, sentAt: d.sentAt, continuationEnd: bytes.count))
        }
        guard let firstRecord = records.first else {
            throw context.fail("line 1", "no WhatsApp message lines; expected lines like '[31/12/2023, 23:59:59] Name: text' or '31/12/2023, 23:59 - Name: text'")
        }
        batch.skipped = bytes.withUnsafeBufferPointer { b in
            var junk = 0, i = 0
            let end = firstRecord.candidate.lineStart
            while i < end {
                var e = i
                while e < end, b[e] != 0x0A { e += 1 }
                let (s, t) = trimmedRange(b, i, e)
                if t > s, !(t == s + 1 && b[s] == 0x0D) { junk += 1 }
                i = e + 1
            }
            return junk
        }

        // Senders, bodies, kinds.
        struct Raw { var sentAt: Int64; var sender: String?; var text: String; var kind: MessageKind; var edited: Bool; var deleted: Bool; var attachment: String?; var hasAttachment: Bool }
        var raws: [Raw] = []
        raws.reserveCapacity(records.count)
        var senderOrder: [String] = []
        var senderSeen: Set<String> = []
        var groupSignals = false
        bytes.withUnsafeBufferPointer { b in
            for r in records {
                let c = r.candidate
                let bodyStart = c.header.bodyStart, firstEnd = c.contentEnd
                // The sender is everything before the first ": " on the header line, when short.
                var sender: String?
                var textStart = bodyStart
                var i = bodyStart
                let nameLimit = min(firstEnd, bodyStart + 120)
                while i + 1 < nameLimit {
                    if b[i] == 0x3A, b[i + 1] == 0x20 {
                        let (nameStart, nameEnd) = trimmedRange(b, bodyStart, i)
                        // A quote before the colon means a notice that quotes something
                        // (`Ana changed the subject to "Trip: Rome"`), not a sender.
                        if containsQuoteMark(b, nameStart, nameEnd) { break }
                        let name = Bytes.string(b, nameStart, nameEnd)
                        sender = name.isEmpty ? nil : name
                        textStart = i + 2
                        break
                    }
                    i += 1
                }
                var t = textStart
                WhatsAppLineGrammar.skipMarks(b, &t, firstEnd)
                // iOS marks app notices with U+200E and attributes them to the chat.
                let markedSystem = t > textStart && c.header.layout.bracketed
                let firstLine = Bytes.string(b, t, firstEnd)
                let continuation = continuationText(b, c.nextLineStart, r.continuationEnd)
                var text = continuation.isEmpty ? firstLine : firstLine + "\n" + continuation
                var kind = MessageKind.text
                var edited = false, deleted = false
                var attachment: WhatsAppPhrases.Attachment?
                if let plain = WhatsAppPhrases.withoutEditedTag(text) { edited = true; text = plain }
                if sender == nil {
                    kind = .system
                    if WhatsAppPhrases.isDeleted(text) { deleted = true }
                    else if WhatsAppPhrases.isNotice(text) { groupSignals = true }
                } else if let a = WhatsAppPhrases.attachment(in: firstLine) {
                    kind = .media
                    attachment = a
                    // The caption, when the following lines hold one, is the message's text.
                    let caption = continuation.trimmingCharacters(in: .whitespacesAndNewlines)
                    text = caption.isEmpty ? WhatsAppPhrases.trim(firstLine) : caption
                } else if WhatsAppPhrases.isDeleted(text) {
                    kind = .system; deleted = true
                } else if markedSystem || WhatsAppPhrases.isEncryptionNotice(firstLine) {
                    kind = .system
                    if WhatsAppPhrases.isNotice(text) && !WhatsAppPhrases.isEncryptionNotice(firstLine) { groupSignals = true }
                    sender = nil
                }
                if let s = sender, !senderSeen.contains(s) { senderSeen.insert(s); senderOrder.append(s) }
                raws.append(Raw(sentAt: r.sentAt, sender: sender, text: text, kind: kind, edited: edited, deleted: deleted,
                                attachment: attachment?.fileName, hasAttachment: attachment != nil))
            }
        }

        // Who is the owner: a known name, or the one who is not the chat's title.
        var meName = senderOrder.first(where: context.isMe)
        if meName == nil, let fileTitle, senderOrder.count == 2, let other = senderOrder.firstIndex(where: { $0.lowercased() == fileTitle.lowercased() }) {
            meName = senderOrder[1 - other]
        }
        if meName == nil, senderOrder.count >= 2 {
            throw context.fail(nil, "cannot tell which sender is you (\(senderOrder.prefix(4).joined(separator: ", "))); give me=NAME")
        }
        let others = senderOrder.filter { $0 != meName }
        let isGroup = groupSignals || others.count > 1
        let me = batch.me(name: meName ?? context.options.me)
        let key: String, title: String
        if !isGroup, let other = others.first ?? fileTitle {
            key = "chat:" + other.lowercased(); title = other
        } else if let fileTitle {
            key = "group:" + fileTitle.lowercased(); title = fileTitle
        } else {
            let names = others.sorted()
            key = "group:" + names.joined(separator: ",").lowercased(); title = names.joined(separator: ", ")
        }
        let conversation = batch.conversation(key: key, title: title, isGroup: isGroup)
        var personByName: [String: Int] = [:]
        let country = context.options.defaultCountry
        for raw in raws {
            var sender: Int?
            if let s = raw.sender {
                if s == meName { sender = me }
                else if let p = personByName[s] { sender = p }
                else {
                    let p = batch.person(address: nil, name: s, defaultCountry: country)
                    personByName[s] = p
                    sender = p
                }
            }
            var m = ParsedMessage(conversation: conversation, sender: sender, sentAt: raw.sentAt, text: raw.text, kind: raw.kind)
            m.edited = raw.edited; m.deleted = raw.deleted
            if raw.hasAttachment, let file = raw.attachment { m.attachments = [ParsedAttachment(fileName: file, mimeType: nil, info: nil)] }
            batch.add(m)
        }
        return batch
    }

    /// True when `b[start..<end]` holds a quotation mark (`"`, `“`, `”`, `„`, `‚`, `«`, `»`, `「`):
    /// then a colon belongs to a quoted group name, not to a sender.
    static func containsQuoteMark(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var i = start
        while i < end {
            let c = b[i]
            if c == 0x22 { return true }
            if c == 0xC2, i + 1 < end, b[i + 1] == 0xAB || b[i + 1] == 0xBB { return true }
            if c == 0xE2, i + 2 < end, b[i + 1] == 0x80, (0x9A...0x9E).contains(b[i + 2]) { return true }
            if c == 0xE3, i + 2 < end, b[i + 1] == 0x80, b[i + 2] == 0x8C { return true }
            i += 1
        }
        return false
    }

    /// The date as the file wrote it, for messages: `13/06/2018`.
    static func dateText(_ h: WhatsAppHeader) -> String {
        let separator: String
        switch h.layout.dateSeparator {
        case .slash: separator = "/"
        case .dot: separator = "."
        case .dash: separator = "-"
        case .dotSpace: separator = ". "
        }
        func padded(_ value: Int, _ digits: Int) -> String {
            let s = String(value)
            return String(repeating: "0", count: max(0, digits - s.count)) + s
        }
        return [padded(h.fields.0, h.digits.0), padded(h.fields.1, h.digits.1), padded(h.fields.2, h.digits.2)].joined(separator: separator)
    }

    /// The lines between a header line and the next message's, without their `\r` and the
    /// trailing empty lines.
    static func continuationText(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        guard start < end else { return "" }
        var e = end
        while e > start, b[e - 1] == 0x0A || b[e - 1] == 0x0D || b[e - 1] == 0x20 { e -= 1 }
        guard e > start else { return "" }
        let text = Bytes.string(b, start, e)
        return text.utf8.contains(0x0D) ? text.replacingOccurrences(of: "\r\n", with: "\n") : text
    }

    /// The range without spaces, no-break spaces and direction marks at either end.
    static func trimmedRange(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (Int, Int) {
        var s = start, e = end
        while s < e {
            if b[s] == 0x20 || b[s] == 0x09 { s += 1; continue }
            if s + 1 < e, b[s] == 0xC2, b[s + 1] == 0xA0 { s += 2; continue }
            if s + 2 < e, isMark(b[s], b[s + 1], b[s + 2]) { s += 3; continue }
            break
        }
        while e > s {
            if b[e - 1] == 0x20 || b[e - 1] == 0x09 { e -= 1; continue }
            if e - 2 >= s, b[e - 2] == 0xC2, b[e - 1] == 0xA0 { e -= 2; continue }
            if e - 3 >= s, isMark(b[e - 3], b[e - 2], b[e - 1]) { e -= 3; continue }
            break
        }
        return (s, e)
    }

    /// U+200E/F, U+202A–U+202F, U+2066–U+2069 and U+FEFF in UTF-8.
    @inline(__always) static func isMark(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Bool {
        if a == 0xE2, b == 0x80, c == 0x8E || c == 0x8F || (0xAA...0xAF).contains(c) { return true }
        if a == 0xE2, b == 0x81, (0xA6...0xA9).contains(c) { return true }
        return a == 0xEF && b == 0xBB && c == 0xBF
    }
}
