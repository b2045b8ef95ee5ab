import Foundation

/// Deterministic UTC rendering and parsing of times, independent of the machine's locale
/// and zone (recorded sessions replay the same output anywhere).
public enum UTCFormat {
    /// `2024-03-12T18:22:31Z` (milliseconds shown only when not zero).
    public static func iso8601(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (y, mo, d, h, mi, s, milli) = components(ms)
        var text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, s)
        if milli != 0 { text += String(format: ".%03d", milli) }
        return text + "Z"
    }

    /// `2024-03-12`
    public static func day(_ date: Date) -> String {
        let (y, mo, d, _, _, _, _) = components(Int64((date.timeIntervalSince1970 * 1000).rounded()))
        return String(format: "%04d-%02d-%02d", y, mo, d)
    }

    /// `2024-03-12 18:22`
    public static func minute(_ date: Date) -> String {
        let (y, mo, d, h, mi, _, _) = components(Int64((date.timeIntervalSince1970 * 1000).rounded()))
        return String(format: "%04d-%02d-%02d %02d:%02d", y, mo, d, h, mi)
    }

    static func components(_ ms: Int64) -> (Int, Int, Int, Int, Int, Int, Int) {
        var seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let milli = Int(ms - seconds * 1000)
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        seconds -= days * 86_400
        // civil_from_days (Howard Hinnant)
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        let y = Int(yoe + era * 400) + (m <= 2 ? 1 : 0)
        return (y, m, d, Int(seconds / 3600), Int(seconds % 3600 / 60), Int(seconds % 60), milli)
    }

    /// Parses `2024-03-12`, `2024-03-12T18:22[:31]` (UTC unless a zone is given) or Unix seconds.
    public static func parse(_ text: String) -> Date? {
        var clock = LocalTimeConverter(zone: TimeZone(identifier: "UTC") ?? .current)
        var s = text.trimmingCharacters(in: .whitespaces)
        if s.count == 10, s.split(separator: "-").count == 3 { s += "T00:00:00" }
        return GenericImporter.timestamp(s, clock: &clock).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }
}
