import Foundation

/// The shape of a WhatsApp header line, apart from its numbers. One export writes every
/// header the same way, so a line of another shape inside a message is text, however
/// date-like it starts.
struct WhatsAppLayout: Hashable {
    enum DateSeparator: UInt8 { case slash, dot, dash, dotSpace }
    enum NameSeparator: UInt8 { case dash, colon, bracket, space }
    var bracketed = false
    var dateSeparator = DateSeparator.slash
    /// `:` or `.` between hours and minutes.
    var timeSeparator: UInt8 = 0x3A
    var hasSeconds = false
    var twelveHour = false
    var nameSeparator = NameSeparator.dash
}

/// One header line as read, before the file's field order is known.
struct WhatsAppHeader {
    /// The date's three numbers in the order written, and how many digits each had.
    var fields: (Int, Int, Int) = (0, 0, 0)
    var digits: (Int, Int, Int) = (0, 0, 0)
    var hour = 0, minute = 0, second = 0
    var meridiem = WhatsAppLineGrammar.Meridiem.none
    /// An English `AM`/`PM` in capitals: US exports write those, Indian and Australian ones lower case.
    var capitalMeridiem = false
    var layout = WhatsAppLayout()
    /// Byte offset where the sender (or the notice) starts.
    var bodyStart = 0

    /// The hour on a 24-hour clock.
    var hour24: Int {
        switch meridiem {
        case .none: return hour
        case .am: return hour % 12
        case .pm: return hour % 12 + 12
        }
    }
}

/// Reads the header of a WhatsApp export line in any of the layouts phones write:
///
///     [mark] ["["] date [.] ["," | "،" | word] [before-marker] time [after-marker] ["]"] separator Name: text
///
/// - mark: U+200E/U+200F/U+FEFF, which iOS and right-to-left locales put before lines and fields;
/// - date: three numbers (1-2 digits, or 4 for a year) joined by `/`, `.`, `-` or `. `, in an
///   order the whole file decides (`WhatsAppDateOrder`);
/// - word: `klo` (Finnish), `um` (German), `à` (French), …, from `WhatsAppPhrases.wordsBeforeTime`;
/// - time: `h:mm[:ss]` or `h.mm[.ss]`, ASCII or Arabic-Indic digits;
/// - markers: `AM`, `a.m.`, `p. m.` (plain, no-break or narrow no-break spaces), `vorm.`, `ص`, `م` after
///   the time; `午前`, `午後`, `오전`, `오후`, `上午`, `下午` before it (`WhatsAppPhrases.meridiems`);
/// - separator: ` - ` (or an en dash), `: `, `] ` or one space.
enum WhatsAppLineGrammar {
    enum Meridiem: UInt8 { case none, am, pm }

