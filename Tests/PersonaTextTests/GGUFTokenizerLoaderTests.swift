import Foundation
import XCTest
import PersonaTensor
import PersonaTestSupport
@testable import PersonaText

/// Tokenizers from small GGUF files written for the tests.
final class GGUFTokenizerLoaderTests: XCTestCase {
    func writeGGUF(_ metadata: [(String, GGUFValue)]) throws -> (GGUFFile, String) {
        var writer = GGUFWriter()
        for (key, value) in metadata { writer.add(key, value) }
        let dir = try TestPaths.temporaryDirectory("gguf-tok")
        let path = dir + "/tok.gguf"
        try writer.write(to: path)
        return (try GGUFFile(path: path), dir)
    }

    func strings(_ items: [String]) -> GGUFValue { .array(items.map { .string($0) }) }

    func testSentencePieceFromGGUFScores() throws {
        let v = TokenizerBehaviourTests.sentencePieceVocabulary()
        let (gguf, dir) = try writeGGUF([
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", strings(v.tokens)),
            ("tokenizer.ggml.scores", .array(v.scores.map { .float32($0) })),
            ("tokenizer.ggml.token_type", .array(v.types.map { .int32(Int32($0.rawValue)) })),
            ("tokenizer.ggml.bos_token_id", .uint32(1)), ("tokenizer.ggml.eos_token_id", .uint32(2)),
            ("tokenizer.ggml.unknown_token_id", .uint32(0)),
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try loadTokenizer(gguf: gguf)
        XCTAssertTrue(t is SentencePieceTokenizer)
        XCTAssertEqual(t.encode("hello world", parseSpecialTokens: true).map { t.tokenText($0) ?? "?" }, ["▁hello", "▁wor", "ld"])
        XCTAssertEqual(t.specialTokenIds, SpecialTokenIds(bos: 1, eos: 2, unknown: 0, padding: nil, addsBOS: true))
        XCTAssertTrue(t.decodeStripsLeadingSpace)
    }

    func testByteLevelFromGGUFWithHandBuiltMerges() throws {
        // Bytes of "hello" and "Ġ" plus merges h+e, l+l, he+ll, hell+o, Ġ+hello.
        var tokens = ["<|end|>"]
        for b in 0..<256 { tokens.append(ByteLevelAlphabet.text(of: [UInt8(b)])) }
        tokens += ["he", "ll", "hell", "hello", "Ġhello"]
        var types = [Int32](repeating: 1, count: tokens.count)
        types[0] = 3
        let (gguf, dir) = try writeGGUF([
            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("gpt-2")),
            ("tokenizer.ggml.tokens", strings(tokens)), ("tokenizer.ggml.token_type", .array(types.map { .int32($0) })),
            ("tokenizer.ggml.merges", strings(["h e", "l l", "he ll", "hell o", "Ġ hello"])),
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try loadTokenizer(gguf: gguf)
        let ids = t.encode("hello hello<|end|>!", parseSpecialTokens: true)
        XCTAssertEqual(ids.map { t.tokenText($0) ?? "?" }, ["hello", "Ġhello", "<|end|>", "!"])
        XCTAssertEqual(t.decode(ids), "hello hello<|end|>!")
        XCTAssertEqual(t.encode("<|end|>", parseSpecialTokens: false).map { t.tokenText($0) ?? "?" }, ["<|", "e", "n", "d", "|>"].flatMap { $0.map(String.init) })
    }

    /// Llama 3 (`llama-bpe`) ignores merges for a piece that is itself a vocabulary entry.
    func testLlama3IgnoresMergesForWholeWords() throws {
        var tokens: [String] = []
        for b in 0..<256 { tokens.append(ByteLevelAlphabet.text(of: [UInt8(b)])) }
        tokens += ["ab", "abc"]  // "abc" has no merge path: only a+b merges
        for (pre, expected) in [("llama-bpe", ["abc"]), ("gpt-2", ["ab", "c"])] {
            let (gguf, dir) = try writeGGUF([
                ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string(pre)),
                ("tokenizer.ggml.tokens", strings(tokens)), ("tokenizer.ggml.merges", strings(["a b"])),
            ])
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let t = try loadTokenizer(gguf: gguf)
            XCTAssertEqual(t.encode("abc", parseSpecialTokens: true).map { t.tokenText($0) ?? "?" }, expected, pre)
        }
    }

    func testUnsupportedAndMalformedTokenizerMetadataIsNamed() throws {
        func message(_ metadata: [(String, GGUFValue)]) throws -> String {
            let (gguf, dir) = try writeGGUF(metadata)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            do { _ = try loadTokenizer(gguf: gguf); return "(loaded)" } catch let error as TextError { return error.message }
        }
        let base: [(String, GGUFValue)] = [("tokenizer.ggml.tokens", strings(["a", "b", "ab"])), ("tokenizer.ggml.merges", strings(["a b"]))]
        XCTAssertTrue(try message(base + [("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("jais"))]).contains("'jais'"))
        XCTAssertTrue(try message(base + [("tokenizer.ggml.model", .string("bert"))]).contains("'bert'"))
        XCTAssertTrue(try message(base).contains("tokenizer.ggml.model"))
        XCTAssertTrue(try message(base + [("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("gpt-2")),
                                         ("tokenizer.ggml.token_type", .array([.int32(1)]))]).contains("token_type"))
        XCTAssertTrue(try message(base + [("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("gpt-2")),
                                         ("tokenizer.ggml.eos_token_id", .uint32(99))]).contains("outside the vocabulary"))
        XCTAssertTrue(try message([("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("gpt-2")),
                                   ("tokenizer.ggml.tokens", strings(["a", "b"])), ("tokenizer.ggml.merges", strings(["ab"]))]).contains("merge 0"))
        XCTAssertTrue(try message([("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", strings(["a"]))]).contains("scores"))
    }
}
