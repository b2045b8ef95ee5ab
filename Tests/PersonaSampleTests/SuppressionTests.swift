import XCTest
import PersonaCore
@testable import PersonaSample

final class SuppressionTests: XCTestCase {
    // A tokenizer where "http" has many spellings.
    let words = ["h", "t", "p", "ht", "tp", "ttp", "http", "s", ":", "/", " ", "a", "hat", "x", " ht", "tps", "HT", "pt"]
    lazy var vocabulary = TokenByteTable(ListVocabulary(words))
    func id(_ w: String) -> Int32 { Int32(words.firstIndex(of: w)!) }

    func banned(after generated: [String], _ assignments: [String: String] = ["suppress": "http"]) throws -> Set<String> {
        let logits = [Float](repeating: 0, count: words.count)
        let history = TokenHistory(tokens: [id("x")] + generated.map(id), promptCount: 1)
        let out = try processed(logits, settings(assignments), history: history, vocabulary: vocabulary)
        return Set(words.indices.filter { out[$0] == -.infinity }.map { words[$0] })
    }

    func testEverySpellingOfABannedStringIsBanned() throws {
        // At the start only tokens that hold "http" whole.
        XCTAssertEqual(try banned(after: []), ["http"])
        // After "h": whatever completes "ttp".
        XCTAssertEqual(try banned(after: ["h"]), ["http", "ttp"])
        // After "ht" (one token or two, any case): "tp", "tps".
        XCTAssertEqual(try banned(after: ["ht"]), ["http", "tp", "tps"])
        XCTAssertEqual(try banned(after: ["h", "t"]), ["http", "tp", "tps"])
        XCTAssertEqual(try banned(after: ["HT"]), ["http", "tp", "tps"])
        XCTAssertEqual(try banned(after: ["a", " ht"]), ["http", "tp", "tps"])
        // After "htt": "p" and anything starting with p.
        XCTAssertEqual(try banned(after: ["ht", "t"]), ["http", "p", "pt"])
        // A break in the spelling resets the match.
        XCTAssertEqual(try banned(after: ["ht", "a"]), ["http"])
        // "hat" ends with nothing "http" starts with.
        XCTAssertEqual(try banned(after: ["hat"]), ["http"])
    }

    func testSeveralStringsAndSingleTokens() throws {
        XCTAssertEqual(try banned(after: ["h"], ["suppress": "http,hat", "suppress_tokens": "13"]), ["http", "ttp", "hat", "x"])
    }

    /// Brute force: a token is banned when the generated text plus its bytes holds a banned
    /// string that the text alone did not.
    func testMatchesBruteForceOnRandomTexts() throws {
        var rng = SeededGenerator(seed: 4)
        let banned = ["http", "tpt", "aa"]
        for _ in 0..<300 {
            let length = Int(rng.next() % 6)
            var generated: [Int32] = []
            var text: [UInt8] = []
            // Random texts that do not yet contain a banned string.
            while generated.count < length {
                let t = Int32(rng.next() % UInt64(words.count))
                let candidate = text + Array(words[Int(t)].utf8)
                if banned.contains(where: { containsFolded(candidate, $0) }) { continue }
                generated.append(t); text = candidate
            }
            let logits = [Float](repeating: 0, count: words.count)
            let out = try processed(logits, settings(["suppress": banned.joined(separator: ",")]),
                                    history: TokenHistory(tokens: generated, promptCount: 0), vocabulary: vocabulary)
            for t in words.indices {
                let expected = banned.contains { containsFolded(text + Array(words[t].utf8), $0) }
                XCTAssertEqual(out[t] == -.infinity, expected, "after \(String(decoding: text, as: UTF8.self)) token \(words[t])")
            }
        }
    }

    func containsFolded(_ bytes: [UInt8], _ pattern: String) -> Bool {
        String(decoding: bytes, as: UTF8.self).lowercased().contains(pattern.lowercased())
    }

    func testGenerationNeverSpellsABannedString() throws {
        // A toy model that loves the letters of "http".
        let model = ToyModel(vocabularySize: words.count, salt: 3)
        for w in ["h", "t", "p", "ht", "tp", "ttp", "http"] { model.bias[Int(id(w))] = 4 }
        let sampler = try Sampler(settings: settings(["suppress": "http", "max_tokens": "40", "n": "4"]),
                                  vocabularySize: words.count, vocabulary: vocabulary)
        var rng = SeededGenerator(seed: 77)
        var sawPartial = false
        for _ in 0..<20 {
            for c in try sampler.generate(source: model, prompt: [id("x")], endTokens: [], rng: &rng) {
                XCTAssertFalse(c.text.lowercased().contains("http"), c.text)
                if c.text.contains("htt") { sawPartial = true }
            }
        }
        // The model did try: it got as far as "htt" and was turned away.
        XCTAssertTrue(sawPartial)
    }

    func testNamedSets() throws {
        let vocab = TokenByteTable(ListVocabulary(["Liked", " “", " \"", "a", "555", "-", "1234", "12", " ", "(", ")", "www", ".", "http", "s", "://"]))
        let logits = [Float](repeating: 0, count: vocab.count)
        func bannedTexts(_ generated: [Int32], _ set: String) throws -> Set<String> {
            let out = try processed(logits, settings(["suppress_sets": set]), history: TokenHistory(tokens: generated, promptCount: 0), vocabulary: vocab)
            return Set((0..<vocab.count).filter { out[$0] == -.infinity }.map { String(decoding: vocab.bytes(of: Int32($0)), as: UTF8.self) })
        }
        XCTAssertEqual(try bannedTexts([0], "reactions"), [" “", " \""])
        XCTAssertEqual(try bannedTexts([3], "reactions"), [])
        // "(555) 12" holds 5 digits; "1234" would make 9.
        XCTAssertEqual(try bannedTexts([9, 4, 10, 8, 7], "phone numbers"), ["1234"])
        XCTAssertEqual(try bannedTexts([4, 5], "phone numbers"), [])
        XCTAssertEqual(try bannedTexts([11], "urls"), [".", "://"])
        XCTAssertEqual(try bannedTexts([13, 14], "urls"), ["://"])
        XCTAssertThrowsError(try settings(["suppress_sets": "emails"]))
    }

    func testStringSuppressionWithoutVocabularyIsAnError() {
        XCTAssertThrowsError(try SamplerChain(settings: settings(["suppress": "http"]), vocabularySize: 10)) { error in
            XCTAssertEqual(error as? SampleError, .needsVocabulary("suppress and suppress_sets"))
        }
    }
}
