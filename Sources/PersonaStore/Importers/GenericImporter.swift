import Foundation

/// Anything else, as CSV or JSON Lines with `timestamp, conversation, sender, text`
/// (optional `is_me`, `kind`). Timestamps are ISO 8601 (with a zone, or local time in
/// the import's zone) or Unix seconds; the owner is `is_me` or the sender named by `me=`.
enum GenericImporter {
    struct Row { var timestamp: String; var conversation: String; var sender: String; var text: String; var isMe: Bool?; var kind: String? }

    static func parseCSV(_ bytes: [UInt8], context: ImportContext) throws -> ImportBatch {
        var reader = CSVReader(bytes: bytes, context: context)
        var fields: [CSVReader.Field] = []
        guard try reader.next(into: &fields) else { throw context.fail(nil, "the file is empty") }
        var columns: [String: Int] = [:]
        for (i, f) in fields.enumerated() { columns[reader.string(f).trimmingCharacters(in: .whitespaces).lowercased()] = i }
        for name in ["timestamp", "conversation", "sender", "text"] where columns[name] == nil {
            throw context.fail("line 1", "missing column '\(name)'; expected a header with timestamp, conversation, sender, text")
        }
        var rows: [(Int, Row)] = []
        while try reader.next(into: &fields) {
            func value(_ name: String) -> String? {
                guard let c = columns[name], c < fields.count else { return nil }
                return reader.string(fields[c])
            }
            guard let ts = value("timestamp"), let conv = value("conversation"), let sender = value("sender"), let text = value("text") else {
                throw context.fail("line \(reader.recordLine)", "\(fields.count) fields; expected \(columns.count) as in the header")
            }
            rows.append((reader.recordLine, Row(timestamp: ts, conversation: conv, sender: sender, text: text,
                                                isMe: value("is_me").map(truthy), kind: value("kind"))))
        }
        return try build(rows, location: { "line \($0)" }, context: context, source: "csv")
    }

