import Foundation
import XCTest
@testable import PersonaStore

final class IMazingImportTests: StoreTestCase {
    static let header15 = "Chat Session,Message Date,Delivered Date,Read Date,Edited Date,Service,Type,Sender ID,Sender Name,Status,Replying to,Subject,Text,Attachment,Attachment type"

    /// 15 columns, a BOM, CRLF line ends, quoted multi-line text with "" escapes, a text
    /// reaction, an edit, two identical "ok" in one minute, an attachment and a notice.
    static let fifteen = "\u{FEFF}" + header15 + "\r\n" + [
        "Noor Haddad,2023-05-04 18:22:31,,,,iMessage,Incoming,+1 (415) 555-0134,Noor Haddad,Read,,,\"Are you coming to the \"\"big\"\" dinner?\r\nIt starts at 8\",,",
        "Noor Haddad,2023-05-04 18:23:02,2023-05-04 18:23:03,,,iMessage,Outgoing,,,Delivered,,,Yes! See you there,,",
        "Noor Haddad,2023-05-04 18:24:00,,,,iMessage,Incoming,+1 (415) 555-0134,Noor Haddad,Read,,,Liked “Yes! See you there”,,",
        "Noor Haddad,2023-05-04 18:25:00,,,2023-05-04 18:26:00,iMessage,Outgoing,,,Delivered,,,ok,,",
        "Noor Haddad,2023-05-04 18:25:10,,,,iMessage,Outgoing,,,Delivered,,,ok,,",
        "Noor Haddad,2023-05-04 18:30:00,,,,iMessage,Incoming,+1 (415) 555-0134,Noor Haddad,Read,,,,IMG_0042.HEIC,image/heic",
        "Noor Haddad,2023-05-04 18:31:00,,,,iMessage,Notification,,,,,,Noor Haddad named the conversation “Dinner”,,",
    ].joined(separator: "\r\n") + "\r\n"

    func testFifteenColumnVariant() throws {
        let path = try write(Self.fifteen, to: "Noor Haddad.csv")
        let summary = try store.importFile(path, options: options(me: "Ari Cohen", zone: "America/New_York"))
        XCTAssertEqual(summary.format, .imazing)
        XCTAssertEqual(summary.conversations, 1)
        XCTAssertEqual(summary.newMessages, 7)
        XCTAssertEqual(summary.duplicateMessages, 0)
        let m = try all()
        XCTAssertEqual(m.map(\.kind), [.text, .text, .reaction, .text, .text, .media, .system])
        XCTAssertEqual(m.map { $0.sender ?? "-" }, ["Noor Haddad", "Ari Cohen", "Noor Haddad", "Ari Cohen", "Ari Cohen", "Noor Haddad", "-"])
        XCTAssertEqual(m.map(\.isMe), [false, true, false, true, true, false, false])
        // 18:22:31 in New York in May is EDT, four hours behind UTC.
        XCTAssertEqual(m.map(iso), ["2023-05-04T22:22:31Z", "2023-05-04T22:23:02Z", "2023-05-04T22:24:00Z", "2023-05-04T22:25:00Z",
                                    "2023-05-04T22:25:10Z", "2023-05-04T22:30:00Z", "2023-05-04T22:31:00Z"])
        XCTAssertEqual(m[0].text, "Are you coming to the \"big\" dinner?\nIt starts at 8")
        XCTAssertEqual(m[2].text, "Liked “Yes! See you there”")
        XCTAssertEqual(m[5].text, "<Media omitted>")
        // The reaction points at the message it quotes; the first ok was edited.
        let reply = try store.database.scalarInt("SELECT reply_to FROM messages WHERE id = ?", [.int(m[2].id)])
        XCTAssertEqual(reply, m[1].id)
        XCTAssertEqual(try store.database.query("SELECT edited FROM messages ORDER BY sent_at") { $0.int(0) }, [0, 0, 0, 1, 0, 0, 0])
        XCTAssertEqual(try store.database.query("SELECT file_name, mime_type FROM attachments") { "\($0.string(0)) \($0.string(1))" }, ["IMG_0042.HEIC image/heic"])
        XCTAssertEqual(try store.database.query("SELECT kind, value FROM handles h JOIN people p ON p.id = h.person_id WHERE p.is_me = 0 ORDER BY kind") { "\($0.string(0)) \($0.string(1))" },
                       ["name noor haddad", "phone +14155550134"])
    }