    /// The header at the start of `b[start..<end]`, or nil when the line does not start with one.
    static func parse(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> WhatsAppHeader? {
        var h = WhatsAppHeader()
        var i = start
        skipMarks(b, &i, end)
        if i < end, b[i] == 0x5B { h.layout.bracketed = true; i += 1; skipMarks(b, &i, end) }

        // The date: three fields, two equal separators, an optional trailing dot.
        guard let f0 = number(b, &i, end), f0.digits != 3 else { return nil }
        skipMarks(b, &i, end)
        guard let separator = dateSeparator(b, &i, end) else { return nil }
        h.layout.dateSeparator = separator
        skipMarks(b, &i, end)
        guard let f1 = number(b, &i, end), f1.digits != 3 else { return nil }
        skipMarks(b, &i, end)
        guard dateSeparator(b, &i, end) == separator else { return nil }
        skipMarks(b, &i, end)
        guard let f2 = number(b, &i, end), f2.digits != 3 else { return nil }
        // At most one year of four digits, and two-digit years need two digits written.
        let four = (f0.digits == 4 ? 1 : 0) + (f1.digits == 4 ? 1 : 0) + (f2.digits == 4 ? 1 : 0)
        guard four <= 1 else { return nil }
        h.fields = (f0.value, f1.value, f2.value)
        h.digits = (f0.digits, f1.digits, f2.digits)
        skipMarks(b, &i, end)
        if i < end, b[i] == 0x2E { i += 1 }

        // Between date and time: a comma, a locale's word, or only spaces.
        if i < end, b[i] == 0x2C { i += 1 }
        else if i + 1 < end, b[i] == 0xD8, b[i + 1] == 0x8C { i += 2 }  // Arabic comma
        _ = skipSpaces(b, &i, end)
        skipMarks(b, &i, end)
        if i < end, !isDigit(b, i, end) {
            // A whole word: `à` must not take the start of `às`.
            for word in WhatsAppPhrases.wordsBeforeTime {
                guard var after = match(word, b, i, end), skipSpaces(b, &after, end) > 0 else { continue }
                i = after
                break
            }
        }
        if i < end, !isDigit(b, i, end) {
            for marker in WhatsAppPhrases.meridiemsBeforeTime {
                guard let after = match(marker.bytes, b, i, end) else { continue }
                i = after
                h.meridiem = marker.pm ? .pm : .am
                _ = skipSpaces(b, &i, end)
                break
            }
        }

        // The time.
        skipMarks(b, &i, end)
        guard let hour = number(b, &i, end), hour.digits <= 2, i < end, b[i] == 0x3A || b[i] == 0x2E else { return nil }
        h.layout.timeSeparator = b[i]
        i += 1
        guard let minute = number(b, &i, end), minute.digits == 2, minute.value <= 59 else { return nil }
        h.hour = hour.value; h.minute = minute.value
        if i + 1 < end, b[i] == h.layout.timeSeparator, isDigit(b, i + 1, end) {
            i += 1
            guard let second = number(b, &i, end), second.digits == 2, second.value <= 59 else { return nil }
            h.second = second.value
            h.layout.hasSeconds = true
        }
        skipMarks(b, &i, end)
        if h.meridiem == .none, hour.value <= 12 {
            var j = i
            _ = skipSpaces(b, &j, end)
            for marker in WhatsAppPhrases.meridiemsAfterTime {
                guard let after = match(marker.bytes, b, j, end) else { continue }
                // "am" must not be the start of a name ("Amy: hi" after a 24-hour time).
                if after < end, isASCIILetter(b[after]) { continue }
                h.meridiem = marker.pm ? .pm : .am
                h.capitalMeridiem = b[j] == 0x41 || b[j] == 0x50
                i = after
                skipMarks(b, &i, end)
                break
            }
        }
        if h.meridiem != .none {
            guard hour.value <= 12 else { return nil }
            h.layout.twelveHour = true
        } else {
            guard hour.value <= 23 else { return nil }
        }

        // The separator before the name.
        if h.layout.bracketed {
            guard i < end, b[i] == 0x5D else { return nil }
            i += 1
            guard skipSpaces(b, &i, end) > 0 || i == end else { return nil }
            h.layout.nameSeparator = .bracket
        } else {
            let spaces = skipSpaces(b, &i, end)
            if i < end, b[i] == 0x2D || (i + 2 < end && b[i] == 0xE2 && b[i + 1] == 0x80 && b[i + 2] == 0x93) {
                i += b[i] == 0x2D ? 1 : 3
                guard skipSpaces(b, &i, end) > 0 || i == end else { return nil }
                h.layout.nameSeparator = .dash
            } else if spaces == 0, i < end, b[i] == 0x3A {
                i += 1
                guard skipSpaces(b, &i, end) > 0 else { return nil }
                h.layout.nameSeparator = .colon
            } else if spaces > 0, i < end {
                h.layout.nameSeparator = .space
            } else {
                return nil
            }
        }
        h.bodyStart = i
        return h
    }

    // MARK: Tokens

    /// Reads 1 to 4 digits (ASCII, Arabic-Indic U+0660… or Persian U+06F0…); nil when there are none or more.
    static func number(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ end: Int) -> (value: Int, digits: Int)? {
        var value = 0, count = 0
        while i < end {
            let d: Int
            if b[i] >= 0x30, b[i] <= 0x39 { d = Int(b[i] - 0x30); i += 1 }
            else if i + 1 < end, b[i] == 0xD9, (0xA0...0xA9).contains(b[i + 1]) { d = Int(b[i + 1] - 0xA0); i += 2 }
            else if i + 1 < end, b[i] == 0xDB, (0xB0...0xB9).contains(b[i + 1]) { d = Int(b[i + 1] - 0xB0); i += 2 }
            else { break }
            guard count < 4 else { return nil }
            value = value * 10 + d
            count += 1
        }
        return count == 0 ? nil : (value, count)
    }

    @inline(__always) static func isDigit(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Bool {
        guard i < end else { return false }
        if b[i] >= 0x30, b[i] <= 0x39 { return true }
        guard i + 1 < end else { return false }
        return (b[i] == 0xD9 && (0xA0...0xA9).contains(b[i + 1])) || (b[i] == 0xDB && (0xB0...0xB9).contains(b[i + 1]))
    }

    @inline(__always) static func isASCIILetter(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }

    /// `/`, `-`, `.` or `. ` (a dot and spaces, as Hungarian, Korean and Croatian dates write them).
    static func dateSeparator(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ end: Int) -> WhatsAppLayout.DateSeparator? {
        guard i < end else { return nil }
        switch b[i] {
        case 0x2F: i += 1; return .slash
        case 0x2D: i += 1; return .dash
        case 0x2E:
            i += 1
            return skipSpaces(b, &i, end) > 0 ? .dotSpace : .dot
        default: return nil
        }
    }

    /// The end of `pattern` when it is at `i`: ASCII letters compare without case, and each
    /// space in the pattern stands for one ordinary, no-break or narrow no-break space
    /// (`p. m.` is written with any of the three).
    static func match(_ pattern: [UInt8], _ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int? {
        var j = i
        for p in pattern {
            if p == 0x20 {
                var k = j
                guard skipOneSpace(b, &k, end) else { return nil }
                j = k
                continue
            }
            guard j < end else { return nil }
            let c = b[j]
            guard p == c || (isASCIILetter(p) && p | 0x20 == c | 0x20) else { return nil }
            j += 1
        }
        return j
    }

    @inline(__always) static func skipOneSpace(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ end: Int) -> Bool {
        if i < end, b[i] == 0x20 { i += 1; return true }
        if i + 1 < end, b[i] == 0xC2, b[i + 1] == 0xA0 { i += 2; return true }
        if i + 2 < end, b[i] == 0xE2, b[i + 1] == 0x80, b[i + 2] == 0xAF { i += 3; return true }
        return false
    }

    /// Skips U+200E/U+200F and U+FEFF at `i`.
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
        while skipOneSpace(b, &i, end) { count += 1 }
        return count
    }
}
