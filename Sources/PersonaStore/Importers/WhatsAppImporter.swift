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

    struct Header {
        var a = 0, b = 0, c = 0
        var aDigits = 0, cDigits = 0
        var hour = 0, minute = 0, second = 0
        /// 0: 24-hour clock, 1: AM, 2: PM.
        var meridiem = 0
        var bodyStart = 0
        var bracketed = false
    }

    /// True when `line` starts like a WhatsApp message (for format detection).
    static func looksLikeMessageStart(_ line: [UInt8]) -> Bool {
        line.withUnsafeBufferPointer { parseHeader($0, 0, $0.count) != nil }
    }

    /// Skips U+200E/U+200F marks and U+FEFF at `i`.
    @inline(__always) static func skipMarks(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ end: Int) {
        while i + 3 <= end {
            if b[i] == 0xE2, b[i + 1] == 0x80, b[i + 2] == 0x8E || b[i + 2] == 0x8F { i += 3; continue }
            if b[i] == 0xEF, b[i + 1] == 0xBB, b[i + 2] == 0xBF { i += 3; continue }
            return
        }
    }

    /// Skips ordinary, no-break (U+00A0) and narrow no-break (U+202F) spaces; returns how many.
    @inline(__always) static func skipSpaces(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ end: Int) -> Int {
        var count = 0
        while i < end {
            if b[i] == 0x20 { i += 1; count += 1; continue }
            if i + 1 < end, b[i] == 0xC2, b[i + 1] == 0xA0 { i += 2; count += 1; continue }
            if i + 2 < end, b[i] == 0xE2, b[i + 1] == 0x80, b[i + 2] == 0xAF { i += 3; count += 1; continue }
            break
        }
        return count
    }

    static func parseHeader(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Header? {
        var h = Header()
        var i = start
        skipMarks(b, &i, end)
        if i < end, b[i] == 0x5B { h.bracketed = true; i += 1 }
        guard let a = Bytes.number(b, &i, maxDigits: 4, end: end), i < end else { return nil }
        let sep = b[i]
        guard sep == 0x2F || sep == 0x2E || sep == 0x2D else { return nil }
        i += 1
        guard let m = Bytes.number(b, &i, maxDigits: 2, end: end), i < end, b[i] == sep else { return nil }
        i += 1
        guard let c = Bytes.number(b, &i, maxDigits: 4, end: end), c.digits == 2 || c.digits == 4 || a.digits == 4 else { return nil }
        h.a = a.value; h.aDigits = a.digits; h.b = m.value; h.c = c.value; h.cDigits = c.digits
        if i < end, b[i] == 0x2E { i += 1 }  // "31.12.23." in some locales
        if i < end, b[i] == 0x2C { i += 1 }
        _ = skipSpaces(b, &i, end)
        guard let hour = Bytes.number(b, &i, maxDigits: 2, end: end), i < end, b[i] == 0x3A || b[i] == 0x2E else { return nil }
        i += 1
        guard let minute = Bytes.number(b, &i, maxDigits: 2, end: end), minute.digits == 2 else { return nil }
        h.hour = hour.value; h.minute = minute.value
        if i < end, b[i] == 0x3A {
            i += 1
            guard let second = Bytes.number(b, &i, maxDigits: 2, end: end), second.digits == 2 else { return nil }
            h.second = second.value
        }
        var j = i
        _ = skipSpaces(b, &j, end)
        if j < end, b[j] | 0x20 == 0x61 || b[j] | 0x20 == 0x70 {  // a / p
            var k = j + 1
            if k < end, b[k] == 0x2E { k += 1 }
            if k < end, b[k] | 0x20 == 0x6D {
                k += 1
                if k < end, b[k] == 0x2E { k += 1 }
                h.meridiem = b[j] | 0x20 == 0x61 ? 1 : 2
                i = k
            }
        }
        if h.bracketed {
            guard i < end, b[i] == 0x5D else { return nil }
            i += 1
            guard skipSpaces(b, &i, end) > 0 || i == end else { return nil }
        } else {
            _ = skipSpaces(b, &i, end)
            if i < end, b[i] == 0x2D { i += 1 }
            else if i + 2 < end, b[i] == 0xE2, b[i + 1] == 0x80, b[i + 2] == 0x93 { i += 3 }  // en dash
            else { return nil }
            guard skipSpaces(b, &i, end) > 0 || i == end else { return nil }
        }
        h.bodyStart = i
        return h
    }

    struct Record { var header: Header; var line: Int; var lines: [(Int, Int)] }

    static func parse(_ bytes: [UInt8], context: ImportContext, title fileTitle: String?) throws -> ImportBatch {
        // Pass 1: split into records (a header line and its continuation lines).
        var records: [Record] = []
        var leadingJunk = 0
        bytes.withUnsafeBufferPointer { b in
            let n = b.count
            var lineStart = 0
            var lineNumber = 1
            while lineStart < n {
                var lineEnd = lineStart
                while lineEnd < n, b[lineEnd] != 0x0A { lineEnd += 1 }
                var contentEnd = lineEnd
                if contentEnd > lineStart, b[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                if let h = parseHeader(b, lineStart, contentEnd) {
                    records.append(Record(header: h, line: lineNumber, lines: [(h.bodyStart, contentEnd)]))
                } else if !records.isEmpty {
                    records[records.count - 1].lines.append((lineStart, contentEnd))
                } else if contentEnd > lineStart {
                    leadingJunk += 1
                }
                lineStart = lineEnd + 1
                lineNumber += 1
            }
        }
        guard !records.isEmpty else {
            throw context.fail("line 1", "no WhatsApp message lines; expected lines like '[31/12/2023, 23:59:59] Name: text' or '31/12/2023, 23:59 - Name: text'")
        }
        let dayFirst = try decideDayFirst(records, context: context)

        // Pass 2: times, senders, bodies.
        var clock = LocalTimeConverter(zone: context.options.timeZone)
        struct Raw { var line: Int; var sentAt: Int64; var sender: String?; var text: String; var kind: MessageKind; var edited: Bool; var deleted: Bool }
        var raws: [Raw] = []
        raws.reserveCapacity(records.count)
        var senderOrder: [String] = []
        var senderSeen: Set<String> = []
        var groupSignals = false
        try bytes.withUnsafeBufferPointer { b in
            for r in records {
                let h = r.header
                var year: Int, month: Int, day: Int
                if h.aDigits == 4 { year = h.a; month = h.b; day = h.c }
                else {
                    year = h.cDigits == 2 ? 2000 + h.c : h.c
                    (day, month) = dayFirst ? (h.a, h.b) : (h.b, h.a)
                }
                var hour = h.hour
                if h.meridiem != 0 {
                    guard (1...12).contains(hour) else { throw context.fail("line \(r.line)", "hour \(hour) with AM/PM; expected 1 to 12") }
                    hour = hour % 12 + (h.meridiem == 2 ? 12 : 0)
                }
                guard let sentAt = clock.utcMillis(year: year, month: month, day: day, hour: hour, minute: h.minute, second: h.second) else {
                    throw context.fail("line \(r.line)", "invalid date or time (\(year)-\(month)-\(day) \(hour):\(h.minute)); expected a real calendar date")
                }
                // The sender is everything before the first ": " on the header line, when short.
                let (bodyStart, firstEnd) = r.lines[0]
                var sender: String?
                var textStart = bodyStart
                var i = bodyStart
                var markedSystem = false
                let nameLimit = min(firstEnd, bodyStart + 120)
                while i + 1 < nameLimit {
                    if b[i] == 0x3A, b[i + 1] == 0x20 {
                        let (nameStart, nameEnd) = trimmedRange(b, bodyStart, i)
                        sender = Bytes.string(b, nameStart, nameEnd)
                        textStart = i + 2
                        break
                    }
                    i += 1
                }
                var t = textStart
                let before = t
                skipMarks(b, &t, firstEnd)
                // iOS marks app notices with U+200E; Android gives them no sender instead.
                if t > before, h.bracketed { markedSystem = true }
                var text = Bytes.string(b, t, firstEnd)
                if r.lines.count > 1 {
                    for (s, e) in r.lines.dropFirst() { text += "\n" + Bytes.string(b, s, e) }
                }
                var kind = MessageKind.text
                var edited = false, deleted = false
                if text.utf8.last == UInt8(ascii: ">"), text.hasSuffix("<This message was edited>") {
                    edited = true
                    text = String(text.dropLast("<This message was edited>".count))
                    while let last = text.unicodeScalars.last, last == " " || last == "\u{200E}" || last == "\u{00A0}" { text.unicodeScalars.removeLast() }
                }
                if sender == nil || sender?.isEmpty == true {
                    sender = nil
                    kind = .system
                    if isGroupNotice(text) { groupSignals = true }
                } else if isMediaPlaceholder(text) {
                    kind = .media
                } else if isDeletedNotice(text) {
                    kind = .system; deleted = true
                } else if markedSystem {
                    // iOS marks app notices with U+200E and attributes them to the chat.
                    kind = .system
                    if isGroupNotice(text) { groupSignals = true }
                    sender = nil
                }
                if let s = sender, !senderSeen.contains(s) { senderSeen.insert(s); senderOrder.append(s) }
                raws.append(Raw(line: r.line, sentAt: sentAt, sender: sender, text: text, kind: kind, edited: edited, deleted: deleted))
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
        let batch = ImportBatch(source: "whatsapp")
        batch.skipped = leadingJunk
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
            m.sourceID = nil
            batch.add(m)
        }
        return batch
    }

    /// Day-first or month-first, for the whole file: a component above 12 settles it;
    /// otherwise the reading under which time runs forwards more often wins.
    static func decideDayFirst(_ records: [Record], context: ImportContext) throws -> Bool {
        var firstOver12 = false, secondOver12 = false
        for r in records where r.header.aDigits != 4 {
            if r.header.a > 12 { firstOver12 = true }
            if r.header.b > 12 { secondOver12 = true }
        }
        if firstOver12 && secondOver12 {
            throw context.fail(nil, "dates are neither consistently day-first nor month-first (both 31/12 and 12/31 forms appear)")
        }
        if firstOver12 { return true }
        if secondOver12 { return false }
        var backwardsDayFirst = 0, backwardsMonthFirst = 0
        var previous: (Int, Int)?
        for r in records where r.header.aDigits != 4 {
            let h = r.header
            let dayFirstKey = h.c * 10_000 + h.b * 100 + h.a, monthFirstKey = h.c * 10_000 + h.a * 100 + h.b
            if let (pd, pm) = previous {
                if dayFirstKey < pd { backwardsDayFirst += 1 }
                if monthFirstKey < pm { backwardsMonthFirst += 1 }
            }
            previous = (dayFirstKey, monthFirstKey)
        }
        return backwardsDayFirst <= backwardsMonthFirst
    }

    static let mediaMarkers = ["<Media omitted>", "image omitted", "video omitted", "audio omitted", "sticker omitted",
                               "GIF omitted", "document omitted", "Contact card omitted", "<attached:", "(file attached)"]

    static func isMediaPlaceholder(_ text: String) -> Bool {
        // Most messages end in none of the markers' last bytes: decide those without searching.
        switch text.utf8.last {
        case UInt8(ascii: ">"):
            return text == "<Media omitted>" || text.hasPrefix("<attached:") || text.contains("<attached:")
        case UInt8(ascii: ")"):
            return text.hasSuffix("(file attached)")
        case UInt8(ascii: "d"):
            guard text.hasSuffix(" omitted"), text.utf8.count < 40, !text.utf8.contains(0x0A) else { return false }
            return mediaMarkers.contains { text.hasSuffix($0) } || text.split(separator: " ").count <= 3
        default:
            return false
        }
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

    static func isDeletedNotice(_ text: String) -> Bool {
        ["This message was deleted", "This message was deleted.", "You deleted this message", "You deleted this message."].contains(text)
    }

    static func isGroupNotice(_ text: String) -> Bool {
        ["created group", "created this group", " added ", " left", " removed ", "changed the subject", "changed this group",
         "changed the group", "joined using this group", "group description"].contains { text.contains($0) }
    }
}
