import Foundation
import PersonaCore
import XCTest
@testable import PersonaData

final class BuildSpeedProbe: XCTestCase {
    func testProbeSpeed() throws {
        guard ProcessInfo.processInfo.environment["PERSONA_DATA_PROBE"] != nil else { throw XCTSkip("probe only") }
        guard let tokenizer = RealTokenizerTests.tokenizer else { throw XCTSkip("no model") }
        let conversations = SyntheticConversations.make(messages: 250_000)
        var p = DatasetParameters()
        for threads in [1, 2] {
            let t0 = monotonicSeconds()
            let d = try DatasetBuilder.build(name: "b", conversations: conversations, parameters: p, tokenizer: tokenizer, threads: threads)
            print("threads \(threads): \(monotonicSeconds() - t0) s, chunks \(d.chunks.count) tokens \(d.tokenCount) slow \(d.report.slowAlignments) joined \(d.report.joinedEncodes) \(d.report.joinedTokens) split \(d.report.splitMessages) used \(d.report.messagesUsed)")
        }
        let d = try DatasetBuilder.build(name: "b", conversations: conversations, parameters: p, tokenizer: tokenizer, threads: 1)
        var t0 = monotonicSeconds()
        var n = 0
        for c in conversations { for m in c.messages { n += tokenizer.encode("### \(m.senderName): \(m.text)\n", parseSpecialTokens: false).count } }
        print("pieces only: \(monotonicSeconds() - t0) s, \(n) tokens")
        t0 = monotonicSeconds()
        n = 0
        for c in d.chunks { n += tokenizer.encode(c.text, parseSpecialTokens: false).count }
        print("chunks only: \(monotonicSeconds() - t0) s, \(n) tokens")
        t0 = monotonicSeconds()
        for c in d.chunks { n += tokenizer.decode(c.tokens).count }
        print("decode chunks: \(monotonicSeconds() - t0) s")
        p.maxTokens = 200
    }
}
