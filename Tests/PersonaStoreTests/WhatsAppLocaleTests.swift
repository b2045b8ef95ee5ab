import Foundation
import XCTest
import PersonaCore
@testable import PersonaStore

/// Header lines as phones in each locale write them, parsed one at a time. The lines are
/// invented in the shapes other parsers' users have posted (names and texts made up).
final class WhatsAppLocaleTests: XCTestCase {
    struct Row {
        let locale: String
        let line: String
        /// The order a one-line file cannot show: nil where a field above 12 settles it.
        var dayFirst: Bool? = nil
        /// The instant, for a phone on UTC.
        let instant: String
        let sender: String
        let text: String
    }

    static let rows: [Row] = [
        // English (US): month first, capital AM/PM, narrow no-break space in newer Android versions.
        Row(locale: "en-US", line: "6/13/18, 9:25 PM - Alex Chen: running late", instant: "2018-06-13T21:25:00Z", sender: "Alex Chen", text: "running late"),
        Row(locale: "en-US", line: "6/13/18, 9:25\u{202F}PM - Alex Chen: ok", instant: "2018-06-13T21:25:00Z", sender: "Alex Chen", text: "ok"),
        Row(locale: "en-US", line: "[6/13/18, 9:25:15 PM] Alex Chen: running late", instant: "2018-06-13T21:25:15Z", sender: "Alex Chen", text: "running late"),
        Row(locale: "en-US", line: "\u{200E}[6/13/18, 12:05:09 AM] Alex Chen: still up?", instant: "2018-06-13T00:05:09Z", sender: "Alex Chen", text: "still up?"),
        Row(locale: "en-US", line: "6/13/2018, 12:30 PM - Alex Chen: lunch", instant: "2018-06-13T12:30:00Z", sender: "Alex Chen", text: "lunch"),
        // English (UK): day first, 24-hour.
        Row(locale: "en-GB", line: "13/06/2018, 21:25 - Priya Shah: on my way", instant: "2018-06-13T21:25:00Z", sender: "Priya Shah", text: "on my way"),
        Row(locale: "en-GB", line: "[13/06/2018, 21:25:15] Priya Shah: on my way", instant: "2018-06-13T21:25:15Z", sender: "Priya Shah", text: "on my way"),
        Row(locale: "en-GB", line: "03/06/2018, 07:02 - Priya Shah: morning", dayFirst: true, instant: "2018-06-03T07:02:00Z", sender: "Priya Shah", text: "morning"),
        // English (India): day first, lower-case am/pm.
        Row(locale: "en-IN", line: "13/06/18, 9:25 pm - Rahul Verma: reached", instant: "2018-06-13T21:25:00Z", sender: "Rahul Verma", text: "reached"),
        Row(locale: "en-IN", line: "[13/06/18, 9:25:15 am] Rahul Verma: good morning", instant: "2018-06-13T09:25:15Z", sender: "Rahul Verma", text: "good morning"),
        Row(locale: "en-IN", line: "13/06/2018, 11:59\u{00A0}p.m. - Rahul Verma: night", instant: "2018-06-13T23:59:00Z", sender: "Rahul Verma", text: "night"),
        // German.
        Row(locale: "de", line: "13.06.18, 21:25 - Jonas Weber: Bin gleich da", instant: "2018-06-13T21:25:00Z", sender: "Jonas Weber", text: "Bin gleich da"),
        Row(locale: "de", line: "[13.06.18, 21:25:15] Jonas Weber: Bin gleich da", instant: "2018-06-13T21:25:15Z", sender: "Jonas Weber", text: "Bin gleich da"),
        Row(locale: "de", line: "13.06.18 21.25.15: Jonas Weber: Hallo", instant: "2018-06-13T21:25:15Z", sender: "Jonas Weber", text: "Hallo"),
        Row(locale: "de", line: "13.06.2018 um 21:25 - Jonas Weber: Hallo", instant: "2018-06-13T21:25:00Z", sender: "Jonas Weber", text: "Hallo"),
        Row(locale: "de", line: "13.06.18, 9:25 nachm. - Jonas Weber: Hallo", instant: "2018-06-13T21:25:00Z", sender: "Jonas Weber", text: "Hallo"),
        // French.
        Row(locale: "fr", line: "13/06/2018 à 21:25 - Camille Martin: J'arrive", instant: "2018-06-13T21:25:00Z", sender: "Camille Martin", text: "J'arrive"),
        Row(locale: "fr", line: "[13/06/2018 21:25:15] Camille Martin: J'arrive", instant: "2018-06-13T21:25:15Z", sender: "Camille Martin", text: "J'arrive"),
        Row(locale: "fr", line: "13/06/2018 21:25 - Camille Martin: Rendez-vous à 22:00 ?", instant: "2018-06-13T21:25:00Z", sender: "Camille Martin", text: "Rendez-vous à 22:00 ?"),
        // Spanish: `p. m.` with a plain or no-break space, with or without a left-to-right mark.
        Row(locale: "es", line: "13/6/18 21:25 - Lucía García: Ya voy", instant: "2018-06-13T21:25:00Z", sender: "Lucía García", text: "Ya voy"),
        Row(locale: "es", line: "[3/6/18 1:55:00 p. m.] Lucía García: hola", dayFirst: true, instant: "2018-06-03T13:55:00Z", sender: "Lucía García", text: "hola"),
        Row(locale: "es", line: "\u{200E}[3/6/18 1:55:00 p.\u{00A0}m.] Lucía García: hola", dayFirst: true, instant: "2018-06-03T13:55:00Z", sender: "Lucía García", text: "hola"),
        Row(locale: "es", line: "3/6/2018 1:55 p. m. - Lucía García: hola", dayFirst: true, instant: "2018-06-03T13:55:00Z", sender: "Lucía García", text: "hola"),
        Row(locale: "es", line: "\u{200E}13/6/2018, 8:05\u{202F}a.\u{202F}m. - Lucía García: buenos días", instant: "2018-06-13T08:05:00Z", sender: "Lucía García", text: "buenos días"),
        Row(locale: "es-US", line: "6/13/18, 9:25 p. m. - Lucía García: voy", instant: "2018-06-13T21:25:00Z", sender: "Lucía García", text: "voy"),
        // Italian.
        Row(locale: "it", line: "13/06/18, 21:25 - Giulia Rossi: Arrivo", instant: "2018-06-13T21:25:00Z", sender: "Giulia Rossi", text: "Arrivo"),
        Row(locale: "it", line: "[13/06/18, 21:25:15] Giulia Rossi: Arrivo", instant: "2018-06-13T21:25:15Z", sender: "Giulia Rossi", text: "Arrivo"),
        // Portuguese (Brazil).
        Row(locale: "pt-BR", line: "13/06/2018 21:25 - Ana Souza: Tô chegando", instant: "2018-06-13T21:25:00Z", sender: "Ana Souza", text: "Tô chegando"),
        Row(locale: "pt-BR", line: "[13/06/2018 21:25:15] Ana Souza: Tô chegando", instant: "2018-06-13T21:25:15Z", sender: "Ana Souza", text: "Tô chegando"),
        Row(locale: "pt-BR", line: "13/06/2018 às 21:25 - Ana Souza: Oi", instant: "2018-06-13T21:25:00Z", sender: "Ana Souza", text: "Oi"),
        // Dutch.
        Row(locale: "nl", line: "13-06-2018 21:25 - Daan de Vries: Ik kom eraan", instant: "2018-06-13T21:25:00Z", sender: "Daan de Vries", text: "Ik kom eraan"),
        Row(locale: "nl", line: "[13-06-2018 21:25:15] Daan de Vries: Ik kom eraan", instant: "2018-06-13T21:25:15Z", sender: "Daan de Vries", text: "Ik kom eraan"),
        // Finnish: `klo` and dotted times.
        Row(locale: "fi", line: "13.6.2018 klo 21.25.15 - Aino Virtanen: Tulossa", instant: "2018-06-13T21:25:15Z", sender: "Aino Virtanen", text: "Tulossa"),
        Row(locale: "fi", line: "13.6.2018 klo 21.25 - Aino Virtanen: Tulossa", instant: "2018-06-13T21:25:00Z", sender: "Aino Virtanen", text: "Tulossa"),
        Row(locale: "fi", line: "[13.6.2018 klo 21.25.15] Aino Virtanen: Tulossa", instant: "2018-06-13T21:25:15Z", sender: "Aino Virtanen", text: "Tulossa"),
        // Hungarian: year first, `. ` between fields and a trailing dot.
        Row(locale: "hu", line: "2018. 06. 13. 21:25 - Bence Kovács: Mindjárt ott vagyok", instant: "2018-06-13T21:25:00Z", sender: "Bence Kovács", text: "Mindjárt ott vagyok"),
        Row(locale: "hu", line: "[2018. 06. 13. 21:25:15] Bence Kovács: Mindjárt", instant: "2018-06-13T21:25:15Z", sender: "Bence Kovács", text: "Mindjárt"),
        Row(locale: "hu", line: "2018. 06. 03. 7:02 - Bence Kovács: Jó reggelt", instant: "2018-06-03T07:02:00Z", sender: "Bence Kovács", text: "Jó reggelt"),
        // Croatian-style day first with `. ` and no dash before the name.
        Row(locale: "hr", line: "13. 6. 2018. 21:25:15 Ivana Horvat: Evo me", instant: "2018-06-13T21:25:15Z", sender: "Ivana Horvat", text: "Evo me"),
        // Turkish.
        Row(locale: "tr", line: "13.06.2018 21:25 - Elif Yılmaz: Geliyorum", instant: "2018-06-13T21:25:00Z", sender: "Elif Yılmaz", text: "Geliyorum"),
        Row(locale: "tr", line: "[13.06.2018 21:25:15] Elif Yılmaz: Geliyorum", instant: "2018-06-13T21:25:15Z", sender: "Elif Yılmaz", text: "Geliyorum"),
        // Russian.
        Row(locale: "ru", line: "13.06.2018, 21:25 - Иван Петров: Уже иду", instant: "2018-06-13T21:25:00Z", sender: "Иван Петров", text: "Уже иду"),
        Row(locale: "ru", line: "[13.06.2018, 21:25:15] Иван Петров: Уже иду", instant: "2018-06-13T21:25:15Z", sender: "Иван Петров", text: "Уже иду"),
        // Japanese: year first; 午前/午後 before the time.
        Row(locale: "ja", line: "2018/06/13 21:25 - 佐藤 花子: 今向かってます", instant: "2018-06-13T21:25:00Z", sender: "佐藤 花子", text: "今向かってます"),
        Row(locale: "ja", line: "[2018/06/13 21:25:15] 佐藤 花子: 今向かってます", instant: "2018-06-13T21:25:15Z", sender: "佐藤 花子", text: "今向かってます"),
        Row(locale: "ja", line: "[2018/06/13 午後9:25:15] 佐藤 花子: はい", instant: "2018-06-13T21:25:15Z", sender: "佐藤 花子", text: "はい"),
        Row(locale: "ja", line: "2018/06/13 午前0:10 - 佐藤 花子: おやすみ", instant: "2018-06-13T00:10:00Z", sender: "佐藤 花子", text: "おやすみ"),
        // Korean: year first with `. `, 오전/오후 before the time.
        Row(locale: "ko", line: "2018. 6. 13. 오후 9:25 - 김민준: 가는 중", instant: "2018-06-13T21:25:00Z", sender: "김민준", text: "가는 중"),
        Row(locale: "ko", line: "[2018. 6. 13. 오후 9:25:15] 김민준: 가는 중", instant: "2018-06-13T21:25:15Z", sender: "김민준", text: "가는 중"),
        Row(locale: "ko", line: "2018. 6. 13. 오전 12:05 - 김민준: 자?", instant: "2018-06-13T00:05:00Z", sender: "김민준", text: "자?"),
        // Arabic: ص/م after the time, Western or Arabic-Indic digits, right-to-left marks in the date.
        Row(locale: "ar", line: "13/06/2018, 9:25 م - أحمد علي: في الطريق", instant: "2018-06-13T21:25:00Z", sender: "أحمد علي", text: "في الطريق"),
        Row(locale: "ar", line: "13/06/2018, 9:25 ص - أحمد علي: صباح الخير", instant: "2018-06-13T09:25:00Z", sender: "أحمد علي", text: "صباح الخير"),
        Row(locale: "ar", line: "١٣\u{200F}/٦\u{200F}/٢٠١٨ ٩:٢٥ م - أحمد علي: في الطريق", instant: "2018-06-13T21:25:00Z", sender: "أحمد علي", text: "في الطريق"),
        Row(locale: "ar", line: "[١٣\u{200F}/٦\u{200F}/٢٠١٨، ٩:٢٥:١٥ م] أحمد علي: في الطريق", instant: "2018-06-13T21:25:15Z", sender: "أحمد علي", text: "في الطريق"),
        // Danish: `kl.`.
        Row(locale: "da", line: "13.06.2018 kl. 21:25 - Freja Jensen: På vej", instant: "2018-06-13T21:25:00Z", sender: "Freja Jensen", text: "På vej"),
    ]

