import Foundation
import XCTest
@testable import PersonaStore

final class FilterTests: StoreTestCase {
    /// Ann: 4 texts with Ari plus a reaction and a photo; Ben: 2 texts; a group; a stranger (a bare number).
    override func setUpWithError() throws {
        try super.setUpWithError()
        let csv = """
            timestamp,conversation,sender,text,kind
            2024-01-01T10:00:00Z,Ann,Ann Lee,call me on +1 415 555 0100 or ann@example.com,
            2024-01-01T10:01:00Z,Ann,Ari Cohen,see https://example.com/x and card 4111 1111 1111 1111,
            2024-01-01T10:02:00Z,Ann,Ann Lee,Liked “see you”,reaction
            2024-01-01T10:03:00Z,Ann,Ann Lee,<Media omitted>,media
            2024-02-01T10:00:00Z,Ann,Ann Lee,february,
            2024-03-01T10:00:00Z,Ann,Ari Cohen,march,
            2024-01-05T10:00:00Z,Ben,Ben Ito,hey,
            2024-01-05T10:01:00Z,Ben,Ari Cohen,hey ben,
            2024-01-06T10:00:00Z,Crew,Ann Lee,group hello,
            2024-01-06T10:01:00Z,Crew,Ben Ito,group hi,
            2024-01-07T10:00:00Z,+14155550999,+14155550999,who is this,
            2024-01-07T10:01:00Z,+14155550999,Ari Cohen,wrong number,
            2024-01-07T10:02:00Z,+14155550999,+14155550999,sorry!,

            """
        _ = try store.importFile(try write(csv, to: "f.csv"), options: options(me: "Ari Cohen"))
    }

    func names(_ filter: MessageFilter) throws -> [String] { try store.trainingConversations(filter: filter).map(\.them) }

    func testDefaultsKeepOneToOneContactsAboveTheMinimum() throws {
        XCTAssertEqual(try names(MessageFilter()), [])  // nobody has 1,000 messages
        XCTAssertEqual(try names(MessageFilter(minMessages: 3)), ["Ann Lee"])
        XCTAssertEqual(try names(MessageFilter(minMessages: 2)), ["Ann Lee", "Ben Ito"])
        XCTAssertEqual(try names(MessageFilter(contactsOnly: false, minMessages: 2)), ["Ann Lee", "Ben Ito", "+14155550999"])
        let ann = try XCTUnwrap(store.trainingConversations(filter: MessageFilter(minMessages: 3)).first)
        XCTAssertEqual(ann.me, "Ari Cohen")
        XCTAssertEqual(ann.messages.map(\.text), ["call me on +1 415 555 0100 or ann@example.com",
                                                   "see https://example.com/x and card 4111 1111 1111 1111", "february", "march"])
        XCTAssertEqual(ann.messages.map(\.fromMe), [false, true, false, true])
        XCTAssertEqual(ann.messages.map(\.senderName), ["Ann Lee", "Ari Cohen", "Ann Lee", "Ari Cohen"])
    }

    func testKindsDatesGroupsPersonAndRedaction() throws {
        var filter = MessageFilter(minMessages: 0, includeReactions: true, includeMedia: true)
        filter.person = "Ann"
        let ann = try store.trainingConversations(filter: filter)
        XCTAssertEqual(ann.first?.messages.map(\.kind), [.text, .text, .reaction, .media, .text, .text])
        filter = MessageFilter(minMessages: 0, since: UTCFormat.parse("2024-01-15"), until: UTCFormat.parse("2024-03-01"))
        XCTAssertEqual(try store.trainingConversations(filter: filter).flatMap { $0.messages.map(\.text) }, ["february"])
        // Groups never become training conversations, but `messages` shows them when asked.
        let groups = MessageFilter(excludeGroups: false, minMessages: 0)
        XCTAssertEqual(try names(groups), ["Ann Lee", "Ben Ito"])
        XCTAssertEqual(try store.messages(filter: groups).filter { $0.conversation == "Crew" }.map(\.text), ["group hello", "group hi"])
        let redacted = try store.trainingConversations(filter: MessageFilter(minMessages: 3, redact: true))
        XCTAssertEqual(redacted.first?.messages.prefix(2).map(\.text), ["call me on [phone] or [email]", "see [url] and card [card]"])
        XCTAssertEqual(try store.messages(filter: .everything).count, 13)
    }

