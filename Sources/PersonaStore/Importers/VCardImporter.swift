/// Contacts from vCard 3.0 / 4.0 (`.vcf`): each card becomes (or merges into) a person
/// marked as in the contacts, with its phones and emails as handles.
enum VCardImporter {
    static func parse(_ bytes: [UInt8], context: ImportContext) throws -> ImportBatch {
        // Lines end in CRLF (RFC 6350 §3.2, and what iPhones write) or LF. They are split on
        // bytes: as Swift Characters, "\r\n" is one grapheme and never equals "\n".
        // Unfold: a line starting with a space or tab continues the previous one, less that
        // one character (RFC 6350 §3.2).
        var folded: [(Int, [UInt8])] = []
        for (i, raw) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            var line = raw
            if line.last == 0x0D { line = line.dropLast() }
            if let first = line.first, first == 0x20 || first == 0x09, !folded.isEmpty {
                folded[folded.count - 1].1 += line.dropFirst()
            } else {
                folded.append((i + 1, Array(line)))
            }
        }
        let lines = folded.map { ($0.0, String(decoding: $0.1, as: UTF8.self)) }
        let batch = ImportBatch(source: "contacts")
        batch.isContacts = true
        let country = context.options.defaultCountry
        var inCard = false
        var cardLine = 0
        var name: String?, structured: String?, handles: [Handle] = []
        var cards = 0
        for (lineNumber, line) in lines {
            guard let colon = line.firstIndex(of: ":") else {
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                throw context.fail("line \(lineNumber)", "'\(line.prefix(40))' is not a vCard property (NAME:value)")
            }
            var property = line[..<colon].uppercased()
            let value = unescape(String(line[line.index(after: colon)...]))
            if let dot = property.firstIndex(of: "."), !property.hasPrefix("BEGIN"), !property.hasPrefix("END") {
                property = String(property[property.index(after: dot)...])  // item1.TEL
            }
            let base = property.split(separator: ";").first.map(String.init) ?? property
            switch base {
            case "BEGIN" where value.uppercased() == "VCARD":
                guard !inCard else { throw context.fail("line \(lineNumber)", "BEGIN:VCARD inside the card begun on line \(cardLine)") }
                inCard = true; cardLine = lineNumber; name = nil; structured = nil; handles = []
            case "END" where value.uppercased() == "VCARD":
                guard inCard else { throw context.fail("line \(lineNumber)", "END:VCARD without BEGIN:VCARD") }
                inCard = false
                cards += 1
                let shown = name.flatMap { $0.isEmpty ? nil : $0 } ?? structured ?? handles.first?.value
                guard let shown, !handles.isEmpty || name != nil else { batch.skipped += 1; continue }
                var all = handles
                if let n = Handle.name(shown) { all.append(n) }
                let key = "card:\(cards)"
                _ = batch.person(key: key) { ParsedPerson(name: shown, handles: all, isMe: false, inContacts: true) }
            case "FN": name = value.trimmingCharacters(in: .whitespaces)
            case "N":
                let parts = value.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                let given = parts.count > 1 ? parts[1] : "", family = parts.first ?? ""
                let joined = [given, family].filter { !$0.isEmpty }.joined(separator: " ")
                if !joined.isEmpty { structured = joined }
            case "TEL":
                var number = value
                if number.lowercased().hasPrefix("tel:") { number = String(number.dropFirst(4)) }
                if let h = Handle.parse(number, defaultCountry: country) { handles.append(h) }
            case "EMAIL":
                if let h = Handle.parse(value, defaultCountry: country), h.kind == .email { handles.append(h) }
            default: continue
            }
        }
        if inCard { throw context.fail("line \(cardLine)", "the card begun here has no END:VCARD; the file may be truncated") }
        guard cards > 0 else { throw context.fail("line 1", "no BEGIN:VCARD; expected a vCard (.vcf) file") }
        return batch
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out = ""
        var escaping = false
        for c in s {
            if escaping {
                switch c { case "n", "N": out.append("\n"); default: out.append(c) }
                escaping = false
            } else if c == "\\" { escaping = true } else { out.append(c) }
        }
        return out
    }
}
