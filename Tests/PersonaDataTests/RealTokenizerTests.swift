import Foundation
import PersonaTensor
import PersonaTestSupport
import PersonaText
import XCTest
@testable import PersonaData

/// Checks against the default model's own tokenizer (SmolLM2, byte-level BPE).
final class RealTokenizerTests: XCTestCase {
    nonisolated(unsafe) static var tokenizer: Tokenizer?

    func smolTokenizer() throws -> Tokenizer {
        if let t = Self.tokenizer { return t }
        let t = try loadTokenizer(gguf: GGUFFile(path: TestPaths.defaultModel))
        Self.tokenizer = t
        return t
    }

    func testChunksAreExactAndMasksFollowLines() throws {
        let tokenizer = try smolTokenizer()
        let conversations = (1...3).map { Fixtures.conversation(id: Int64($0), them: "Zoë\($0)", count: 200, longEvery: 40) }
        for format in [ChunkFormatName.donner, .transcript, .chat] {
            var p = DatasetParameters()
            p.minMessages = 1
            p.format = format
            p.imitate = .them
            let d = try DatasetBuilder.build(name: "s", conversations: conversations, parameters: p, tokenizer: tokenizer)
            XCTAssertGreaterThan(d.report.splitMessages, 0)
            for chunk in d.chunks {
                XCTAssertLessThanOrEqual(chunk.tokens.count, 200)
                XCTAssertEqual(chunk.mask.count, chunk.tokens.count)
                XCTAssertEqual(tokenizer.decode(chunk.tokens), chunk.text)
                if format != .chat {
                    XCTAssertEqual(chunk.tokens, tokenizer.encode(chunk.text, parseSpecialTokens: false), "chunk \(chunk.id)")
                } else {
                    XCTAssertEqual(chunk.tokens, tokenizer.encode(chunk.text, parseSpecialTokens: true), "chunk \(chunk.id)")
                }
                // The counted tokens decode to exactly the imitated person's turns.
                let counted = tokenizer.decode(zip(chunk.tokens, chunk.mask).filter { $0.1 }.map { $0.0 })
                let expected = chunk.turns.filter(\.counted).map { turn -> String in
                    switch format {
                    case .donner: return "### \(turn.name): \(turn.text)\n"
                    case .chat: return turn.text + "<|im_end|>"
                    default: return "\(turn.name): \(turn.text)\n"
                    }
                }.joined()
                XCTAssertEqual(counted, expected, "format \(format) chunk \(chunk.id)")
            }
        }
    }
}
