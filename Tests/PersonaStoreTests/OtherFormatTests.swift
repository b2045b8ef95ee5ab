import Foundation
import XCTest
@testable import PersonaStore

final class ChatDBImportTests: StoreTestCase {
    /// An NSAttributedString typedstream as Messages writes it, reduced to what the reader needs.
    static func attributedBody(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8)
        var blob: [UInt8] = [0x04, 0x0B] + Array("streamtyped".utf8) + [0x81, 0xE8, 0x03, 0x84, 0x01, 0x40, 0x84, 0x84, 0x84, 0x12]
        blob += Array("NSAttributedString".utf8) + [0x00, 0x84, 0x84, 0x08] + Array("NSObject".utf8) + [0x00, 0x85, 0x92, 0x84, 0x84, 0x84, 0x08]
        blob += Array("NSString".utf8) + [0x01, 0x94, 0x84, 0x01, 0x2B]
        blob += utf8.count < 0x80 ? [UInt8(utf8.count)] : [0x81, UInt8(utf8.count & 0xFF), UInt8(utf8.count >> 8)]
        return blob + utf8 + [0x86, 0x84, 0x02, 0x69, 0x49, 0x01]
    }

    func makeChatDB() throws -> String {
        let path = directory + "/chat.db"
        let db = try Database(path: path)
        try db.execute("""
            CREATE TABLE handle(ROWID INTEGER PRIMARY KEY, id TEXT);
            CREATE TABLE chat(ROWID INTEGER PRIMARY KEY, guid TEXT, chat_identifier TEXT, display_name TEXT, style INTEGER);
            CREATE TABLE chat_handle_join(chat_id INTEGER, handle_id INTEGER);
            CREATE TABLE message(ROWID INTEGER PRIMARY KEY, guid TEXT, text TEXT, attributedBody BLOB, date INTEGER, is_from_me INTEGER,
                                 handle_id INTEGER, associated_message_type INTEGER DEFAULT 0, associated_message_guid TEXT,
                                 cache_has_attachments INTEGER DEFAULT 0, item_type INTEGER DEFAULT 0);
            CREATE TABLE chat_message_join(chat_id INTEGER, message_id INTEGER);
            INSERT INTO handle VALUES (1, '+14155550199'), (2, 'eli@example.com'), (3, '+14155550123');
            INSERT INTO chat VALUES (1, 'iMessage;-;+14155550199', '+14155550199', '', 45), (2, 'iMessage;+;chat123', 'chat123', 'Trail Crew', 43);
            INSERT INTO chat_handle_join VALUES (1, 1), (2, 2), (2, 3);
            """)
        // 2024-02-01T12:00:00Z is 728,481,600 s after 2001-01-01.
        let base: Int64 = 728_481_600
        let rows: [(Int64, String, String?, [UInt8]?, Int64, Int64, Int64, Int64, String?, Int64)] = [
            (1, "A", "Lunch tomorrow?", nil, base * 1_000_000_000, 0, 1, 0, nil, 1),
            (2, "B", nil, Self.attributedBody("Sure, noon works"), base + 60, 1, 0, 0, nil, 1),  // an older row in seconds
            (3, "C", "Liked “Sure, noon works”", nil, (base + 120) * 1_000_000_000, 0, 1, 2001, "p:0/B", 1),
            (4, "D", "Trail at 8?", nil, (base + 3600) * 1_000_000_000, 0, 2, 0, nil, 2),
            (5, "E", "In", nil, (base + 3660) * 1_000_000_000, 0, 3, 0, nil, 2),
            (6, "F", "Me too", nil, (base + 3720) * 1_000_000_000, 1, 0, 0, nil, 2),
        ]
        for r in rows {
            try db.run("INSERT INTO message(ROWID, guid, text, attributedBody, date, is_from_me, handle_id, associated_message_type, associated_message_guid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [.int(r.0), .text(r.1), r.2.map { .text($0) } ?? .null, r.3.map { .blob($0) } ?? .null, .int(r.4), .int(r.5), .int(r.6), .int(r.7), r.8.map { .text($0) } ?? .null])
            try db.run("INSERT INTO chat_message_join VALUES (?, ?)", [.int(r.9), .int(r.0)])
        }
        return path
    }

    func testMessagesDatabase() throws {
        let path = try makeChatDB()
        // Absolute times: the zone given must not shift them.
        let s = try store.importFile(path, options: options(me: "Ari Cohen", zone: "Asia/Tokyo"))
        XCTAssertEqual(s.format, .chatdb)
        XCTAssertEqual(s.conversations, 2)
        XCTAssertEqual(s.newMessages, 6)
        let m = try all()
        XCTAssertEqual(m.map(\.text), ["Lunch tomorrow?", "Sure, noon works", "Liked “Sure, noon works”", "Trail at 8?", "In", "Me too"])
        XCTAssertEqual(m.map(iso), ["2024-02-01T12:00:00Z", "2024-02-01T12:01:00Z", "2024-02-01T12:02:00Z",
                                    "2024-02-01T13:00:00Z", "2024-02-01T13:01:00Z", "2024-02-01T13:02:00Z"])
        XCTAssertEqual(m.map(\.kind), [.text, .text, .reaction, .text, .text, .text])
        XCTAssertEqual(m.map(\.isMe), [false, true, false, false, false, true])
        XCTAssertEqual(try store.database.scalarInt("SELECT reply_to FROM messages WHERE id = ?", [.int(m[2].id)]), m[1].id)
        XCTAssertEqual(try store.database.query("SELECT title, is_group FROM conversations ORDER BY id") { "\($0.string(0)) \($0.int(1))" },
                       ["+14155550199 0", "Trail Crew 1"])
        XCTAssertEqual(try store.importFile(path, options: options()).newMessages, 0)
    }

    func testWhitespaceOnlyMessageIsKept() throws {
        let path = try makeChatDB()
        let db = try Database(path: path)
        // Three spaces, and an attachment with a space beside it (which is media, not text).
        try db.run("INSERT INTO message(ROWID, guid, text, date, is_from_me, handle_id) VALUES (7, 'G', '   ', ?, 1, 0)", [.int((728_481_600 + 180) * 1_000_000_000)])
        try db.run("INSERT INTO message(ROWID, guid, text, date, is_from_me, handle_id, cache_has_attachments) VALUES (8, 'H', ?, ?, 0, 1, 1)",
                   [.text("\u{FFFC} "), .int((728_481_600 + 240) * 1_000_000_000)])
        try db.execute("INSERT INTO chat_message_join VALUES (1, 7), (1, 8)")
        let s = try store.importFile(path, options: options(me: "Ari Cohen"))
        XCTAssertEqual(s.newMessages, 8)
        XCTAssertEqual(s.skippedMessages, 0)
        let direct = try all().filter { $0.conversation == "+14155550199" }
        XCTAssertEqual(direct.map(\.text), ["Lunch tomorrow?", "Sure, noon works", "Liked “Sure, noon works”", "   ", "<Media omitted>"])
        XCTAssertEqual(direct.map(\.kind), [.text, .text, .reaction, .text, .media])
    }

    func testTypedStreamLongText() {
        let long = String(repeating: "é", count: 200)
        XCTAssertEqual(TypedStreamText.recover(Self.attributedBody(long)), long)
        XCTAssertNil(TypedStreamText.recover(Array(Self.attributedBody(long).prefix(80))))  // length past the end
    }
}

