import Foundation
import XCTest
@testable import PersonaText

/// PatternSplitter against Hugging Face tokenizers' own regex Split (Tests/Fixtures/PersonaText/pretokenizer-cases.json,
/// made by make_pretokenizer_cases.py there).
final class PreTokenizerTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/PersonaText/pretokenizer-cases.json").path

    func split(_ text: String, _ splitter: some PreTokenizer) -> [String] {
        var text = text
        return text.withUTF8 { buffer in
            var pieces: [Range<Int>] = []
            splitter.split(UTF8Text(bytes: buffer), 0..<buffer.count, into: &pieces)
            return pieces.map { String(decoding: UnsafeBufferPointer(rebasing: buffer[$0]), as: UTF8.self) }
        }
    }

    func testPatternsMatchHuggingFaceRegexSplit() throws {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: Self.fixture), "missing \(Self.fixture)")
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 250)
        var failures: [String] = []
        for c in cases {
            let text = try XCTUnwrap(c["text"] as? String)
            for pattern in [PatternSplitter.Pattern.gpt2, .llama3, .qwen2] {
                let expected = try XCTUnwrap(c[pattern.rawValue] as? [String])
                let got = split(text, PatternSplitter(pattern: pattern))
                if got != expected { failures.append("\(pattern) \(text.debugDescription): expected \(expected), got \(got)") }
            }
        }
        XCTAssert(failures.isEmpty, "\(failures.count) splits differ:\n" + failures.prefix(15).joined(separator: "\n"))
    }

    /// The fused digits + GPT-2 splitter against the two stages run one after the other.
    func testFusedSmolLMSplitEqualsDigitsThenPattern() throws {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: Self.fixture))
        let cases = try XCTUnwrap((JSONSerialization.jsonObject(with: data) as? [String: Any])?["cases"] as? [[String: Any]])
        let texts = cases.compactMap { $0["text"] as? String } + ["a 1", "at  5pm", "x\n\n2", " ½ ² ٣x"]
        for text in texts {
            XCTAssertEqual(split(text, ByteLevelPreTokenization.smollm.preTokenizer), split(text, ByteLevelPreTokenization.smollm.stages), text)
        }
    }

    func testDigitsThenGPT2IsSmolLMSplit() {
        let chain = ByteLevelPreTokenization.smollm.preTokenizer
        XCTAssertEqual(split("at 12:30pm", chain), ["at", " ", "1", "2", ":", "3", "0", "pm"])
        XCTAssertEqual(split("Q3 2024", chain), ["Q", "3", " ", "2", "0", "2", "4"])
        XCTAssertEqual(split("", chain), [])
    }

    func testSplitCoversTheInputExactly() {
        var rng = SplitMix(seed: 7)
        let alphabet = Array("aZ09 \t\n\r'sll.,!é😀日\u{a0}\u{3000}٣-_")
        for _ in 0..<300 {
            let text = String((0..<Int(rng.next() % 40)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            for pattern in [PatternSplitter.Pattern.gpt2, .llama3, .qwen2] {
                let pieces = split(text, PatternSplitter(pattern: pattern))
                XCTAssertEqual(pieces.joined(), text)
                XCTAssertFalse(pieces.contains(""), "\(pattern) made an empty piece of \(text.debugDescription)")
            }
        }
    }
}

/// A tiny deterministic generator for test inputs.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