    func testReimportAddsNothingAndIdenticalMessagesStayTwo() throws {
        let path = try write(Self.fifteen, to: "Noor Haddad.csv")
        _ = try store.importFile(path, options: options(me: "Ari Cohen"))
        let again = try store.importFile(path, options: options(me: "Ari Cohen"))
        XCTAssertEqual(again.newMessages, 0)
        XCTAssertEqual(again.duplicateMessages, 7)
        XCTAssertEqual(try all().filter { $0.text == "ok" }.count, 2)
        // A later export of the same chat with one more message adds only that one.
        let longer = Self.fifteen + "Noor Haddad,2023-05-05 09:00:00,,,,iMessage,Incoming,+14155550134,Noor Haddad,Read,,,morning!,,\r\n"
        let later = try store.importFile(try write(longer, to: "Noor Haddad later.csv"), options: options(me: "Ari Cohen"))
        XCTAssertEqual(later.newMessages, 1)
        XCTAssertEqual(later.duplicateMessages, 7)
        XCTAssertEqual(try store.database.scalarInt("SELECT COUNT(*) FROM imports"), 3)
    }

    func testFourteenColumnVariantWithoutEditedDate() throws {
        let csv = """
            Chat Session,Message Date,Delivered Date,Read Date,Service,Type,Sender ID,Sender Name,Status,Replying to,Subject,Text,Attachment,Attachment type
            Lou Martin,2021-11-30 07:05:00,,,SMS,Incoming,lou.martin@example.com,Lou Martin,Read,,,Bus is late again,,
            Lou Martin,2021-11-30 07:06:30,,,SMS,Outgoing,,,Sent,,,ugh sorry,,

            """
        let s = try store.importFile(try write(csv, to: "lou.csv"), options: options(me: "Ari Cohen", zone: "Europe/London"))
        XCTAssertEqual(s.newMessages, 2)
        let m = try all()
        XCTAssertEqual(m.map(iso), ["2021-11-30T07:05:00Z", "2021-11-30T07:06:30Z"])  // GMT in November
        XCTAssertEqual(m.map { $0.sender ?? "-" }, ["Lou Martin", "Ari Cohen"])
        XCTAssertEqual(try store.person(named: "lou.martin@EXAMPLE.com").name, "Lou Martin")
    }

    func testReactionsColumnVariant() throws {
        let csv = """
            Chat Session,Message Date,Delivered Date,Read Date,Edited Date,Service,Type,Sender ID,Sender Name,Status,Replying to,Subject,Text,Reactions,Attachment,Attachment type
            Lou Martin,2024-07-01 12:00:00,,,,iMessage,Incoming,+33 6 12 34 56 78,Lou Martin,Read,,,On est où ?,Loved by Ari Cohen,,
            Lou Martin,2024-07-01 12:01:00,,,,iMessage,Outgoing,,,Read,On est où ?,,Devant la gare,,,

            """
        let s = try store.importFile(try write(csv, to: "lou.csv"), options: options(me: "Ari Cohen", zone: "Europe/Paris", country: "FR"))
        XCTAssertEqual(s.newMessages, 2)
        let m = try all()
        XCTAssertEqual(m.map(\.text), ["On est où ?", "Devant la gare"])
        XCTAssertEqual(m.map(iso), ["2024-07-01T10:00:00Z", "2024-07-01T10:01:00Z"])  // CEST
        XCTAssertEqual(try store.database.scalarInt("SELECT reply_to FROM messages WHERE id = ?", [.int(m[1].id)]), m[0].id)
        XCTAssertEqual(try store.person(named: "06 12 34 56 78", defaultCountry: "FR").name, "Lou Martin")
    }