final class SMSBackupImportTests: StoreTestCase {
    static let xml = """
        <?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
        <!--File Created By SMS Backup & Restore v10.18.203 on 01/12/2023 10:00:00-->
        <smses count="5" backup_set="x">
          <sms protocol="0" address="(415) 555-0177" date="1700000000000" type="1" subject="null" body="Running late, 10 min &amp; counting" toa="null" read="1" status="-1" locked="0" date_sent="0" readable_date="Nov 14, 2023 10:13:20 PM" contact_name="Bea Santos" />
          <sms protocol="0" address="+14155550177" date="1700000060000" type="2" body="No worries!&#10;Take care" contact_name="Bea Santos" />
          <sms address="+14155550177" date="1700000070000" type="3" body="draft" contact_name="Bea Santos" />
          <mms date="1700000120000" msg_box="1" address="+14155550177" contact_name="Bea Santos">
            <parts>
              <part seq="-1" ct="application/smil" text="&lt;smil&gt;" />
              <part seq="0" ct="image/jpeg" cl="IMG_1.jpg" />
              <part seq="2" ct="text/plain" text="line two" />
              <part seq="1" ct="text/plain" text="Look at this" />
            </parts>
            <addrs><addr address="+14155550177" type="137" charset="106" /><addr address="insert-address-token" type="151" charset="106" /></addrs>
          </mms>
          <sms address="+1 650 555 0100" date="1700000200000" type="1" body="Your code is 123456" contact_name="(Unknown)" />
        </smses>
        """

