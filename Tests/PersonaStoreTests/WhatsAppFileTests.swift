import Foundation
import XCTest
@testable import PersonaStore

/// Whole WhatsApp files: the date order read from the file, attachments, deleted messages,
/// notices and messages of several lines.
final class WhatsAppFileTests: StoreTestCase {
    func importText(_ text: String, name: String = "chat.txt", me: String? = "Sam Rivera", dayFirst: Bool? = nil) throws -> ImportSummary {
        var o = options(me: me)
        o.dayFirst = dayFirst
        return try store.importFile(try write(text, to: name), options: o)
    }

    func days(_ messages: [StoredMessage]) -> [String] { messages.map { String(iso($0).prefix(10)) } }

    // MARK: Date order

    func testDayFirstSlashDatesDecidedByTheOrderOfTime() throws {
        // No field above 12: read month-first these dates would jump Jan → May → Oct → Feb.
        let s = try importText("""
            01/02/2024, 10:00 - Ines Duarte: one
            05/02/2024, 10:00 - Sam Rivera: two
            10/02/2024, 10:00 - Ines Duarte: three
            02/03/2024, 10:00 - Sam Rivera: four

            """)
        XCTAssertEqual(days(try all()), ["2024-02-01", "2024-02-05", "2024-02-10", "2024-03-02"])
        XCTAssertEqual(s.warnings, [])
    }

    func testMonthFirstSlashDatesDecidedByTheOrderOfTime() throws {
        let s = try importText("""
            2/1/24, 10:00 AM - Ines Duarte: one
            2/5/24, 10:00 AM - Sam Rivera: two
            2/10/24, 10:00 AM - Ines Duarte: three
            3/2/24, 10:00 AM - Sam Rivera: four

            """)
        XCTAssertEqual(days(try all()), ["2024-02-01", "2024-02-05", "2024-02-10", "2024-03-02"])
        XCTAssertEqual(s.warnings, [])
    }

    func testAmbiguousDottedFileWarnsAndDayfirstOverrides() throws {
        let text = """
            03.04.24, 18:00 - Ines Duarte: first
            03.04.24, 18:01 - Sam Rivera: second
            04.04.24, 09:00 - Ines Duarte: later

            """
        let s = try importText(text)
        XCTAssertEqual(days(try all()), ["2024-04-03", "2024-04-03", "2024-04-04"])
        XCTAssertEqual(s.warnings.count, 1)
        for fragment in ["day/month/year", "month/day/year", "line 1", "03.04.24 = 2024-04-03", "dayfirst=false"] {
            XCTAssertTrue(s.warnings[0].contains(fragment), "'\(s.warnings[0])' lacks '\(fragment)'")
        }

        let other = try importText(text, name: "again.txt", me: "Sam Rivera", dayFirst: false)
        XCTAssertEqual(other.warnings, [])
        // 04.04.24 reads the same either way: that message is already stored.
        XCTAssertEqual([other.newMessages, other.duplicateMessages], [2, 1])
        XCTAssertEqual(days(try all()), ["2024-03-04", "2024-03-04", "2024-04-03", "2024-04-03", "2024-04-04"])
    }

    func testAmbiguousUSStyleFileAssumesMonthFirst() throws {
        // Capital AM/PM with slashes is how US phones write; the warning says how to turn it round.
        let s = try importText("""
            [3/4/24, 9:00:00 AM] Ines Duarte: first
            [3/4/24, 9:05:00 AM] Sam Rivera: second

            """)
        XCTAssertEqual(days(try all()), ["2024-03-04", "2024-03-04"])
        XCTAssertEqual(s.warnings.count, 1)
        XCTAssertTrue(s.warnings[0].contains("read as month/day/year") && s.warnings[0].contains("dayfirst=true"), s.warnings[0])
    }

