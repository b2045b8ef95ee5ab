import Foundation

/// What every importer is given besides the bytes.
struct ImportContext {
    /// The file as the user named it (for error messages).
    let path: String
    let options: ImportOptions
    /// The owner's known names, lower-cased (from earlier imports and `me=`).
    let meNames: Set<String>

    var fileName: String { (path as NSString).lastPathComponent }

    /// True when `name` is the owner's.
    func isMe(_ name: String) -> Bool {
        let n = name.trimmingCharacters(in: .whitespaces.union(HandleNormalizer.invisibleMarks)).lowercased()
        if let me = options.me, me.lowercased() == n { return true }
        return meNames.contains(n)
    }

    func fail(_ location: String?, _ reason: String) -> StoreError { .badInput(file: path, location: location, reason: reason) }
}

/// Picks the importer for a format.
enum Importers {
    static func parse(format: ImportFormat, bytes: [UInt8], context: ImportContext) throws -> ImportBatch {
        switch format {
        case .imazing: return try IMazingImporter.parse(try TextDecoding.utf8(bytes, context: context), context: context)
        case .whatsapp: return try WhatsAppImporter.parseFileOrZip(bytes, context: context)
        case .chatdb: return try ChatDBImporter.parse(path: context.path, bytes: bytes, context: context)
        case .smsbackup: return try SMSBackupImporter.parse(try TextDecoding.utf8(bytes, context: context), context: context)
        case .telegram: return try TelegramImporter.parse(try TextDecoding.utf8(bytes, context: context), context: context)
        case .csv: return try GenericImporter.parseCSV(try TextDecoding.utf8(bytes, context: context), context: context)
        case .jsonl: return try GenericImporter.parseJSONL(try TextDecoding.utf8(bytes, context: context), context: context)
        case .vcard: return try VCardImporter.parse(try TextDecoding.utf8(bytes, context: context), context: context)
        }
    }
}

/// Recognises a format from the file's first bytes and lines, never from its name alone.
enum FormatDetector {
    static func detect(bytes: [UInt8], path: String) throws -> ImportFormat? {
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            return .whatsapp  // the only zipped export we read; the importer checks what is inside
        }
        if bytes.starts(with: Array("SQLite format 3\0".utf8)) { return .chatdb }
        let context = ImportContext(path: path, options: ImportOptions(), meNames: [])
        guard let text = try? TextDecoding.utf8(Array(bytes.prefix(64 * 1024)), context: context, allowTruncated: true) else { return nil }
        let head = String(decoding: text, as: UTF8.self)
        let trimmed = head.drop(while: { $0.isWhitespace || $0 == "\u{FEFF}" })
        if trimmed.hasPrefix("BEGIN:VCARD") || trimmed.uppercased().hasPrefix("BEGIN:VCARD") { return .vcard }
        if trimmed.hasPrefix("<?xml") || trimmed.hasPrefix("<smses") {
            return head.contains("<smses") || head.contains("<sms ") || head.contains("<mms ") ? .smsbackup : nil
        }
        let firstLine = trimmed.prefix(while: { $0 != "\n" && $0 != "\r\n" && $0 != "\r" })
        if firstLine.hasPrefix("{") {
            if firstLine.hasSuffix("}"), firstLine.contains("\"text\"") { return .jsonl }
            if head.contains("\"messages\"") || head.contains("\"chats\"") { return .telegram }
            return nil
        }
        if firstLine.contains("Chat Session"), firstLine.contains("Message Date") { return .imazing }
        let lowerHeader = firstLine.lowercased()
        if ["timestamp", "conversation", "sender", "text"].allSatisfy({ lowerHeader.contains($0) }) { return .csv }
        var lines = 0, starts = 0
        for line in head.split(whereSeparator: \.isNewline).prefix(20) {
            lines += 1
            if WhatsAppImporter.looksLikeMessageStart(Array(line.utf8)) { starts += 1 }
        }
        if lines > 0, starts > 0, starts * 3 >= min(lines, 3) { return .whatsapp }
        return nil
    }
}

extension FormatDetector {
    /// False for a zip that lists no chat text (`.txt`), such as a folder of photos zipped:
    /// it is not an export. True for plain text, and for a zip too damaged to list, since
    /// that may be a broken export, which the importer then names.
    static func mayHoldChat(zipOrText bytes: [UInt8]) -> Bool {
        guard bytes.starts(with: [0x50, 0x4B]) else { return true }
        let context = ImportContext(path: "", options: ImportOptions(), meNames: [])
        guard let archive = try? ZipArchive(bytes: bytes, context: context) else { return true }
        return archive.entries.contains { $0.name.lowercased().hasSuffix(".txt") && !$0.name.hasPrefix("__MACOSX") }
    }
}