    func testSMSAndMMS() throws {
        let s = try store.importFile(try write(Self.xml, to: "sms-20231201.xml"), options: options(me: "Ari Cohen", zone: "Asia/Tokyo"))
        XCTAssertEqual(s.format, .smsbackup)
        XCTAssertEqual(s.conversations, 2)
        XCTAssertEqual(s.newMessages, 4)
        XCTAssertEqual(s.skippedMessages, 1)
        let m = try all()
        XCTAssertEqual(m.map(\.text), ["Running late, 10 min & counting", "No worries!\nTake care", "Look at this\nline two", "Your code is 123456"])
        XCTAssertEqual(m.map(iso), ["2023-11-14T22:13:20Z", "2023-11-14T22:14:20Z", "2023-11-14T22:15:20Z", "2023-11-14T22:16:40Z"])
        XCTAssertEqual(m.map { $0.sender ?? "-" }, ["Bea Santos", "Ari Cohen", "Bea Santos", "+16505550100"])
        XCTAssertEqual(try store.database.query("SELECT file_name FROM attachments") { $0.string(0) }, ["IMG_1.jpg"])
        let people = try store.peopleSummaries(minMessages: 1)
        XCTAssertEqual(people.map(\.name), ["Bea Santos", "+16505550100"])
        XCTAssertEqual(people.map(\.inContacts), [true, false])
    }

    /// The app writes a character outside the BMP as references to its two UTF-16 surrogates.
    func testSurrogatePairReferencesBecomeOneCharacter() throws {
        let xml = """
            <?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
            <smses count="4">
              <sms address="+14155550177" date="1700000000000" type="1" body="Surrogates &#55357;&#56832; in XML" contact_name="Bea Santos" />
              <sms address="+14155550177" date="1700000060000" type="2" body="hex &#xD83C;&#xDF89;, plain &#233;" contact_name="Bea Santos" />
              <sms address="+14155550177" date="1700000120000" type="1" body="lone &#55357;, reversed &#56832;&#55357;." contact_name="Bea Santos" />
              <sms address="+14155550177" date="1700000180000" type="1" body="end &#55357;" contact_name="Bea Santos" />
            </smses>
            """
        let s = try store.importFile(try write(xml, to: "sms-emoji.xml"), options: options(me: "Ari Cohen"))
        XCTAssertEqual(s.newMessages, 4)
        XCTAssertEqual(try all().map(\.text), ["Surrogates 😀 in XML", "hex 🎉, plain é", "lone \u{FFFD}, reversed \u{FFFD}\u{FFFD}.", "end \u{FFFD}"])
        XCTAssertEqual(XMLScanner.decodeEntities(ArraySlice("&#55357;&#56832;&amp;&#128512;".utf8)), "😀&😀")
    }

    func testTruncatedXML() throws {
        let path = try write(String(Self.xml.prefix(400)), to: "cut.xml")
        assertStoreError([path, "line 4", "truncated"]) { _ = try store.importFile(path, options: options()) }
    }
}

final class TelegramImportTests: StoreTestCase {
    static let single = """
        {"name": "Farah Ali", "type": "personal_chat", "id": 4242, "messages": [
         {"id": 1, "type": "service", "date": "2024-01-01T10:00:00", "date_unixtime": "1704103200", "actor": "Farah Ali", "action": "phone_call", "text": ""},
         {"id": 2, "type": "message", "date": "2024-01-01T10:01:00", "date_unixtime": "1704103260", "from": "Farah Ali", "from_id": "user4242", "text": "Happy new year!"},
         {"id": 3, "type": "message", "date": "2024-01-01T10:02:00", "date_unixtime": "1704103320", "from": "Gus Moreau", "from_id": "user77",
          "text": ["Same to you, ", {"type": "bold", "text": "Farah"}, "!"], "reply_to_message_id": 2},
         {"id": 4, "type": "message", "date": "2024-01-01T10:03:00", "date_unixtime": "1704103380", "from": "Farah Ali", "from_id": "user4242", "photo": "photos/p.jpg", "text": ""}
        ]}
        """

