import Foundation
import XCTest
import PersonaCore
@testable import PersonaStore

final class GenerationRecordsTests: StoreTestCase {
    func conversation(_ turns: [GenerationTurn], seed: UInt64 = 7, looped: Bool = false) -> NewGeneration {
        NewGeneration(kind: "conversation", model: "models/tiny.gguf", adapter: "ed", sampler: "calm", settings: "temperature=0.8",
                      seed: seed, format: "donner", persona: "Alex Chen", partner: "Sam Rivera", prompt: "",
                      turns: turns, output: turns.map { "\($0.sender): \($0.text)" }.joined(separator: "\n"),
                      repetition: "repetition: 0% of 3-grams repeated", regurgitation: nil, looped: looped, copyFlagged: false)
    }

    func testSavedGenerationsReadBackWithTheirTurnsAndFlags() throws {
        let records = try GenerationRecords(database: store.database)
        let turns = [GenerationTurn(sender: "Alex Chen", text: "tacos? \"now\" 😀"), GenerationTurn(sender: "Sam Rivera", text: "a\\b\nc")]
        XCTAssertEqual(try records.save(conversation(turns, seed: UInt64.max, looped: true)), 1)
        XCTAssertEqual(try records.save(conversation([], seed: 3)), 2)
        XCTAssertEqual(try records.count(), 2)

        let first = try XCTUnwrap(try records.record(id: 1))
        XCTAssertEqual(first.generation, conversation(turns, seed: UInt64.max, looped: true))
        XCTAssertEqual(first.createdAt.count, "2026-12-06 03:40:00".count)
        XCTAssertNil(try records.record(id: 3))
        XCTAssertEqual(try records.all().map(\.id), [1, 2])
        XCTAssertEqual(try records.all(last: 1).map(\.id), [2])

        // One JSON object a line, in the documented key order, that a JSON parser reads back.
        let line = GenerationRecords.jsonLine(first)
        XCTAssertTrue(line.hasPrefix("{\"id\": 1, \"as\": \"Alex Chen\", \"with\": \"Sam Rivera\", \"model\": \"models/tiny.gguf\", \"adapter\": \"ed\", \"sampler\": \"calm\", \"settings\": \"temperature=0.8\", \"seed\": 18446744073709551615, \"turns\": ["), line)
        XCTAssertFalse(line.contains("\n"))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(object["turns"] as? [[String: String]], turns.map { ["sender": $0.sender, "text": $0.text] })
    }

    /// Rows written before version 2 (people as "persona,partner", the text as "Name: text"
    /// lines) read back with their turns.
    func testVersionOneRowsReadBack() throws {
        try store.database.migrate(namespace: "sample", migrations: [GenerationRecords.migrations[0]])
        try store.database.run("""
            INSERT INTO generations(created_at, kind, model, adapter, sampler, settings, seed, format, speakers, prompt, output)
            VALUES ('2026-01-02 03:04:05', 'conversation', 'm.gguf', NULL, 'default', '', 5, 'transcript', 'Alex Chen,Sam Rivera', '',
                    'Alex Chen: hi: there\nSam Rivera: two\nlines')
            """)
        let records = try GenerationRecords(database: store.database)
        XCTAssertEqual(try store.database.schemaVersion(namespace: "sample"), 2)
        let old = try XCTUnwrap(try records.record(id: 1)).generation
        XCTAssertEqual(old.persona, "Alex Chen")
        XCTAssertEqual(old.partner, "Sam Rivera")
        XCTAssertEqual(old.turns, [GenerationTurn(sender: "Alex Chen", text: "hi: there"), GenerationTurn(sender: "Sam Rivera", text: "two\nlines")])
        XCTAssertFalse(old.looped)
    }

    func testBrokenTurnsAreReportedNotTrusted() throws {
        let records = try GenerationRecords(database: store.database)
        try records.save(conversation([GenerationTurn(sender: "A", text: "b")]))
        try store.database.run("UPDATE generations SET turns = '[{\"sender\": 1}]' WHERE id = 1")
        XCTAssertThrowsError(try records.record(id: 1)) {
            XCTAssertEqual(describeError($0), "generation 1: turn 1 lacks a sender or a text")
        }
    }

    func testOwnerName() throws {
        XCTAssertNil(try store.ownerName())
        try store.setMe(name: "Sam Rivera")
        XCTAssertEqual(try store.ownerName(), "Sam Rivera")
    }
}