/// Turns exports into UTF-8 bytes: strips a BOM, converts UTF-16 (with or without a BOM),
/// and names the byte offset of anything that is not valid text.
enum TextDecoding {
    static func utf8(_ bytes: [UInt8], context: ImportContext, allowTruncated: Bool = false) throws -> [UInt8] {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return try validated(Array(bytes.dropFirst(3)), offset: 3, context: context, allowTruncated: allowTruncated) }
        if bytes.starts(with: [0xFF, 0xFE]) { return try utf16(bytes, from: 2, littleEndian: true, context: context, allowTruncated: allowTruncated) }
        if bytes.starts(with: [0xFE, 0xFF]) { return try utf16(bytes, from: 2, littleEndian: false, context: context, allowTruncated: allowTruncated) }
        // UTF-16 without a BOM: ASCII text leaves every other byte zero.
        if bytes.count >= 4 {
            let sample = bytes.prefix(512)
            var zeroEven = 0, zeroOdd = 0
            for (i, b) in sample.enumerated() where b == 0 { if i % 2 == 0 { zeroEven += 1 } else { zeroOdd += 1 } }
            let half = sample.count / 2
            if zeroOdd * 10 > half * 7 && zeroEven == 0 { return try utf16(bytes, from: 0, littleEndian: true, context: context, allowTruncated: allowTruncated) }
            if zeroEven * 10 > half * 7 && zeroOdd == 0 { return try utf16(bytes, from: 0, littleEndian: false, context: context, allowTruncated: allowTruncated) }
        }
        return try validated(bytes, offset: 0, context: context, allowTruncated: allowTruncated)
    }

    private static func utf16(_ bytes: [UInt8], from start: Int, littleEndian: Bool, context: ImportContext, allowTruncated: Bool) throws -> [UInt8] {
        var units: [UInt16] = []
        units.reserveCapacity((bytes.count - start) / 2)
        var i = start
        while i + 1 < bytes.count {
            units.append(littleEndian ? UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8 : UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]))
            i += 2
        }
        if i < bytes.count && !allowTruncated {
            throw context.fail("byte \(i)", "UTF-16 text ends in the middle of a character")
        }
        var out: [UInt8] = []
        out.reserveCapacity(units.count)
        var iterator = units.makeIterator()
        var decoder = UTF16()
        var index = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s): out.append(contentsOf: Array(String(s).utf8)); index += s.value > 0xFFFF ? 2 : 1
            case .emptyInput: return out
            case .error:
                if allowTruncated { return out }
                throw context.fail("byte \(start + index * 2)", "invalid UTF-16 (an unpaired surrogate); expected UTF-8 or UTF-16 text")
            }
        }
    }

    private static func validated(_ bytes: [UInt8], offset: Int, context: ImportContext, allowTruncated: Bool) throws -> [UInt8] {
        var i = 0
        let n = bytes.count
        try bytes.withUnsafeBufferPointer { b in
            while i < n {
                let c = b[i]
                if c < 0x80 { i += 1; continue }
                let length: Int
                if c & 0xE0 == 0xC0, c >= 0xC2 { length = 2 }
                else if c & 0xF0 == 0xE0 { length = 3 }
                else if c & 0xF8 == 0xF0, c <= 0xF4 { length = 4 }
                else { throw context.fail("byte \(offset + i)", "not UTF-8 text (byte 0x\(String(c, radix: 16))); expected UTF-8 or UTF-16") }
                for j in 1..<min(length, n - i) where b[i + j] & 0xC0 != 0x80 {
                    throw context.fail("byte \(offset + i)", "not UTF-8 text (byte 0x\(String(c, radix: 16)) starts a character that is not completed); expected UTF-8 or UTF-16")
                }
                if i + length > n {
                    if allowTruncated { return }
                    throw context.fail("byte \(offset + i)", "UTF-8 text ends in the middle of a character")
                }
                i += length
            }
        }
        return bytes
    }
}

/// Converts wall-clock times of exports without zones into UTC, with a per-hour cache of
/// the zone's offset (250,000 lookups through Foundation would cost a noticeable share
/// of an import).
struct LocalTimeConverter {
    let zone: TimeZone
    private var offsets: [Int64: Int64] = [:]

    init(zone: TimeZone) { self.zone = zone }

    /// Milliseconds since 1970 UTC for a local date and time, or nil when out of range.
    mutating func utcMillis(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int = 0) -> Int64? {
        guard (1...9999).contains(year), (1...12).contains(month), (1...31).contains(day), day <= LocalTimeConverter.daysIn(month: month, year: year),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
        let local = LocalTimeConverter.daysFromCivil(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        let bucket = local / 3600
        let offset: Int64
        if let cached = offsets[bucket] { offset = cached }
        else {
            let first = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local))))
            let second = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local - first))))
            offset = second
            offsets[bucket] = offset
        }
        return (local - offset) * 1000 + Int64(millisecond)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// Small helpers for parsers that work on UTF-8 bytes.
enum Bytes {
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    static func string(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> String {
        guard from < to, let base = b.baseAddress else { return "" }
        return String(decoding: UnsafeBufferPointer(start: base + from, count: to - from), as: UTF8.self)
    }

    /// Parses `digits` decimal digits at `i`, advancing it; nil when not all are digits.
    @inline(__always) static func number(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, maxDigits: Int, end: Int) -> (value: Int, digits: Int)? {
        var value = 0, count = 0
        while i < end, count < maxDigits, isDigit(b[i]) { value = value * 10 + Int(b[i] &- 0x30); i += 1; count += 1 }
        return count == 0 ? nil : (value, count)
    }
}
