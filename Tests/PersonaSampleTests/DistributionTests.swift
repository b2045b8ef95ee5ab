import XCTest
import PersonaCore
@testable import PersonaSample

/// Each sampler on fixed logits with a fixed seed: the frequencies of 20,000 draws must match
/// the distribution worked out by hand. Tolerance: 0.015 absolute per token, more than four
/// standard errors (√(p(1−p)/20000) ≤ 0.0036), so with a fixed seed a pass is not luck and a
/// wrong distribution (any error ≥ 0.02) fails.
final class DistributionTests: XCTestCase {
    /// softmax = [0.60946, 0.22421, 0.13599, 0.03034]
    let logits: [Float] = [2.0, 1.0, 0.5, -1.0]
    let draws = 20_000
    let tolerance = 0.015

    func check(_ assignments: [String: String], _ expected: [Double], file: StaticString = #filePath, line: UInt = #line) throws {
        let got = try frequencies(logits, settings(assignments), draws: draws, seed: 1234)
        for i in expected.indices {
            XCTAssertEqual(got[i], expected[i], accuracy: tolerance, "token \(i) with \(assignments): \(got)", file: file, line: line)
            if expected[i] == 0 { XCTAssertEqual(got[i], 0, "token \(i) must never be drawn", file: file, line: line) }
        }
    }

    func testPlainSoftmax() throws { try check([:], [0.60946, 0.22421, 0.13599, 0.03034]) }

    func testTemperature() throws {
        // logits/2 = [1, 0.5, 0.25, -0.5]
        try check(["temperature": "2"], [0.43440, 0.26348, 0.20520, 0.09693])
    }

    func testTopK() throws { try check(["top_k": "2"], [0.73106, 0.26894, 0, 0]) }

    func testTopP() throws {
        // Cumulative 0.609, 0.834 ≥ 0.8: two tokens.
        try check(["top_p": "0.8"], [0.73106, 0.26894, 0, 0])
        try check(["top_p": "0.5"], [1, 0, 0, 0])
    }

    func testMinP() throws {
        // 0.2 · 0.609 = 0.122: token 3 (0.030) goes.
        try check(["min_p": "0.2"], [0.62853, 0.23122, 0.14024, 0])
    }

    func testTypicalP() throws {
        // Entropy 1.0144; |−log p − H| = [0.519, 0.481, 0.981, 2.481]: token 1 is the most
        // typical, so mass 0.2 keeps token 1 alone; 0.9 keeps 1, 0, 2 (0.224 + 0.609 < 0.9).
        try check(["typical_p": "0.2"], [0, 1, 0, 0])
        try check(["typical_p": "0.9"], [0.62853, 0.23122, 0.14024, 0])
    }

    func testChainInOrder() throws {
        // temperature 2 → top_k 3 → top_p 0.8: exp([1, .5, .25]) normalised = [0.481, 0.292, 0.227];
        // cumulative 0.481, 0.773 < 0.8, so all three stay.
        try check(["temperature": "2", "top_k": "3", "top_p": "0.8"], [0.48102, 0.29176, 0.22722, 0])
        // The order matters: top_p 0.8 before temperature would have kept two tokens.
    }

    func testGreedyAndTemperatureZero() throws {
        try check(["mode": "greedy"], [1, 0, 0, 0])
        try check(["temperature": "0"], [1, 0, 0, 0])
        // Greedy applies penalties: token 0 seen, penalty 4 → 0.5, token 1 wins.
        let got = try frequencies(logits, settings(["mode": "greedy", "repetition_penalty": "4"]), draws: 10, seed: 1,
                                  history: TokenHistory(prompt: [0]))
        XCTAssertEqual(got, [0, 1, 0, 0])
    }

    func testSameSeedSameDraws() throws {
        let s = try settings(["temperature": "1.3", "top_p": "0.95"])
        XCTAssertEqual(try frequencies(logits, s, draws: 500, seed: 99), try frequencies(logits, s, draws: 500, seed: 99))
        XCTAssertNotEqual(try frequencies(logits, s, draws: 500, seed: 99), try frequencies(logits, s, draws: 500, seed: 100))
    }

    /// The whole-vocabulary paths (no top_k first) against a direct computation in Double.
    func testWholeVocabularyTruncationMatchesReference() throws {
        var rng = SeededGenerator(seed: 8)
        let n = 5000
        let big = (0..<n).map { _ in Float(rng.nextGaussian() * 2.5) }
        let top = Double(big.max()!)
        let p = big.map { Foundation.exp(Double($0) - top) }
        let total = p.reduce(0, +)
        let probs = p.map { $0 / total }
        let order = (0..<n).sorted { big[$0] > big[$1] || (big[$0] == big[$1] && $0 < $1) }

        func kept(_ assignments: [String: String]) throws -> Set<Int> {
            let out = try processed(big, settings(assignments), history: TokenHistory(prompt: []))
            return Set((0..<n).filter { out[$0] > -.infinity })
        }
        // top_p 0.9
        var cumulative = 0.0, expected = Set<Int>()
        for i in order { expected.insert(i); cumulative += probs[i]; if cumulative >= 0.9 { break } }
        XCTAssertEqual(try kept(["top_p": "0.9"]), expected)
        // min_p 0.05
        let maxP = probs.max()!
        XCTAssertEqual(try kept(["min_p": "0.05"]), Set((0..<n).filter { probs[$0] >= 0.05 * maxP }))
        // typical_p 0.7
        let entropy = -probs.reduce(0) { $0 + ($1 > 0 ? $1 * Foundation.log($1) : 0) }
        let byTypicality = (0..<n).sorted {
            let a = abs(-Foundation.log(probs[$0]) - entropy), b = abs(-Foundation.log(probs[$1]) - entropy)
            return a < b || (a == b && $0 < $1)
        }
        cumulative = 0; expected = []
        for i in byTypicality { expected.insert(i); cumulative += probs[i]; if cumulative >= 0.7 { break } }
        let typical = try kept(["typical_p": "0.7"])
        // Float rounding may move the boundary by a token at most.
        XCTAssertLessThanOrEqual(typical.symmetricDifference(expected).count, 1, "typical_p kept \(typical.count), expected \(expected.count)")
        // top_k 50 then top_p 0.5 on the survivors, renormalised over the 50.
        let top50 = Array(order.prefix(50))
        let mass50 = top50.reduce(0.0) { $0 + probs[$1] }
        cumulative = 0; expected = []
        for i in top50 { expected.insert(i); cumulative += probs[i] / mass50; if cumulative >= 0.5 { break } }
        XCTAssertEqual(try kept(["top_k": "50", "top_p": "0.5"]), expected)
    }

    func testWholeVocabularySamplingDistribution() throws {
        // 300 tokens, no truncation: the draw walks the whole buffer. Compare the share of the
        // five most probable tokens and the mean id against the exact values.
        var rng = SeededGenerator(seed: 21)
        let n = 300
        let big = (0..<n).map { _ in Float(rng.nextGaussian() * 1.5) }
        let top = Double(big.max()!)
        let weights = big.map { Foundation.exp(Double($0) - top) }
        let total = weights.reduce(0, +)
        let got = try frequencies(big, SamplerSettings(), draws: draws, seed: 5)
        for i in (0..<n).sorted(by: { weights[$0] > weights[$1] }).prefix(5) {
            XCTAssertEqual(got[i], weights[i] / total, accuracy: tolerance, "token \(i)")
        }
    }
}