    func testPersonalChat() throws {
        let s = try store.importFile(try write(Self.single, to: "result.json"), options: options(me: "Gus Moreau", zone: "America/Chicago"))
        XCTAssertEqual(s.format, .telegram)
        XCTAssertEqual(s.newMessages, 4)
        let m = try all()
        XCTAssertEqual(m.map(\.text), ["phone_call", "Happy new year!", "Same to you, Farah!", "<Media omitted>"])
        XCTAssertEqual(m.map(\.kind), [.system, .text, .text, .media])
        XCTAssertEqual(m.map(iso), ["2024-01-01T10:00:00Z", "2024-01-01T10:01:00Z", "2024-01-01T10:02:00Z", "2024-01-01T10:03:00Z"])
        XCTAssertEqual(m.map(\.isMe), [false, false, true, false])
        XCTAssertEqual(try store.database.scalarInt("SELECT reply_to FROM messages WHERE id = ?", [.int(m[2].id)]), m[1].id)
    }

    /// A whole account: every chat is stored; groups are marked as groups, so that the default
    /// filters leave them out of datasets.
    func testWholeAccountExportKeepsEveryChat() throws {
        let json = """
            {"personal_information": {"user_id": 77, "first_name": "Gus"},
             "chats": {"list": [
               {"name": "Farah Ali", "type": "personal_chat", "id": 4242, "messages": [
                 {"id": 2, "type": "message", "date_unixtime": "1704103260", "from": "Farah Ali", "from_id": "user4242", "text": "hi"},
                 {"id": 3, "type": "message", "date_unixtime": "1704103320", "from": "Gus Moreau", "from_id": "user77", "text": "hey"}]},
               {"name": "Climbing club", "type": "private_group", "id": 9, "messages": [
                 {"id": 1, "type": "service", "date_unixtime": "1704103000", "actor": "Gus Moreau", "action": "create_group", "text": ""},
                 {"id": 2, "type": "message", "date_unixtime": "1704103320", "from": "Someone", "from_id": "user5",
                  "text": ["see ", {"type": "link", "text": "example.org"}, " at ", {"type": "bold", "text": "8"}]},
                 {"id": 3, "type": "message", "date_unixtime": "1704103380", "from": "Gus Moreau", "from_id": "user77", "text": "in"}]},
               {"name": "Crag news", "type": "private_supergroup", "id": 10, "messages": [
                 {"id": 1, "type": "message", "date_unixtime": "1704103400", "from": "Farah Ali", "from_id": "user4242", "text": "rain"}]},
               {"type": "saved_messages", "id": 77, "messages": [
                 {"id": 1, "type": "message", "date_unixtime": "1704103500", "from": "Gus Moreau", "from_id": "user77", "text": "buy chalk"}]}
             ]}}
            """
        let s = try store.importFile(try write(json, to: "result.json"), options: options())
        XCTAssertEqual(s.conversations, 4)
        XCTAssertEqual(s.newMessages, 7)
        XCTAssertEqual(s.skippedMessages, 0)
        XCTAssertEqual(try store.database.query("SELECT title, is_group FROM conversations ORDER BY id") { "\($0.string(0)) \($0.int(1))" },
                       ["Farah Ali 0", "Climbing club 1", "Crag news 1", "Saved Messages 0"])
        let m = try all()
        XCTAssertEqual(m.filter { $0.conversation == "Climbing club" }.map(\.text), ["create_group", "see example.org at 8", "in"])
        XCTAssertEqual(m.filter { $0.conversation == "Climbing club" }.map(\.isMe), [false, false, true])
        XCTAssertEqual(m.filter { $0.conversation == "Saved Messages" }.map(\.isMe), [true])
        // The default filters (one-to-one chats with contacts) see only the personal chat.
        XCTAssertEqual(try store.messages(filter: MessageFilter(minMessages: 0)).map(\.conversation), ["Farah Ali", "Farah Ali"])
        let bad = try write("{\"messages\": [1, 2", to: "broken.json")
        assertStoreError([bad, "not valid JSON"]) { _ = try store.importFile(bad, options: options(format: .telegram)) }
    }

