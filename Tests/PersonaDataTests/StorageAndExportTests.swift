import Foundation
import PersonaStore
import PersonaTestSupport
import XCTest
@testable import PersonaData

final class StorageAndExportTests: XCTestCase {
    func dataset(_ change: (inout DatasetParameters) -> Void = { _ in }) throws -> Dataset {
        var p = DatasetParameters()
        p.minMessages = 1
        p.testFraction = 0.25
        change(&p)
        let conversations = [Fixtures.conversation(id: 1, them: "Alice", count: 120), Fixtures.conversation(id: 2, them: "Bob", count: 90)]
        return try DatasetBuilder.build(name: "chats", conversations: conversations, parameters: p, tokenizer: ByteTokenizer())
    }

    func testSaveLoadRoundTripAndRebuildIsIdentical() throws {
        let folder = try TestPaths.temporaryDirectory("data-store")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try DatasetStore(database: try Database(path: folder + "/persona.db"))
        let built = try dataset { $0.maxTokens = 400; $0.imitate = .them }
        try store.save(built)
        let loaded = try store.load("chats")
        XCTAssertEqual(loaded.chunks, built.chunks)
        XCTAssertEqual(loaded.parameters, built.parameters)
        XCTAssertEqual(loaded.report, built.report)
        XCTAssertEqual(loaded.formatVersion, 1)
        XCTAssertEqual(try store.list().map(\.name), ["chats"])
        // Same parameters, same messages, same tokenizer: the same dataset.
        let rebuilt = try dataset { $0.maxTokens = 400; $0.imitate = .them }
        try store.save(rebuilt)
        XCTAssertEqual(try store.load("chats").chunks, loaded.chunks)
        XCTAssertEqual(try store.list().count, 1)
        XCTAssertThrowsError(try store.load("nope")) { XCTAssertEqual($0 as? DataError, .noSuchDataset(name: "nope")) }
        // A damaged mask blob is reported, not trusted.
        try store.database.run("UPDATE data_chunks SET mask = x'01' WHERE idx = 3")
        XCTAssertThrowsError(try store.load("chats")) { error in
            guard case DataError.corruptDataset(_, let reason)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.hasPrefix("chunk 3: mask has 1 entries"), reason)
        }
    }

    func parseLines(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            return try XCTUnwrap(object as? [String: Any])
        }
    }

    func testExportShapes() throws {
        let folder = try TestPaths.temporaryDirectory("data-export")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let text = try dataset { $0.maxTokens = 400 }
        let chat = try dataset { $0.maxTokens = 600; $0.format = .chat; $0.imitate = .them }

        // TRL prompt/completion for text formats: the prompt is the header, prompt + completion the chunk.
        let written = try DatasetExporter.export(text, format: .trl, to: folder + "/trl.jsonl")
        XCTAssertEqual(written.map(\.path), [folder + "/trl.train.jsonl", folder + "/trl.test.jsonl"])
        XCTAssertEqual(written.map(\.lines), [text.chunks(split: .train).count, text.chunks(split: .test).count])
        let trl = try parseLines(folder + "/trl.train.jsonl")
        XCTAssertEqual(trl.count, text.chunks(split: .train).count)
        for (object, chunk) in zip(trl, text.chunks(split: .train)) {
            XCTAssertEqual(Set(object.keys), ["prompt", "completion"])
            XCTAssertEqual((object["prompt"] as? String ?? "") + (object["completion"] as? String ?? ""), chunk.text)
            XCTAssertTrue((object["prompt"] as? String ?? "").hasPrefix("<<SYS>>"))
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/trl.train.jsonl")
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)

        // TRL and mlx conversational: system first, then user/assistant with the imitated person as assistant.
        try DatasetExporter.export(chat, format: .trl, to: folder + "/chat.jsonl")
        let messages = try parseLines(folder + "/chat.train.jsonl")
        for (object, chunk) in zip(messages, chat.chunks(split: .train)) {
            XCTAssertEqual(Array(object.keys), ["messages"])
            let list = try XCTUnwrap(object["messages"] as? [[String: String]])
            XCTAssertEqual(list.first?["role"], "system")
            XCTAssertTrue(list.first?["content"]?.hasPrefix("A text conversation between Ed and \(chunk.personName) on ") == true)
            XCTAssertEqual(list.count, chunk.turns.count + 1)
            for (message, turn) in zip(list.dropFirst(), chunk.turns) {
                XCTAssertEqual(message["role"], turn.fromMe ? "user" : "assistant")
                XCTAssertEqual(message["content"], turn.text)
            }
        }

        // mlx-lm into a folder: train.jsonl and valid.jsonl with {"text"}.
        let mlxFolder = folder + "/mlx/"
        try DatasetExporter.export(text, format: .mlx, to: mlxFolder)
        let train = try parseLines(mlxFolder + "train.jsonl")
        let valid = try parseLines(mlxFolder + "valid.jsonl")
        XCTAssertEqual(train.count + valid.count, text.chunks.count)
        XCTAssertEqual(train.first?["text"] as? String, text.chunks(split: .train).first?.text)
        XCTAssertEqual(valid.first?["text"] as? String, text.chunks(split: .test).first?.text)

        try DatasetExporter.export(text, format: .text, to: folder + "/plain.jsonl")
        XCTAssertEqual(try parseLines(folder + "/plain.test.jsonl").map { $0["text"] as? String }, text.chunks(split: .test).map(\.text))
    }

    func testStatistics() throws {
        let d = try dataset { $0.maxTokens = 400 }
        let stats = DatasetStatistics(d)
        XCTAssertEqual(stats.rows.map(\.person), ["Alice", "Alice", "Bob", "Bob"])
        XCTAssertEqual(stats.rows.map(\.split), [.train, .test, .train, .test])
        XCTAssertEqual(stats.rows.reduce(0) { $0 + $1.chunks }, d.chunks.count)
        XCTAssertEqual(stats.rows.reduce(0) { $0 + $1.tokens }, d.tokenCount)
        XCTAssertEqual(stats.rows.reduce(0) { $0 + $1.messages }, 210)
        XCTAssertEqual(stats.rows.filter { $0.split == .test }.map(\.messages), [30, 23])
        XCTAssertEqual(stats.messagesPerChunk.values.reduce(0, +), d.chunks.count)
        XCTAssertEqual(stats.messagesInBothSplits, 0)
    }
}