    func testTwoDigitYearFirstDecidedByWhichFieldChangesLeast() throws {
        // 18/06/13 could be 18 June 2013 day by day through the years; the year changes least.
        let s = try importText("""
            18/06/13 21:25 - Ines Duarte: one
            18/06/14 08:00 - Sam Rivera: two
            18/06/20 08:00 - Ines Duarte: three
            18/06/28 08:00 - Sam Rivera: four

            """)
        XCTAssertEqual(days(try all()), ["2018-06-13", "2018-06-14", "2018-06-20", "2018-06-28"])
        XCTAssertEqual(s.warnings, [])
    }

    func testDashAndFinnishDottedLayoutsDecidedOverTheFile() throws {
        // Dutch dashes: 02-03 then 10-03 then 01-04 only runs forwards day-first.
        let dutch = try importText("""
            02-03-2018 21:25 - Daan de Vries: een
            10-03-2018 08:00 - Sam Rivera: twee
            01-04-2018 08:00 - Daan de Vries: drie

            """, name: "nl.txt")
        XCTAssertEqual(dutch.warnings, [])
        // Finnish `klo` with one ambiguous day: imported day-first with a warning.
        let finnish = try importText("""
            3.4.2018 klo 21.25 - Aino Virtanen: yksi
            3.4.2018 klo 21.26 - Sam Rivera: kaksi

            """, name: "fi.txt")
        XCTAssertEqual(finnish.warnings.count, 1)
        XCTAssertTrue(finnish.warnings[0].contains("3.4.2018 = 2018-04-03"), finnish.warnings[0])
        XCTAssertEqual(days(try all()), ["2018-03-02", "2018-03-10", "2018-04-01", "2018-04-03", "2018-04-03"])
    }

    func testYearFirstDottedSpacedDatesNeedNoWarning() throws {
        let s = try importText("""
            2018. 06. 03. 7:02 - Bence Kovács: Jó reggelt
            2018. 06. 04. 7:02 - Sam Rivera: Szia

            """)
        XCTAssertEqual(days(try all()), ["2018-06-03", "2018-06-04"])
        XCTAssertEqual(s.warnings, [])
    }

    func testMonthYearDayOrderWhenNothingElseFits() throws {
        let s = try importText("""
            06/2018/13 21:25 - Ines Duarte: one
            06/2018/14 08:00 - Sam Rivera: two

            """)
        XCTAssertEqual(days(try all()), ["2018-06-13", "2018-06-14"])
        XCTAssertEqual(s.warnings, [])
    }

    func testDayfirstThatNoDateFitsAndMixedOrdersAreErrors() throws {
        let us = try write("6/13/18, 9:25 PM - Ines Duarte: hi\n", to: "us.txt")
        var o = options(me: "Sam Rivera")
        o.dayFirst = true
        assertStoreError([us, "line 1", "6/13/18", "day-first"]) { _ = try store.importFile(us, options: o) }

        var mixed = ""
        for d in 1...9 { mixed += "0\(d)/13/2024, 10:00 - Ines Duarte: m\(d)\n13/0\(d)/2024, 11:00 - Sam Rivera: d\(d)\n" }
        let path = try write(mixed, to: "mixed.txt")
        assertStoreError([path, "does not fit", "order of the file's other dates"]) { _ = try store.importFile(path, options: options(me: "Sam Rivera")) }
        XCTAssertEqual(try all().count, 0)
    }

    // MARK: Attachments

