/// RFC 4180 CSV over UTF-8 bytes: quoted fields may span lines and escape quotes as `""`.
/// Fields are returned as byte ranges so that parsers make Strings only of the columns
/// they keep (an iMazing row has 15 columns; building all of them doubles import time).
struct CSVReader {
    struct Field { var start: Int; var end: Int; var quoted: Bool; var escaped: Bool }

    let bytes: [UInt8]
    let context: ImportContext
    private(set) var position = 0
    private(set) var line = 1
    /// Line on which the last record returned by `next` starts.
    private(set) var recordLine = 1
    let delimiter: UInt8

    init(bytes: [UInt8], context: ImportContext, delimiter: UInt8 = UInt8(ascii: ",")) {
        self.bytes = bytes; self.context = context; self.delimiter = delimiter
    }

    /// Reads the next record into `fields`; false at the end of the input. Blank lines are skipped.
    mutating func next(into fields: inout [Field]) throws -> Bool {
        fields.removeAll(keepingCapacity: true)
        let n = bytes.count
        var i = position
        var currentLine = line
        // Skip blank lines between records.
        while i < n, bytes[i] == 0x0A || bytes[i] == 0x0D {
            if bytes[i] == 0x0A { currentLine += 1 }
            i += 1
        }
        guard i < n else { position = n; line = currentLine; return false }
        recordLine = currentLine
        try bytes.withUnsafeBufferPointer { b in
            while true {
                if i < n, b[i] == 0x22 {
                    let start = i + 1
                    i += 1
                    var escaped = false
                    var closed = false
                    while i < n {
                        let c = b[i]
                        if c == 0x22 {
                            if i + 1 < n, b[i + 1] == 0x22 { escaped = true; i += 2; continue }
                            closed = true
                            break
                        }
                        if c == 0x0A { currentLine += 1 }
                        // Line ends inside text become \n, whatever system wrote the file.
                        if c == 0x0D { escaped = true }
                        i += 1
                    }
                    guard closed else {
                        throw context.fail("line \(recordLine)", "a quoted field is never closed (missing \")")
                    }
                    fields.append(Field(start: start, end: i, quoted: true, escaped: escaped))
                    i += 1
                    // Tolerate stray spaces between a closing quote and the delimiter.
                    while i < n, b[i] == 0x20 { i += 1 }
                } else {
                    let start = i
                    while i < n, b[i] != delimiter, b[i] != 0x0A, b[i] != 0x0D { i += 1 }
                    fields.append(Field(start: start, end: i, quoted: false, escaped: false))
                }
                if i >= n { break }
                let c = b[i]
                if c == delimiter { i += 1; if i >= n { fields.append(Field(start: n, end: n, quoted: false, escaped: false)); break }; continue }
                if c == 0x0D { i += 1; if i < n, b[i] == 0x0A { i += 1 }; currentLine += 1; break }
                if c == 0x0A { i += 1; currentLine += 1; break }
                throw context.fail("line \(currentLine)", "unexpected character after a quoted field; expected a comma or a line end")
            }
        }
        position = i
        line = currentLine
        return true
    }

    /// The field's text with quoting undone.
    func string(_ f: Field) -> String {
        guard f.start < f.end else { return "" }
        return bytes.withUnsafeBufferPointer { b in
            if !f.escaped { return Bytes.string(b, f.start, f.end) }
            var out: [UInt8] = []
            out.reserveCapacity(f.end - f.start)
            var i = f.start
            while i < f.end {
                if b[i] == 0x0D {
                    out.append(0x0A)
                    i += i + 1 < f.end && b[i + 1] == 0x0A ? 2 : 1
                    continue
                }
                out.append(b[i])
                if b[i] == 0x22, i + 1 < f.end, b[i + 1] == 0x22 { i += 2 } else { i += 1 }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    func isEmpty(_ f: Field) -> Bool { f.start >= f.end }

    /// Parses `YYYY-MM-DD HH:MM[:SS[.fff]]` (or with `T`) in the field; nil when it is not that.
    func dateComponents(_ f: Field) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int)? {
        bytes.withUnsafeBufferPointer { b in
            var i = f.start
            let end = f.end
            while i < end, b[i] == 0x20 { i += 1 }
            guard let y = Bytes.number(b, &i, maxDigits: 4, end: end), y.digits == 4, i < end, b[i] == 0x2D || b[i] == 0x2F else { return nil }
            i += 1
            guard let mo = Bytes.number(b, &i, maxDigits: 2, end: end), i < end, b[i] == 0x2D || b[i] == 0x2F else { return nil }
            i += 1
            guard let d = Bytes.number(b, &i, maxDigits: 2, end: end) else { return nil }
            var h = 0, mi = 0, s = 0, ms = 0
            if i < end, b[i] == 0x20 || b[i] == 0x54 {
                i += 1
                guard let hh = Bytes.number(b, &i, maxDigits: 2, end: end), i < end, b[i] == 0x3A else { return nil }
                i += 1
                guard let mm = Bytes.number(b, &i, maxDigits: 2, end: end) else { return nil }
                h = hh.value; mi = mm.value
                if i < end, b[i] == 0x3A {
                    i += 1
                    guard let ss = Bytes.number(b, &i, maxDigits: 2, end: end) else { return nil }
                    s = ss.value
                    if i < end, b[i] == 0x2E {
                        i += 1
                        let fracStart = i
                        guard let frac = Bytes.number(b, &i, maxDigits: 9, end: end) else { return nil }
                        var v = frac.value, digits = i - fracStart
                        while digits > 3 { v /= 10; digits -= 1 }
                        while digits < 3 { v *= 10; digits += 1 }
                        ms = v
                    }
                }
            }
            while i < end, b[i] == 0x20 { i += 1 }
            guard i == end else { return nil }
            return (y.value, mo.value, d.value, h, mi, s, ms)
        }
    }
}
