import Foundation

/// Dates as chunk prompts show them, computed in UTC with a fixed English calendar so that
/// a dataset does not change with the machine's locale or time zone.
public enum CalendarText {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["January", "February", "March", "April", "May", "June", "July",
                                 "August", "September", "October", "November", "December"]

    /// "Tue 12 March 2024".
    public static func longDate(_ date: Date) -> String {
        let (year, month, day, weekday) = civil(date)
        return "\(weekdays[weekday]) \(day) \(months[month - 1]) \(year)"
    }

    /// "2024-03-12".
    public static func isoDay(_ date: Date) -> String {
        let (year, month, day, _) = civil(date)
        func two(_ x: Int) -> String { x < 10 ? "0\(x)" : String(x) }
        return "\(year)-\(two(month))-\(two(day))"
    }

    /// Year, month (1…12), day (1…31) and weekday (0 = Sunday) of `date` in UTC.
    /// Howard Hinnant's days-from-civil inverse; exact for the proleptic Gregorian calendar.
    static func civil(_ date: Date) -> (Int, Int, Int, Int) {
        let seconds = date.timeIntervalSince1970
        let clamped = seconds.isFinite ? max(-1e13, min(1e13, seconds)) : 0
        let days = Int((clamped / 86400).rounded(.down))
        let weekday = ((days % 7) + 7 + 4) % 7  // 1970-01-01 was a Thursday
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, weekday)
    }
}