    /// A group exported alone names no owner: its senders are not taken for the owner.
    func testSingleGroupExport() throws {
        let json = """
            {"name": "Climbing club", "type": "public_supergroup", "id": 9, "messages": [
              {"id": 1, "type": "message", "date_unixtime": "1704103320", "from": "Someone", "from_id": "user5", "text": "hello all"},
              {"id": 2, "type": "message", "date_unixtime": "1704103380", "from": "Farah Ali", "from_id": "user4242", "text": "hi"}]}
            """
        let s = try store.importFile(try write(json, to: "result.json"), options: options())
        XCTAssertEqual(s.newMessages, 2)
        XCTAssertEqual(try all().map(\.isMe), [false, false])
        XCTAssertEqual(try store.database.scalarInt("SELECT is_group FROM conversations"), 1)
    }
}

final class GenericImportTests: StoreTestCase {
    func testCSVAndJSONL() throws {
        let csv = """
            timestamp,conversation,sender,text
            2024-05-01T09:00:00Z,Juno,Juno Park,"morning, you"
            2024-05-01 11:00:00,Juno,Ari Cohen,hi!
            1714561200,Juno,Juno Park,lunch?

            """
        let s = try store.importFile(try write(csv, to: "export.csv"), options: options(me: "Ari Cohen", zone: "Europe/Helsinki"))
        XCTAssertEqual(s.format, .csv)
        XCTAssertEqual(try all().map(iso), ["2024-05-01T08:00:00Z", "2024-05-01T09:00:00Z", "2024-05-01T11:00:00Z"])
        XCTAssertEqual(try all().map(\.text), ["hi!", "morning, you", "lunch?"])
        let jsonl = """
            {"timestamp": "2024-05-02T10:00:00+02:00", "conversation": "Juno", "sender": "Juno Park", "text": "again"}
            {"timestamp": 1714644000, "conversation": "Juno", "sender": "Ari", "is_me": true, "text": "yes", "kind": "text"}

            """
        let j = try store.importFile(try write(jsonl, to: "export.jsonl"), options: options(zone: "UTC"))
        XCTAssertEqual(j.format, .jsonl)
        XCTAssertEqual(j.newMessages, 2)
        XCTAssertEqual(try all().suffix(2).map(iso), ["2024-05-02T08:00:00Z", "2024-05-02T10:00:00Z"])
        for hostile in ["nan", "1e300", "-1e300", "99999999999999999999", "2024-13-01T00:00:00Z"] {
            let path = try write("{\"timestamp\": \"\(hostile)\", \"conversation\": \"c\", \"sender\": \"s\", \"text\": \"x\"}\n", to: "hostile.jsonl")
            assertStoreError([path, "line 1", "timestamp '\(hostile)'"]) { _ = try store.importFile(path, options: options()) }
        }
        let missing = try write("{\"timestamp\": 1, \"text\": \"x\"}\n", to: "missing.jsonl")
        assertStoreError([missing, "line 1", "missing key 'conversation'"]) { _ = try store.importFile(missing, options: options()) }
    }
}

final class ContactsTests: StoreTestCase {
    func testVCardNamesStrangersAndMergesHandles() throws {
        _ = try store.importFile(try write(SMSBackupImportTests.xml, to: "sms.xml"), options: options(me: "Ari Cohen"))
        // Bea's email arrives first from another export, as a separate person.
        let csv = "timestamp,conversation,sender,text\n2024-01-01T00:00:00Z,mail,bea.santos@example.com,hello\n"
        _ = try store.importFile(try write(csv, to: "mail.csv"), options: options(me: "Ari Cohen"))
        XCTAssertEqual(try store.peopleSummaries(minMessages: 1).count, 3)
        let vcf = """
            BEGIN:VCARD
            VERSION:3.0
            FN:Bea Santos
            N:Santos;Bea;;;
            TEL;TYPE=CELL:(415) 555-0177
            EMAIL;TYPE=INTERNET:Bea.Santos@Example.com
            END:VCARD
            BEGIN:VCARD
            VERSION:4.0
            FN:Dev
             in Rao
            item1.TEL;VALUE=uri:tel:+1-650-555-0100
            END:VCARD

            """
        let s = try store.importFile(try write(vcf, to: "contacts.vcf"), options: options())
        XCTAssertEqual(s.format, .vcard)
        XCTAssertEqual(s.contacts, 2)
        let people = try store.peopleSummaries(minMessages: 1)
        XCTAssertEqual(people.map(\.name).sorted(), ["Bea Santos", "Devin Rao"])
        XCTAssertTrue(people.allSatisfy(\.inContacts))
        XCTAssertEqual(try store.person(named: "bea.santos@example.com").name, "Bea Santos")
        XCTAssertEqual(people.first { $0.name == "Bea Santos" }?.sent, 3)
    }

