/// Android "SMS Backup & Restore" XML: `<sms>` elements (type 1 received, 2 sent; dates
/// in milliseconds) and `<mms>` elements (msg_box 1/2, text in `<part>`s, senders in
/// `<addr type="137">`; several addresses joined by `~` make a group).
enum SMSBackupImporter {
    static func parse(_ bytes: [UInt8], context: ImportContext) throws -> ImportBatch {
        var scanner = XMLScanner(bytes: bytes, context: context)
        let batch = ImportBatch(source: "sms")
        let me = batch.me(name: context.options.me)
        let country = context.options.defaultCountry
        var sawRoot = false

        func name(_ attributes: [String: String]) -> String? {
            guard let n = attributes["contact_name"], !n.isEmpty, n != "(Unknown)", n != "null" else { return nil }
            return n
        }
        func millis(_ attributes: [String: String], offset: Int) throws -> Int64 {
            guard let raw = attributes["date"], let value = Int64(raw), value > 0, value < 100_000_000_000_000 else {
                throw context.fail("line \(scanner.line(at: offset))", "missing or invalid date=\"\(attributes["date"] ?? "")\"; expected milliseconds since 1970")
            }
            // Some tools write seconds; real message dates in ms are past 1e11 (1973).
            return value < 100_000_000_000 ? value * 1000 : value
        }
        func addresses(_ raw: String?) -> [String] {
            (raw ?? "").split(whereSeparator: { $0 == "~" || $0 == "," || $0 == ";" }).map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != "insert-address-token" }
        }
        func conversation(for list: [String], names: [String?]) -> Int {
            let handles = list.map { a in Handle.parse(a, defaultCountry: country).map { "\($0.kind.rawValue):\($0.value)" } ?? a }
            let isGroup = Set(handles).count > 1
            let key = (isGroup ? "group:" : "direct:") + Set(handles).sorted().joined(separator: ",")
            let title = zip(list, names).map { $0.1 ?? $0.0 }.joined(separator: ", ")
            let c = batch.conversation(key: key, title: title, isGroup: isGroup)
            for (a, n) in zip(list, names) {
                batch.conversations[c].participants.insert(batch.person(address: a, name: n, defaultCountry: country))
            }
            return c
        }

        while let event = try scanner.next() {
            guard case .start(let element, let attributes, let selfClosing, let offset) = event else { continue }
            switch element {
            case "smses", "allsms": sawRoot = true
            case "sms":
                sawRoot = true
                let list = addresses(attributes["address"])
                guard let first = list.first else { batch.skipped += 1; continue }
                let type = attributes["type"] ?? ""
                guard type == "1" || type == "2" else { batch.skipped += 1; continue }  // drafts, outbox, failed
                let contactNames = name(attributes).map { n in n.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
                let names: [String?] = list.indices.map { i in contactNames.flatMap { i < $0.count ? $0[i] : nil } }
                let c = conversation(for: list, names: names)
                let sender = type == "2" ? me : batch.person(address: first, name: names.first ?? nil, defaultCountry: country)
                let body = attributes["body"] ?? ""
                guard !body.isEmpty else { batch.skipped += 1; continue }
                batch.add(ParsedMessage(conversation: c, sender: sender, sentAt: try millis(attributes, offset: offset),
                                        text: body, kind: TextReaction.parse(body) != nil ? .reaction : .text))
            case "mms":
                sawRoot = true
                let box = attributes["msg_box"] ?? ""
                let sentAt = try millis(attributes, offset: offset)
                var texts: [(Int, String)] = []
                var attachments: [ParsedAttachment] = []
                var from: String?
                if !selfClosing {
                    while let inner = try scanner.next() {
                        if case .end(let n) = inner, n == "mms" { break }
                        guard case .start(let n, let a, _, _) = inner else { continue }
                        if n == "part" {
                            let type = a["ct"] ?? ""
                            if type == "text/plain", let t = a["text"], t != "null" { texts.append((Int(a["seq"] ?? "") ?? texts.count, t)) }
                            else if type != "application/smil" { attachments.append(ParsedAttachment(fileName: a["cl"] ?? a["name"], mimeType: type, info: nil)) }
                        } else if n == "addr", a["type"] == "137" {
                            from = a["address"]
                        }
                    }
                }
                guard box == "1" || box == "2" else { batch.skipped += 1; continue }
                let list = addresses(attributes["address"])
                guard !list.isEmpty else { batch.skipped += 1; continue }
                let contactNames = name(attributes).map { n in n.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
                let names: [String?] = list.indices.map { i in contactNames.flatMap { i < $0.count ? $0[i] : nil } }
                let c = conversation(for: list, names: names)
                let sender: Int
                if box == "2" { sender = me }
                else {
                    let address = from ?? list[0]
                    let index = list.firstIndex(of: address)
                    sender = batch.person(address: address, name: index.flatMap { names[$0] }, defaultCountry: country)
                }
                let text = texts.sorted { $0.0 < $1.0 }.map(\.1).joined(separator: "\n")
                var message = ParsedMessage(conversation: c, sender: sender, sentAt: sentAt,
                                            text: text.isEmpty ? "<Media omitted>" : text, kind: text.isEmpty ? .media : .text)
                if text.isEmpty && attachments.isEmpty { batch.skipped += 1; continue }
                message.attachments = attachments
                batch.add(message)
            default: continue
            }
        }
        guard sawRoot else { throw context.fail("line 1", "no <smses> root; expected an SMS Backup & Restore XML file") }
        return batch
    }
}
