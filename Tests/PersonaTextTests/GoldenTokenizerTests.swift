import Foundation
import XCTest
import PersonaTensor
import PersonaTestSupport
@testable import PersonaText

/// The default model's tokenizer, loaded once for the tests that need it.
enum DefaultModelTokenizer {
    static let shared: Result<Tokenizer, Error> = Result {
        try loadTokenizer(gguf: GGUFFile(path: TestPaths.defaultModel))
    }
    static func get() throws -> Tokenizer { try shared.get() }
}

struct TokenizerCase {
    let id: String
    let category: String
    let text: String
    let ids: [Int32]
    let tokens: [String]
    let decoded: String

    static func loadAll() throws -> [TokenizerCase] {
        let path = try TestPaths.golden("tokenizer-cases.jsonl")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var cases: [TokenizerCase] = []
        for line in text.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            if object["_meta"] != nil { continue }
            guard let id = object["id"] as? String, let t = object["text"] as? String, let ids = object["ids"] as? [Int],
                  let tokens = object["tokens"] as? [String], let decoded = object["decoded"] as? String else {
                throw TextError.invalid("\(path): a case lacks id, text, ids, tokens or decoded")
            }
            cases.append(TokenizerCase(id: id, category: object["category"] as? String ?? "", text: t,
                                       ids: ids.map { Int32($0) }, tokens: tokens, decoded: decoded))
        }
        return cases
    }
}

final class GoldenTokenizerTests: XCTestCase {
    /// Every case of tokenizer-cases.jsonl: ids exactly, tokens' text, and decode back to the text.
    func testAllGoldenCasesFromGGUF() throws {
        let tokenizer = try DefaultModelTokenizer.get()
        let cases = try TokenizerCase.loadAll()
        XCTAssertEqual(cases.count, 291)
        var failures: [String] = []
        for c in cases {
            let ids = tokenizer.encode(c.text, parseSpecialTokens: true)
            if ids != c.ids {
                let got = ids.map { tokenizer.tokenText($0) ?? "?" }
                failures.append("\(c.id) [\(c.category)] \(c.text.debugDescription): expected \(c.tokens) \(c.ids), got \(got) \(ids)")
                continue
            }
            XCTAssertEqual(ids.map { tokenizer.tokenText($0) ?? "?" }, c.tokens, c.id)
            XCTAssertEqual(tokenizer.decode(ids), c.decoded, c.id)
            XCTAssertEqual(tokenizer.decode(ids), c.text, "\(c.id) round trip")
        }
        XCTAssert(failures.isEmpty, "\(failures.count) of \(cases.count) cases differ:\n" + failures.prefix(20).joined(separator: "\n"))
    }
}