    func testAttachmentsInEveryLayoutKeepTheirFileAndCaption() throws {
        let s = try importText("""
            [13/06/2018, 21:25:01] Ines Duarte: \u{200E}<attached: 00000042-PHOTO-2018-06-13-21-25-01.jpg>
            [13/06/2018, 21:25:02] Ines Duarte: < attached: 00000043-VIDEO-2018-06-13-21-25-02.mp4 >
            [13/06/2018, 21:25:03] Ines Duarte: 2015-08-04-PHOTO-00004762.jpg <\u{200E}attached>
            [13/06/2018, 21:25:04] Ines Duarte: \u{200E}Report.pdf • 3 pages \u{200E}<attached: 00000044-Report.pdf>
            [13/06/2018, 21:25:05] Ines Duarte: \u{200E}image omitted
            [13/06/2018, 21:25:06] Ines Duarte: \u{200E}Bild weggelassen
            [13/06/2018, 21:25:07] Sam Rivera: see notes.txt (later)

            """)
        XCTAssertEqual(s.newMessages, 7)
        let m = try all()
        XCTAssertEqual(m.map(\.kind), [.media, .media, .media, .media, .media, .media, .text])
        XCTAssertEqual(try fileNames(), ["00000042-PHOTO-2018-06-13-21-25-01.jpg", "00000043-VIDEO-2018-06-13-21-25-02.mp4",
                                         "2015-08-04-PHOTO-00004762.jpg", "00000044-Report.pdf"])
        XCTAssertEqual(m[4].text, "image omitted")
    }

    func testAndroidAttachmentsWithCaptionsAndOmittedMedia() throws {
        _ = try importText("""
            13.06.18, 21:25 - Jonas Weber: IMG-20180613-WA0003.jpg (Datei angehängt)
            Der Blick vom Hotel
            13.06.18, 21:26 - Sam Rivera: DOC-20180613-WA0004.pdf (file attached)
            13.06.18, 21:27 - Jonas Weber: <Medien ausgeschlossen>
            13.06.18, 21:28 - Sam Rivera: <Media omitted>
            13.06.18, 21:29 - Jonas Weber: PTT-20180613-WA0005.opus (fichier joint)

            """)
        let m = try all()
        XCTAssertEqual(m.map(\.kind), [.media, .media, .media, .media, .media])
        XCTAssertEqual(m.map(\.text), ["Der Blick vom Hotel", "DOC-20180613-WA0004.pdf (file attached)", "<Medien ausgeschlossen>",
                                       "<Media omitted>", "PTT-20180613-WA0005.opus (fichier joint)"])
        XCTAssertEqual(try fileNames(), ["IMG-20180613-WA0003.jpg", "DOC-20180613-WA0004.pdf", "PTT-20180613-WA0005.opus"])
    }

    func fileNames() throws -> [String] {
        try store.database.query("SELECT a.file_name FROM attachments a JOIN messages m ON m.id = a.message_id ORDER BY m.sent_at, m.id") { $0.string(0) }
    }

    // MARK: Deleted messages and notices

    func testDeletedMessagesInSeveralLanguages() throws {
        _ = try importText("""
            13/06/2018, 21:25 - Ines Duarte: This message was deleted
            13/06/2018, 21:26 - Sam Rivera: You deleted this message
            13/06/2018, 21:27 - Ines Duarte: Diese Nachricht wurde gelöscht.
            13/06/2018, 21:28 - Ines Duarte: \u{200E}Se eliminó este mensaje.
            13/06/2018, 21:29 - Ines Duarte: このメッセージは削除されました
            13/06/2018, 21:30 - Ines Duarte: This message was deleted, I think?

            """)
        let flags = try store.database.query("SELECT kind, deleted FROM messages ORDER BY sent_at") { "\($0.string(0)) \($0.int(1))" }
        XCTAssertEqual(flags, ["system 1", "system 1", "system 1", "system 1", "system 1", "text 0"])
    }

    func testGroupNoticesBecomeSystemMessages() throws {
        let s = try importText("""
            13.06.18, 21:25 - Jonas Weber hat die Gruppe „Reise: Rom“ erstellt
            13.06.18, 21:25 - Jonas Weber hat dich hinzugefügt
            13.06.18, 21:26 - Jonas Weber: Hallo zusammen
            13.06.18, 21:27 - Sam Rivera: Hallo
            13.06.18, 21:28 - Lea Fischer hat die Gruppe verlassen

            """, name: "WhatsApp Chat mit Reise.txt")
        XCTAssertEqual(s.newMessages, 5)
        let m = try all()
        XCTAssertEqual(m.map(\.kind), [.system, .system, .text, .text, .system])
        XCTAssertEqual(m.map { $0.sender ?? "-" }, ["-", "-", "Jonas Weber", "Sam Rivera", "-"])
        XCTAssertEqual(try store.database.query("SELECT is_group FROM conversations") { $0.int(0) }, [1])
    }