    func testPeopleTableAndTexts() throws {
        let people = try store.peopleSummaries(minMessages: 3)
        // Most messages first; ties by name.
        XCTAssertEqual(people.map(\.name), ["Ann Lee", "+14155550999", "Ben Ito"])
        XCTAssertEqual(people.map(\.sent), [5, 2, 2])
        XCTAssertEqual(people.map(\.received), [2, 1, 1])
        XCTAssertEqual(people.map(\.oneToOneTexts), [4, 3, 2])
        XCTAssertEqual(people.map(\.imitable), [true, false, false])
        XCTAssertEqual(people.map(\.inGroup), [true, false, true])
        XCTAssertEqual(people[0].first.map(UTCFormat.iso8601), "2024-01-01T10:00:00Z")
        XCTAssertEqual(people[0].last.map(UTCFormat.iso8601), "2024-03-01T10:00:00Z")
        XCTAssertEqual(try store.messageTexts(fromMe: true).map(\.text).sorted(),
                       ["hey ben", "march", "see https://example.com/x and card 4111 1111 1111 1111", "wrong number"])
        XCTAssertEqual(try store.messageTexts(fromMe: false).count, 7)
        XCTAssertEqual(try store.messageTexts(fromMe: nil).count, 11)
        let stats = try store.stats()
        XCTAssertEqual(stats.messages, 13)
        XCTAssertEqual(stats.groupConversations, 1)
        XCTAssertEqual(stats.messagesByKind[.reaction], 1)
    }
}

final class DemoDataTests: StoreTestCase {
    func testDemoHistoryIsDeterministicAndFeedsTheDefaultFilter() throws {
        let first = try DemoDataGenerator(seed: 7).write(to: directory + "/a")
        let second = try DemoDataGenerator(seed: 7).write(to: directory + "/b")
        let other = try DemoDataGenerator(seed: 8).write(to: directory + "/c")
        XCTAssertEqual(first.map(\.messages), second.map(\.messages))
        for (a, b) in zip(first, second) {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a.path)), try Data(contentsOf: URL(fileURLWithPath: b.path)))
        }
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: first[0].path)), try Data(contentsOf: URL(fileURLWithPath: other[0].path)))
        XCTAssertEqual(Set(first.map(\.format)), [.imazing, .whatsapp])

        var imported = 0
        for f in first { imported += try store.importFile(f.path, options: options(me: DemoDataGenerator.ownerName)).newMessages }
        XCTAssertEqual(imported, first.map(\.messages).reduce(0, +))
        let conversations = try store.trainingConversations(filter: MessageFilter())
        XCTAssertEqual(conversations.map(\.them).sorted(), ["Alex Chen", "Jordan Blake", "Maria Lopez", "Priya Nair", "Tom Fischer"])
        for c in conversations {
            XCTAssertGreaterThanOrEqual(c.messages.count, 1000, c.them)
            XCTAssertEqual(c.me, "Sam Rivera")
            XCTAssertTrue(zip(c.messages, c.messages.dropFirst()).allSatisfy { $0.sentAt <= $1.sentAt })
            let days = (c.messages.last!.sentAt.timeIntervalSince(c.messages.first!.sentAt)) / 86_400
            XCTAssertGreaterThan(days, 300, c.them)
            XCTAssertLessThan(days, 760, c.them)
        }
        // Styles differ: Maria writes long messages, Alex short ones.
        func meanLength(_ name: String) -> Double {
            let own = conversations.first { $0.them == name }!.messages.filter { !$0.fromMe }
            return Double(own.map(\.text.count).reduce(0, +)) / Double(own.count)
        }
        XCTAssertGreaterThan(meanLength("Maria Lopez"), 4 * meanLength("Alex Chen"))
        let people = try store.peopleSummaries()
        XCTAssertEqual(people.filter { !$0.imitable }.map(\.name).sorted(), ["+15550134477", "Dana Whitfield"])
    }
}