    static func parseJSONL(_ bytes: [UInt8], context: ImportContext) throws -> ImportBatch {
        var rows: [(Int, Row)] = []
        var lineNumber = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            let object: Any
            do { object = try JSONSerialization.jsonObject(with: Data(line)) }
            catch { throw context.fail("line \(lineNumber)", "not valid JSON (\(jsonErrorDetail(error)))") }
            guard let d = object as? [String: Any] else { throw context.fail("line \(lineNumber)", "not a JSON object") }
            func string(_ key: String) throws -> String {
                if let s = d[key] as? String { return s }
                if let n = d[key] as? NSNumber { return n.stringValue }
                throw context.fail("line \(lineNumber)", "missing key '\(key)'; expected timestamp, conversation, sender, text")
            }
            var isMe: Bool?
            if let b = d["is_me"] as? Bool { isMe = b } else if let n = d["is_me"] as? NSNumber { isMe = n.intValue != 0 }
            rows.append((lineNumber, Row(timestamp: try string("timestamp"), conversation: try string("conversation"),
                                         sender: try string("sender"), text: try string("text"), isMe: isMe, kind: d["kind"] as? String)))
        }
        return try build(rows, location: { "line \($0)" }, context: context, source: "jsonl")
    }

    static func truthy(_ s: String) -> Bool { ["1", "true", "yes", "y"].contains(s.lowercased()) }

    static func build(_ rows: [(Int, Row)], location: (Int) -> String, context: ImportContext, source: String) throws -> ImportBatch {
        let batch = ImportBatch(source: source)
        var clock = LocalTimeConverter(zone: context.options.timeZone)
        var sendersByConversation: [String: Set<String>] = [:]
        for (_, r) in rows where !(r.isMe ?? context.isMe(r.sender)) { sendersByConversation[r.conversation, default: []].insert(r.sender) }
        for (line, r) in rows {
            guard let sentAt = timestamp(r.timestamp, clock: &clock) else {
                throw context.fail(location(line), "timestamp '\(r.timestamp)' is not ISO 8601 or Unix seconds")
            }
            let isGroup = (sendersByConversation[r.conversation]?.count ?? 0) > 1
            let c = batch.conversation(key: r.conversation, title: r.conversation, isGroup: isGroup)
            let isMe = r.isMe ?? context.isMe(r.sender)
            let sender = isMe ? batch.me(name: context.options.me ?? r.sender)
                : batch.person(address: nil, name: r.sender, defaultCountry: context.options.defaultCountry)
            var kind = MessageKind.text
            if let k = r.kind, !k.isEmpty {
                guard let parsed = MessageKind(rawValue: k.lowercased()) else {
                    throw context.fail(location(line), "kind '\(k)' is not one of \(MessageKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                kind = parsed
            } else if TextReaction.parse(r.text) != nil { kind = .reaction }
            var m = ParsedMessage(conversation: c, sender: sender, sentAt: sentAt, text: r.text, kind: kind)
            if kind == .reaction, let q = TextReaction.parse(r.text) { m.replyTo = .text(q.quoted) }
            batch.add(m)
        }
        return batch
    }

    /// ISO 8601 with or without a zone (`Z`, `+02:00`), or Unix seconds / milliseconds.
    static func timestamp(_ raw: String, clock: inout LocalTimeConverter) -> Int64? {
        let s = raw.trimmingCharacters(in: .whitespaces)
        if let n = Double(s), !s.contains("-") {
            // Seconds or milliseconds since 1970, within ±3,000 years (Int64 conversion traps beyond).
            guard n.isFinite, abs(n) < 1e14 else { return nil }
            return Int64((abs(n) > 1e11 ? n : n * 1000).rounded())
        }
        var body = Substring(s)
        var offsetSeconds: Int64?
        if body.hasSuffix("Z") { offsetSeconds = 0; body = body.dropLast() }
        else if body.count > 19 {
            let tail = body.suffix(6)
            if tail.first == "+" || tail.first == "-", tail.dropFirst().count == 5, tail.dropFirst().dropFirst(2).first == ":" {
                let sign: Int64 = tail.first == "-" ? -1 : 1
                if let hh = Int64(tail.dropFirst().prefix(2)), let mm = Int64(tail.suffix(2)) { offsetSeconds = sign * (hh * 3600 + mm * 60); body = body.dropLast(6) }
            }
        }
        let parts = body.split(whereSeparator: { $0 == "-" || $0 == "T" || $0 == ":" || $0 == " " })
        guard parts.count >= 5 else { return nil }
        var numbers: [Int] = []
        var millis = 0
        for (i, p) in parts.prefix(6).enumerated() {
            if i == 5, let dot = p.firstIndex(of: ".") {
                guard let sec = Int(p[..<dot]) else { return nil }
                numbers.append(sec)
                let frac = String(p[p.index(after: dot)...].prefix(3))
                millis = (Int(frac) ?? 0) * [100, 10, 1][max(0, min(2, frac.count - 1))]
            } else {
                guard let v = Int(p) else { return nil }
                numbers.append(v)
            }
        }
        if numbers.count == 5 { numbers.append(0) }
        if let offsetSeconds {
            guard (1...12).contains(numbers[1]), (1...31).contains(numbers[2]), (0...23).contains(numbers[3]), (0...59).contains(numbers[4]), (0...60).contains(numbers[5]) else { return nil }
            let days = LocalTimeConverter.daysFromCivil(year: numbers[0], month: numbers[1], day: numbers[2])
            let local = days * 86_400 + Int64(numbers[3] * 3600 + numbers[4] * 60 + numbers[5])
            return (local - offsetSeconds) * 1000 + Int64(millis)
        }
        return clock.utcMillis(year: numbers[0], month: numbers[1], day: numbers[2], hour: numbers[3], minute: numbers[4], second: numbers[5], millisecond: millis)
    }
}
