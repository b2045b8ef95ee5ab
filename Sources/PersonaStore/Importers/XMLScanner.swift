/// A small XML scanner for flat, attribute-heavy exports (SMS Backup & Restore): start,
/// end and empty-element tags with their attributes; text content and DTDs are skipped.
/// Byte offsets of errors are turned into line numbers for messages.
struct XMLScanner {
    enum Event {
        case start(name: String, attributes: [String: String], selfClosing: Bool, offset: Int)
        case end(name: String)
    }

    let bytes: [UInt8]
    let context: ImportContext
    private var i = 0

    init(bytes: [UInt8], context: ImportContext) { self.bytes = bytes; self.context = context }

    func line(at offset: Int) -> Int {
        var n = 1
        for b in bytes.prefix(offset) where b == 0x0A { n += 1 }
        return n
    }

    private func fail(_ at: Int, _ reason: String) -> StoreError { context.fail("line \(line(at: at))", reason) }

    mutating func next() throws -> Event? {
        let n = bytes.count
        while i < n {
            guard bytes[i] == 0x3C else { i += 1; continue }  // '<'
            let tagStart = i
            if hasPrefix("<!--", at: i) {
                guard let close = find("-->", from: i + 4) else { throw fail(tagStart, "a comment is never closed") }
                i = close + 3; continue
            }
            if hasPrefix("<?", at: i) || hasPrefix("<!", at: i) {
                guard let close = find(">", from: i + 2) else { throw fail(tagStart, "a declaration is never closed") }
                i = close + 1; continue
            }
            i += 1
            var closing = false
            if i < n, bytes[i] == 0x2F { closing = true; i += 1 }
            let nameStart = i
            while i < n, isNameByte(bytes[i]) { i += 1 }
            guard i > nameStart else { throw fail(tagStart, "a tag has no name; expected <name …>") }
            let name = String(decoding: bytes[nameStart..<i], as: UTF8.self)
            if closing {
                while i < n, bytes[i] != 0x3E { i += 1 }
                guard i < n else { throw fail(tagStart, "the tag </\(name)> is never closed (missing >)") }
                i += 1
                return .end(name: name)
            }
            var attributes: [String: String] = [:]
            while true {
                while i < n, isSpace(bytes[i]) { i += 1 }
                guard i < n else { throw fail(tagStart, "the tag <\(name)> is never closed (missing >); the file may be truncated") }
                if bytes[i] == 0x3E { i += 1; return .start(name: name, attributes: attributes, selfClosing: false, offset: tagStart) }
                if bytes[i] == 0x2F {
                    guard i + 1 < n, bytes[i + 1] == 0x3E else { throw fail(tagStart, "stray / in <\(name)>") }
                    i += 2
                    return .start(name: name, attributes: attributes, selfClosing: true, offset: tagStart)
                }
                let keyStart = i
                while i < n, isNameByte(bytes[i]) { i += 1 }
                guard i > keyStart else { throw fail(i, "unexpected character in <\(name)>; expected an attribute") }
                let key = String(decoding: bytes[keyStart..<i], as: UTF8.self)
                while i < n, isSpace(bytes[i]) { i += 1 }
                guard i < n else { throw fail(tagStart, "the file ends inside <\(name)>; it may be truncated") }
                guard i < n, bytes[i] == 0x3D else { throw fail(i, "attribute '\(key)' of <\(name)> has no value") }
                i += 1
                while i < n, isSpace(bytes[i]) { i += 1 }
                guard i < n else { throw fail(tagStart, "the file ends inside <\(name)>; it may be truncated") }
                guard bytes[i] == 0x22 || bytes[i] == 0x27 else { throw fail(i, "attribute '\(key)' of <\(name)> is not quoted") }
                let quote = bytes[i]
                i += 1
                let valueStart = i
                while i < n, bytes[i] != quote { i += 1 }
                guard i < n else { throw fail(valueStart, "attribute '\(key)' of <\(name)> is never closed; the file may be truncated") }
                attributes[key] = XMLScanner.decodeEntities(bytes[valueStart..<i])
                i += 1
            }
        }
        return nil
    }

    private func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2D || b == 0x2E || b == 0x3A || b >= 0x80
    }
    private func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
    private func hasPrefix(_ s: String, at: Int) -> Bool {
        let p = Array(s.utf8)
        guard at + p.count <= bytes.count else { return false }
        for (k, c) in p.enumerated() where bytes[at + k] != c { return false }
        return true
    }
    private func find(_ s: String, from: Int) -> Int? {
        var k = from
        while k < bytes.count { if hasPrefix(s, at: k) { return k }; k += 1 }
        return nil
    }

    /// `&amp;` `&lt;` `&gt;` `&quot;` `&apos;` and numeric references; unknown ones stay as written.
    ///
    /// SMS Backup & Restore writes a character outside the BMP (most emoji) as two numeric
    /// references to its UTF-16 surrogates (`&#55357;&#56832;` for 😀), which XML does not
    /// allow but the app's Java serializer does: a high surrogate followed by a low one is
    /// joined into the one scalar. A surrogate without its partner becomes U+FFFD, the
    /// replacement character, rather than failing the file: one broken emoji in a backup of
    /// years of messages should cost that character, not the import.
    static func decodeEntities(_ raw: ArraySlice<UInt8>) -> String {
        guard raw.contains(0x26) else { return String(decoding: raw, as: UTF8.self) }
        var out = String()
        var text = [UInt8]()
        var i = raw.startIndex
        func flush() { out += String(decoding: text, as: UTF8.self); text.removeAll() }
        while i < raw.endIndex {
            if raw[i] == 0x26, let found = Self.reference(in: raw, at: i) {
                flush()
                let value = found.value
                var scalar = value
                var next = found.end
                if (0xD800...0xDBFF).contains(value), let low = Self.reference(in: raw, at: next), (0xDC00...0xDFFF).contains(low.value) {
                    scalar = 0x10000 + ((value - 0xD800) << 10) + (low.value - 0xDC00)
                    next = low.end
                }
                out.unicodeScalars.append(Unicode.Scalar(scalar) ?? "\u{FFFD}")
                i = next
                continue
            }
            text.append(raw[i])
            i += 1
        }
        flush()
        return out
    }

    /// The code point of the reference starting at `at` (`&amp;`, `&#233;`, `&#xE9;`) and the
    /// index after its `;`; nil when there is none, or its number is out of Unicode's range
    /// (then it stays as written). Surrogate code points are returned for the caller to pair.
    private static func reference(in raw: ArraySlice<UInt8>, at start: Int) -> (value: UInt32, end: Int)? {
        guard start < raw.endIndex, raw[start] == 0x26,
              let semi = raw[start...].prefix(12).firstIndex(of: 0x3B) else { return nil }
        let name = String(decoding: raw[(start + 1)..<semi], as: UTF8.self)
        let value: UInt32?
        switch name {
        case "amp": value = 0x26
        case "lt": value = 0x3C
        case "gt": value = 0x3E
        case "quot": value = 0x22
        case "apos": value = 0x27
        default:
            if name.hasPrefix("#x") || name.hasPrefix("#X") { value = UInt32(name.dropFirst(2), radix: 16) }
            else if name.hasPrefix("#") { value = UInt32(name.dropFirst()) }
            else { value = nil }
        }
        guard let value, value > 0, value <= 0x10FFFF else { return nil }
        return (value, semi + 1)
    }
}