    func testEveryLocaleLineGivesItsInstantSenderAndText() throws {
        XCTAssertGreaterThanOrEqual(Self.rows.count, 40)
        let locales = Set(Self.rows.map { $0.locale.prefix(2) })
        for required in ["en", "de", "fr", "es", "it", "pt", "nl", "fi", "hu", "tr", "ru", "ja", "ko", "ar"] {
            XCTAssertTrue(locales.contains(Substring(required)), "no line for \(required)")
        }
        for row in Self.rows {
            let batch: ImportBatch
            do {
                batch = try Self.parse(row.line + "\n", dayFirst: row.dayFirst)
            } catch {
                XCTFail("\(row.locale) '\(row.line)': \(describeError(error))")
                continue
            }
            guard batch.messages.count == 1, let m = batch.messages.first else {
                XCTFail("\(row.locale) '\(row.line)': \(batch.messages.count) messages")
                continue
            }
            XCTAssertEqual(UTCFormat.iso8601(Date(timeIntervalSince1970: Double(m.sentAt) / 1000)), row.instant, "\(row.locale) '\(row.line)'")
            XCTAssertEqual(m.sender.flatMap { batch.people[$0].name }, row.sender, "\(row.locale) '\(row.line)'")
            XCTAssertEqual(m.text, row.text, "\(row.locale) '\(row.line)'")
            XCTAssertEqual(m.kind, .text, "\(row.locale) '\(row.line)'")
        }
    }

