import Foundation
import XCTest
@testable import PersonaStore

final class WhatsAppImportTests: StoreTestCase {
    var ferryText: String { Self.fixtures + "/whatsapp-ferry.txt" }
    var ferryZip: String { Self.fixtures + "/WhatsApp Chat - Rosa Delgado.zip" }

    func testIOSLayoutWithNoticeMediaContinuationAndRepeatedMessages() throws {
        let s = try store.importFile(ferryText, options: options(me: "Kim Osei", zone: "Europe/Berlin"))
        XCTAssertEqual(s.format, .whatsapp)
        XCTAssertEqual(s.newMessages, 7)
        let m = try all()
        XCTAssertEqual(m.map(\.kind), [.system, .text, .text, .text, .text, .media, .text])
        XCTAssertEqual(m.map { $0.sender ?? "-" }, ["-", "Rosa Delgado", "Kim Osei", "Kim Osei", "Kim Osei", "Rosa Delgado", "Rosa Delgado"])
        // 09:15:40 in Berlin in March is CET, one hour ahead of UTC.
        XCTAssertEqual(iso(m[1]), "2024-03-14T08:15:40Z")
        XCTAssertEqual(m.map(\.text).suffix(4), ["ok", "ok", "image omitted", "Bring a jacket,\nit gets windy on deck"])
        XCTAssertEqual(try store.database.query("SELECT is_group FROM conversations") { $0.int(0) }, [0])
    }

    func testZipOfTheSameChatAddsNothing() throws {
        _ = try store.importFile(ferryText, options: options(me: "Kim Osei", zone: "Europe/Berlin"))
        let s = try store.importFile(ferryZip, options: options(zone: "Europe/Berlin"))
        XCTAssertEqual(s.format, .whatsapp)
        XCTAssertEqual(s.newMessages, 0)
        XCTAssertEqual(s.duplicateMessages, 7)
        XCTAssertEqual(try store.database.scalarInt("SELECT COUNT(*) FROM conversations"), 1)
    }

    func testZipAloneTellsTheOwnerFromItsName() throws {
        let s = try store.importFile(ferryZip, options: options(zone: "UTC"))
        XCTAssertEqual(s.newMessages, 7)
        let me = try store.database.query("SELECT name FROM people WHERE is_me = 1") { $0.string(0) }
        XCTAssertEqual(me, ["Kim Osei"])
        XCTAssertEqual(iso(try all()[1]), "2024-03-14T09:15:40Z")
    }

    func testAndroidMonthFirstTwelveHourTwoDigitYears() throws {
        let text = """
            1/5/24, 9:03\u{202F}PM - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.
            1/5/24, 9:03\u{202F}PM - Lena Park: hey, did you get home ok?
            1/5/24, 9:05 PM - Omar Reyes: Yes thanks
            1/13/24, 10:15\u{00A0}AM - Lena Park: <Media omitted>
            1/13/24, 10:16 AM - Lena Park: This message was deleted
            1/13/24, 12:01 AM - Omar Reyes: see you at noon <This message was edited>
            1/13/24, 12:30 PM - Lena Park: \u{200E}lunch?

            """
        let s = try store.importFile(try write(text, to: "WhatsApp Chat with Lena Park.txt"), options: options(me: "Omar Reyes", zone: "America/Los_Angeles"))
        XCTAssertEqual(s.newMessages, 7)
        let m = try all()
        XCTAssertEqual(m.map(iso), ["2024-01-06T05:03:00Z", "2024-01-06T05:03:00Z", "2024-01-06T05:05:00Z", "2024-01-13T08:01:00Z",
                                    "2024-01-13T18:15:00Z", "2024-01-13T18:16:00Z", "2024-01-13T20:30:00Z"])
        XCTAssertEqual(m.map(\.kind), [.system, .text, .text, .text, .media, .system, .text])
        XCTAssertEqual(m[3].text, "see you at noon")
        XCTAssertEqual(try store.database.query("SELECT edited, deleted FROM messages ORDER BY sent_at, id") { "\($0.int(0))\($0.int(1))" },
                       ["00", "00", "00", "10", "00", "01", "00"])
        XCTAssertEqual(m[6].text, "lunch?")
    }

    func testDayFirstIsDecidedOverTheWholeFile() throws {
        let text = """
            03/04/2024, 18:00 - Ines Duarte: first
            03/04/2024, 18:01 - Teo Lund: second
            15/04/2024, 09:00 - Ines Duarte: later

            """
        _ = try store.importFile(try write(text, to: "chat.txt"), options: options(me: "Teo Lund"))
        XCTAssertEqual(try all().map(iso), ["2024-04-03T18:00:00Z", "2024-04-03T18:01:00Z", "2024-04-15T09:00:00Z"])
    }

    func testDottedDatesAndGroups() throws {
        let text = """
            31.12.23, 23:59 - Ines Duarte: Frohes neues!
            01.01.24, 00:00 - Teo Lund: Prost
            01.01.24, 00:01 - Mo Berger: 🎉
            01.01.24, 00:02 - Mo Berger added Ana
            01.01.24, 00:03 - Ana changed the subject to "Trip: Rome"

            """
        let s = try store.importFile(try write(text, to: "chat.txt"), options: options(me: "Teo Lund", zone: "Europe/Berlin"))
        XCTAssertEqual(s.newMessages, 5)
        XCTAssertEqual(try all().map(iso).first, "2023-12-31T22:59:00Z")
        XCTAssertEqual(try all().map(\.kind).suffix(2), [.system, .system])
        XCTAssertEqual(try all().last?.text, "Ana changed the subject to \"Trip: Rome\"")
        XCTAssertEqual(try store.database.query("SELECT is_group FROM conversations") { $0.int(0) }, [1])
    }

    func testUnknownOwnerTruncatedZipAndGarbage() throws {
        let text = "[01/02/2024, 10:00:00] Ines Duarte: hi\n[01/02/2024, 10:01:00] Teo Lund: hey\n"
        let path = try write(text, to: "chat.txt")
        assertStoreError([path, "cannot tell which sender is you", "me=NAME"]) { _ = try store.importFile(path, options: options()) }

        let zip = try Data(contentsOf: URL(fileURLWithPath: ferryZip))
        let cut = try write(zip.prefix(zip.count - 40), to: "cut.zip")
        assertStoreError([cut, "truncated or damaged zip"]) { _ = try store.importFile(cut, options: options()) }
        var corrupted = [UInt8](zip)
        corrupted[60] ^= 0xFF  // inside the deflated chat text
        let bad = try write(Data(corrupted), to: "bad.zip")
        assertStoreError([bad, "_chat.txt"]) { _ = try store.importFile(bad, options: options()) }

        let empty = try write("", to: "empty.txt")
        assertStoreError([empty, "empty"]) { _ = try store.importFile(empty, options: options()) }
        let unknown = try write("just some notes\nnothing here\n", to: "notes.txt")
        assertStoreError(["cannot detect the format of \(unknown)", "give format="]) { _ = try store.importFile(unknown, options: options()) }
        assertStoreError([unknown, "no WhatsApp message lines"]) { _ = try store.importFile(unknown, options: options(format: .whatsapp)) }
        let latin1 = try write(Data([0x5B] + Array("01/02/2024, 10:00:00] Ines: caf".utf8) + [0xE9, 0x0A]), to: "latin1.txt")
        assertStoreError([latin1, "byte 32", "not UTF-8"]) { _ = try store.importFile(latin1, options: options(format: .whatsapp)) }
        XCTAssertEqual(try all().count, 0)
    }
}