    func testWhatsAppThroughIMazingVariant() throws {
        let csv = """
            Chat Session,Message Date,Sent Date,Type,Sender ID,Sender Name,Status,Forwarded,Replying to,Text,Reactions,Attachment,Attachment type,Attachment info
            Team Lunch,2022-03-03 13:00:00,2022-03-03 13:00:00,Incoming,+44 7700 900123,Pat Quinn,,,,Table for 4?,,,,
            Team Lunch,2022-03-03 13:00:30,2022-03-03 13:00:30,Incoming,+44 7700 900456,,,,,yes please,,,,
            Team Lunch,2022-03-03 13:01:00,2022-03-03 13:01:00,Outgoing,,,Read,,,booked,,,,

            """
        let s = try store.importFile(try write(csv, to: "team.csv"), options: options(me: "Ari Cohen", country: "GB"))
        XCTAssertEqual(s.newMessages, 3)
        XCTAssertEqual(try store.database.query("SELECT source, is_group FROM conversations") { "\($0.string(0)) \($0.int(1))" }, ["imazing-whatsapp 1"])
        let people = try store.peopleSummaries(minMessages: 1)
        XCTAssertEqual(Set(people.map(\.name)), ["Pat Quinn", "+447700900456"])
        XCTAssertEqual(people.first { $0.name == "+447700900456" }?.inContacts, false)
        XCTAssertEqual(people.first { $0.name == "Pat Quinn" }?.inContacts, true)
    }

    func testUTF16ExportImportsLikeUTF8() throws {
        var data = Data([0xFF, 0xFE])
        for unit in Self.fifteen.dropFirst().utf16 { data.append(UInt8(unit & 0xFF)); data.append(UInt8(unit >> 8)) }
        let s = try store.importFile(try write(data, to: "utf16.csv"), options: options(me: "Ari Cohen"))
        XCTAssertEqual(s.format, .imazing)
        XCTAssertEqual(s.newMessages, 7)
        XCTAssertEqual(try all()[0].text, "Are you coming to the \"big\" dinner?\nIt starts at 8")
    }

    func testBadRowRollsBackTheWholeFileButKeepsEarlierFiles() throws {
        let good = try write(Self.fifteen, to: "good.csv")
        _ = try store.importFile(good, options: options(me: "Ari Cohen"))
        let bad = Self.header15 + "\n" + [
            "Lou Martin,2024-01-01 10:00:00,,,,iMessage,Incoming,+14155550111,Lou Martin,Read,,,one,,",
            "Lou Martin,2024-01-01 10:01:00,,,,iMessage,Incoming,+14155550111,Lou Martin,Read,,,two,,",
            "Lou Martin,2024-13-45 99:00:00,,,,iMessage,Incoming,+14155550111,Lou Martin,Read,,,three,,",
        ].joined(separator: "\n")
        let path = try write(bad, to: "bad.csv")
        assertStoreError([path, "line 4", "Message Date '2024-13-45 99:00:00'"]) { _ = try store.importFile(path, options: options()) }
        XCTAssertEqual(try all().count, 7)
        XCTAssertEqual(try store.database.scalarInt("SELECT COUNT(*) FROM imports"), 1)
        XCTAssertThrowsError(try store.person(named: "Lou Martin"))
    }

    func testMissingColumnsAndMalformedCSV() throws {
        let noDate = try write("Chat Session,Type,Text\nA,Incoming,hi\n", to: "nodate.csv")
        assertStoreError([noDate, "line 1", "missing column 'Message Date'"]) { _ = try store.importFile(noDate, options: options(format: .imazing)) }
        let unclosed = try write(Self.header15 + "\nA,2024-01-01 10:00:00,,,,iMessage,Incoming,+14155550111,A,Read,,,\"never closed,,\n", to: "open.csv")
        assertStoreError([unclosed, "line 2", "never closed"]) { _ = try store.importFile(unclosed, options: options()) }
        let badType = try write(Self.header15 + "\nA,2024-01-01 10:00:00,,,,iMessage,Sideways,,,,,,hi,,\n", to: "type.csv")
        assertStoreError(["line 2", "Type 'Sideways'"]) { _ = try store.importFile(badType, options: options()) }
    }
}