    func testEachLocaleLineIsAHeaderAndItsBodyIsNot() {
        for row in Self.rows {
            let bytes = Array(row.line.utf8)
            let header = bytes.withUnsafeBufferPointer { WhatsAppLineGrammar.parse($0, 0, $0.count) }
            XCTAssertNotNil(header, "\(row.locale) '\(row.line)'")
            XCTAssertFalse(WhatsAppImporter.looksLikeMessageStart(Array(row.text.utf8)), "\(row.locale) '\(row.text)'")
        }
    }

    func testLinesThatOnlyStartLikeAHeaderAreNotHeaders() {
        let notHeaders = [
            "13.06.2018 is the date", "21:25 - meet at the pier", "13/06/2018, 25:10 - Alex: late", "13/06/2018, 21:61 - Alex: late",
            "13/06/2018, 21:5 - Alex: late", "2018/06/13/21:25 - Alex: hi", "13/06/2018 21:25", "123/06/2018, 21:25 - Alex: hi",
            "[13/06/2018, 21:25:15 Alex: no closing bracket", "13/06-2018, 21:25 - Alex: mixed separators",
        ]
        for line in notHeaders {
            XCTAssertFalse(WhatsAppImporter.looksLikeMessageStart(Array(line.utf8)), line)
        }
        // A log line has the shape of a header with a space before the name, but no sender.
        XCTAssertFalse(WhatsAppImporter.looksLikeMessageStart(Array("2024-01-02 10:00:00 INFO started".utf8)))
        XCTAssertTrue(WhatsAppImporter.looksLikeMessageStart(Array("13. 6. 2018. 21:25:15 Ivana Horvat: Evo me".utf8)))
    }

    static func parse(_ text: String, dayFirst: Bool? = nil, title: String? = nil) throws -> ImportBatch {
        let options = ImportOptions(timeZone: TimeZone(identifier: "UTC")!, dayFirst: dayFirst)
        return try WhatsAppImporter.parse(Array(text.utf8), context: ImportContext(path: "chat.txt", options: options, meNames: []), title: title)
    }
}