    /// RFC 6350 ends lines in CRLF (iPhones write them so) and folds long lines with CRLF and
    /// one space or tab.
    func testVCardWithCRLFAndFoldedLines() throws {
        let vcf = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Lena\r\n  Vogel\r\nTEL;TYPE=CELL:+1 415\r\n\t555 0142\r\nEND:VCARD\r\n"
            + "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Zo\r\n ë Park\r\nEMAIL:zoe@example.com\r\nEND:VCARD\r\n"
        let s = try store.importFile(try write(vcf, to: "iphone.vcf"), options: options())
        XCTAssertEqual(s.format, .vcard)
        XCTAssertEqual(s.contacts, 2)
        XCTAssertEqual(try store.person(named: "+14155550142").name, "Lena Vogel")
        XCTAssertEqual(try store.person(named: "zoe@example.com").name, "Zoë Park")
        let cut = try write("BEGIN:VCARD\r\nFN:Nobody\r\n", to: "cut.vcf")
        assertStoreError([cut, "line 1", "no END:VCARD"]) { _ = try store.importFile(cut, options: options()) }
    }

    func testPeopleMerge() throws {
        let csv = """
            timestamp,conversation,sender,text
            2024-01-01T00:00:00Z,a,Bea S,one
            2024-01-01T00:01:00Z,b,Beatriz Santos,two

            """
        _ = try store.importFile(try write(csv, to: "x.csv"), options: options(me: "Ari Cohen"))
        let kept = try store.mergePeople("Bea S", into: "Beatriz Santos")
        XCTAssertEqual(kept.name, "Beatriz Santos")
        XCTAssertEqual(try store.peopleSummaries(minMessages: 1).map(\.sent), [2])
        XCTAssertThrowsError(try store.person(named: "Bea Q")) { error in
            XCTAssertEqual(error as? StoreError, .noSuchPerson("Bea Q"))
        }
        XCTAssertEqual(try store.person(named: "bea s").name, "Beatriz Santos")  // the handle moved with the merge
        assertStoreError(["same person"]) { _ = try store.mergePeople("Beatriz Santos", into: "bea s") }
        let vcf = try write("BEGIN:VCARD\nFN:Nobody\n", to: "cut.vcf")
        assertStoreError([vcf, "line 1", "no END:VCARD"]) { _ = try store.importFile(vcf, options: options()) }
    }

    func testPhoneNormalization() {
        XCTAssertEqual(HandleNormalizer.e164("(415) 555-0177", defaultCountry: "US"), "+14155550177")
        XCTAssertEqual(HandleNormalizer.e164("1 415 555 0177", defaultCountry: "US"), "+14155550177")
        XCTAssertEqual(HandleNormalizer.e164("07700 900123", defaultCountry: "GB"), "+447700900123")
        XCTAssertEqual(HandleNormalizer.e164("0044 7700 900123", defaultCountry: "US"), "+447700900123")
        XCTAssertEqual(HandleNormalizer.e164("030 1234567", defaultCountry: "DE"), "+49301234567")
        XCTAssertEqual(HandleNormalizer.e164("612 34 56 78", defaultCountry: "ES"), "+34612345678")
        XCTAssertNil(HandleNormalizer.e164("12345", defaultCountry: "US"))
        XCTAssertNil(HandleNormalizer.e164("Alice", defaultCountry: "US"))
        XCTAssertEqual(Handle.parse(" Bea@Example.COM ", defaultCountry: "US"), Handle(kind: .email, value: "bea@example.com"))
    }
}