    func testIOSNoticesMarkedOrKnownByTheirWordsAreSystemMessages() throws {
        _ = try importText("""
            [13.06.18, 21:25:15] Jonas Weber: Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Niemand außerhalb dieses Chats kann sie lesen.
            [13.06.18, 21:25:16] Reise: \u{200E}Jonas Weber hat die Gruppe „Reise“ erstellt.
            [13.06.18, 21:25:17] Reise: \u{200E}Lea Fischer hat Sam Rivera hinzugefügt.
            [13.06.18, 21:26:00] Jonas Weber: Hallo
            [13.06.18, 21:27:00] Sam Rivera: Hallo

            """, name: "WhatsApp Chat - Reise.txt")
        let m = try all()
        XCTAssertEqual(m.map(\.kind), [.system, .system, .system, .text, .text])
        XCTAssertEqual(m.map { $0.sender ?? "-" }, ["-", "-", "-", "Jonas Weber", "Sam Rivera"])
        XCTAssertEqual(try store.database.query("SELECT is_group FROM conversations") { $0.int(0) }, [1])
    }

    // MARK: Messages of several lines

    func testContinuationLinesKeepDateLikeStarts() throws {
        let s = try importText("""
            13/06/2018, 21:25 - Ines Duarte: the plan:
            13/06/2018 meet at the pier
            21:30 - ferry leaves
            [13/06/2018, 21:25:15] Ines Duarte: a line in the other phone's layout
            13/06/2018, 21:40 the same layout but no dash
            13/06/2018, 21:26 - Sam Rivera: ok

            """)
        XCTAssertEqual(s.newMessages, 2)
        let m = try all()
        XCTAssertEqual(m[0].text, """
            the plan:
            13/06/2018 meet at the pier
            21:30 - ferry leaves
            [13/06/2018, 21:25:15] Ines Duarte: a line in the other phone's layout
            13/06/2018, 21:40 the same layout but no dash
            """)
        XCTAssertEqual(m[1].text, "ok")
    }

    func testAQuotedOlderMessageStaysInsideItsMessage() throws {
        // A pasted header of the file's own layout, dated long before the messages around it.
        let s = try importText("""
            [14/03/2024, 09:15:40] Ines Duarte: remember this?
            [02/01/2023, 18:00:00] Sam Rivera: see you at the ferry
            [14/03/2024, 09:16:05] Sam Rivera: ha, yes

            """)
        XCTAssertEqual(s.newMessages, 2)
        XCTAssertEqual(try all().first?.text, "remember this?\n[02/01/2023, 18:00:00] Sam Rivera: see you at the ferry")
    }

    func testTwoExportsAppendedStayMessages() throws {
        // A file that goes back in time and stays there is a second export, not a quote.
        var text = ""
        for day in 20...27 { text += "\(day)/03/2024, 10:00 - Ines Duarte: later \(day)\n" }
        for day in 10...17 { text += "\(day)/01/2024, 10:00 - Sam Rivera: earlier \(day)\n" }
        let s = try importText(text)
        XCTAssertEqual(s.newMessages, 16)
    }

    func testCRLFLinesAndBlankLinesInsideMessages() throws {
        _ = try importText("13/06/2018, 21:25 - Ines Duarte: one\r\n\r\ntwo\r\n\r\n13/06/2018, 21:26 - Sam Rivera: three\r\n")
        XCTAssertEqual(try all().map(\.text), ["one\n\ntwo", "three"])
    }
}
