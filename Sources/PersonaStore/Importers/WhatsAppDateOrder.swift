import Foundation

/// Which of a WhatsApp date's three fields is the day, the month and the year. The phone's
/// locale decides it and the export does not say, so it is read from evidence over the whole
/// file: a field above 12 is no month and one above 31 no day, a four-digit field is the year,
/// the year changes least often, and under the right order the dates run forwards.
struct WhatsAppDateOrder: Equatable, CustomStringConvertible {
    /// Positions (0, 1 or 2) of the fields.
    let day: Int, month: Int, year: Int

    static let dayMonthYear = WhatsAppDateOrder(day: 0, month: 1, year: 2)
    static let monthDayYear = WhatsAppDateOrder(day: 1, month: 0, year: 2)
    static let yearMonthDay = WhatsAppDateOrder(day: 2, month: 1, year: 0)
    static let yearDayMonth = WhatsAppDateOrder(day: 1, month: 2, year: 0)
    static let monthYearDay = WhatsAppDateOrder(day: 2, month: 0, year: 1)
    static let dayYearMonth = WhatsAppDateOrder(day: 0, month: 2, year: 1)
    /// The orders locales use; the others are taken only when the dates allow nothing else.
    static let common = [dayMonthYear, monthDayYear, yearMonthDay]
    static let rare = [yearDayMonth, monthYearDay, dayYearMonth]

    var isDayFirst: Bool { day < month }

    var description: String {
        var names = ["", "", ""]
        names[day] = "day"; names[month] = "month"; names[year] = "year"
        return names.joined(separator: "/")
    }

    /// The calendar date of `fields` under this order, or nil when it is no real date.
    /// Two-digit years are of this century: WhatsApp appeared in 2009.
    func date(_ fields: (Int, Int, Int), _ digits: (Int, Int, Int)) -> (year: Int, month: Int, day: Int)? {
        let f = [fields.0, fields.1, fields.2], d = [digits.0, digits.1, digits.2]
        guard d[day] <= 2, d[month] <= 2, d[year] == 2 || d[year] == 4 else { return nil }
        let y = d[year] == 2 ? 2000 + f[year] : f[year]
        guard (1...12).contains(f[month]), f[day] >= 1, f[day] <= LocalTimeConverter.daysIn(month: f[month], year: y) else { return nil }
        return (y, f[month], f[day])
    }
}

/// The order chosen for a file, and what the evidence left open.
struct WhatsAppDateDecision {
    var order: WhatsAppDateOrder
    /// Another order that fits the dates as well and reads some of them differently: the
    /// file is ambiguous and the importer says which it assumed.
    var alternative: WhatsAppDateOrder?
    /// How many header dates are no real date under `order`.
    var misfits: Int
}

extension WhatsAppDateOrder {
    /// One distinct date as written, and how many consecutive headers carry it.
    struct Run { var fields: (Int, Int, Int); var digits: (Int, Int, Int); var count: Int }

    /// Runs of equal dates, in file order: a file of 250,000 messages has a few thousand.
    static func runs(_ headers: some Sequence<WhatsAppHeader>) -> [Run] {
        var runs: [Run] = []
        for h in headers {
            if let last = runs.last, last.fields == h.fields, last.digits == h.digits { runs[runs.count - 1].count += 1 }
            else { runs.append(Run(fields: h.fields, digits: h.digits, count: 1)) }
        }
        return runs
    }

    /// The order that best fits `runs`. `dayFirst` (the user's `dayfirst=`) keeps only the
    /// orders that put the day before the month, or after it; `monthFirstLikely` (US-style
    /// capital AM/PM) breaks a tie between day- and month-first towards month-first.
    static func decide(_ runs: [Run], dayFirst: Bool?, monthFirstLikely: Bool) -> WhatsAppDateDecision? {
        struct Score { var order: WhatsAppDateOrder; var valid: Int; var common: Bool; var backwards: Int; var yearChanges: Int; var prior: Int }
        let total = runs.reduce(0) { $0 + $1.count }
        var preference = common
        if monthFirstLikely { preference.swapAt(0, 1) }
        preference += rare
        var scores: [Score] = []
        for (prior, order) in preference.enumerated() {
            if let dayFirst, order.isDayFirst != dayFirst { continue }
            var valid = 0, backwards = 0, yearChanges = 0
            var previous: (year: Int, month: Int, day: Int)?
            for run in runs {
                guard let date = order.date(run.fields, run.digits) else { continue }
                valid += run.count
                if let p = previous {
                    if (date.year, date.month, date.day) < (p.year, p.month, p.day) { backwards += 1 }
                    if date.year != p.year { yearChanges += 1 }
                }
                previous = date
            }
            guard valid > 0 else { continue }
            scores.append(Score(order: order, valid: valid, common: prior < 3, backwards: backwards, yearChanges: yearChanges, prior: prior))
        }
        // More dates that are real dates, then a locale's order, then time running forwards,
        // then the year changing least, then the likelier locale.
        scores.sort { a, b in
            if a.valid != b.valid { return a.valid > b.valid }
            if a.common != b.common { return a.common }
            if a.backwards != b.backwards { return a.backwards < b.backwards }
            if a.yearChanges != b.yearChanges { return a.yearChanges < b.yearChanges }
            return a.prior < b.prior
        }
        guard let best = scores.first else { return nil }
        let alternative = scores.dropFirst().first { s in
            s.valid == best.valid && s.common == best.common && s.backwards == best.backwards && s.yearChanges == best.yearChanges
                && runs.contains { r in
                    guard let x = best.order.date(r.fields, r.digits), let y = s.order.date(r.fields, r.digits) else { return false }
                    return x != y
                }
        }
        return WhatsAppDateDecision(order: best.order, alternative: alternative?.order, misfits: total - best.valid)
    }
}
