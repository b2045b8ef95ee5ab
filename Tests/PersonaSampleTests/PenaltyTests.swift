import XCTest
import PersonaCore
@testable import PersonaSample

/// The penalties' arithmetic on four tokens, computed by hand.
final class PenaltyTests: XCTestCase {
    let logits: [Float] = [2.0, -1.0, 0.5, -0.5]
    /// prompt [0, 1], generated [1, 3, 1]
    let history = TokenHistory(tokens: [0, 1, 1, 3, 1], promptCount: 2)

    func testRepetitionPenaltyDividesPositiveAndMultipliesNegative() throws {
        // Seen tokens {0, 1, 3}: 2/2, -1·2, 0.5 untouched, -0.5·2; once each however often seen.
        XCTAssertEqual(try processed(logits, settings(["repetition_penalty": "2"]), history: history), [1.0, -2.0, 0.5, -1.0])
        // Window of 2: only tokens 3 and 1.
        XCTAssertEqual(try processed(logits, settings(["repetition_penalty": "2", "penalty_window": "2"]), history: history),
                       [2.0, -2.0, 0.5, -1.0])
    }

    func testFrequencyAndPresencePenaltiesCountGeneratedTokensOnly() throws {
        // Generated counts: token 1 twice, token 3 once (the prompt's 0 and 1 do not count).
        // 1: -1 - (2·0.5 + 0.25) = -2.25; 3: -0.5 - (1·0.5 + 0.25) = -1.25.
        XCTAssertEqual(try processed(logits, settings(["frequency_penalty": "0.5", "presence_penalty": "0.25"]), history: history),
                       [2.0, -2.25, 0.5, -1.25])
    }

    func testLogitBiasAdds() throws {
        XCTAssertEqual(try processed(logits, settings(["logit_bias": "2:3,0:-1"]), history: history), [1.0, -1.0, 3.5, -0.5])
        XCTAssertThrowsError(try processed(logits, settings(["logit_bias": "9:1"]), history: history)) { error in
            XCTAssertEqual(error as? SampleError, .tokenOutOfRange(key: "logit_bias", id: 9, vocabularySize: 4))
        }
    }

    func testNoRepeatNGramBansCompletions() throws {
        // History 0 1 1 3 1, last token 1: bigrams (1,1) and (1,3) exist, so 1 and 3 are banned.
        XCTAssertEqual(try processed(logits, settings(["no_repeat_ngram_size": "2"]), history: history),
                       [2.0, -.infinity, 0.5, -.infinity])
        // Trigrams: tail (3, 1) never occurred before, nothing banned.
        XCTAssertEqual(try processed(logits, settings(["no_repeat_ngram_size": "3"]), history: history), logits)
        // Unigrams: every token that occurred.
        XCTAssertEqual(try processed(logits, settings(["no_repeat_ngram_size": "1"]), history: history),
                       [-.infinity, -.infinity, 0.5, -.infinity])
    }

    func testDryPenalisesContinuingARepeatedSequence() throws {
        // 0 1 2 3 0 1 2: the tail "0 1 2" occurred before, followed by 3: length 3, so
        // 3 loses 0.8 · 1.75^(3-2) = 1.4.
        let h = TokenHistory(tokens: [0, 1, 2, 3, 0, 1, 2], promptCount: 7)
        let out = try processed(logits, settings(["dry_multiplier": "0.8", "dry_base": "1.75", "dry_allowed_length": "2"]), history: h)
        XCTAssertEqual(out[0], 2.0); XCTAssertEqual(out[1], -1.0); XCTAssertEqual(out[2], 0.5)
        XCTAssertEqual(out[3], -1.9, accuracy: 1e-6)
        // Allowed length 4: a repeat of 3 is free.
        XCTAssertEqual(try processed(logits, settings(["dry_multiplier": "0.8", "dry_allowed_length": "4"]), history: h), logits)
        // With token 1 a sequence breaker (its text holds a newline), the repeated tail is only "2".
        let vocabulary = TokenByteTable(ListVocabulary(["a", "\n", "b", "c"]))
        XCTAssertEqual(try processed(logits, settings(["dry_multiplier": "0.8"]), history: h, vocabulary: vocabulary), logits)
    }

    /// text-generation-webui's DRY loop, the naive twin of the Z-function version.
    func naiveDry(_ h: [Int32], vocab: Int, breakers: Set<Int32>, multiplier: Float, base: Float, allowed: Int) -> [Float] {
        var penalty = [Float](repeating: 0, count: vocab)
        guard let last = h.last, !breakers.contains(last) else { return penalty }
        var longest: [Int32: Int] = [:]
        for i in 0..<(h.count - 1) where h[i] == last {
            let next = h[i + 1]
            if breakers.contains(next) { continue }
            var length = 1
            while true {
                let j = i - length
                if j < 0 { break }
                if breakers.contains(h[j]) { break }
                if h[j] != h[h.count - 1 - length] { break }
                length += 1
            }
            longest[next] = max(longest[next] ?? 0, length)
        }
        for (t, length) in longest where length >= allowed {
            penalty[Int(t)] = multiplier * Foundation.pow(base, Float(length - allowed))
        }
        return penalty
    }

    func testDryMatchesTheNaiveLoop() throws {
        var rng = SeededGenerator(seed: 17)
        let vocabulary = TokenByteTable(ListVocabulary(["a", "b", "\n", "c", "d"]))
        for trial in 0..<200 {
            let n = 2 + Int(rng.next() % 40)
            // Few symbols so that repeats are common.
            let h = (0..<n).map { _ in Int32(rng.next() % (trial % 2 == 0 ? 2 : 5)) }
            let zero = [Float](repeating: 0, count: 5)
            let got = try processed(zero, settings(["dry_multiplier": "0.5", "dry_base": "1.5", "dry_allowed_length": "2"]),
                                    history: TokenHistory(tokens: h, promptCount: 0), vocabulary: vocabulary)
            let expected = naiveDry(h, vocab: 5, breakers: [2], multiplier: 0.5, base: 1.5, allowed: 2).map { -$0 }
            XCTAssertTrue(compareFloats(got, expected, tolerance: 1e-4), "history \(h): \(got) vs \(expected)")
        }
    }

    func compareFloats(_ a: [Float], _ b: [Float], tolerance: Float) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    }

    func testLoopingHistoryCostsLinearTime() throws {
        // A 20,000-token loop: the naive extension would do ~10^8 steps; this stays fast.
        let h = (0..<20_000).map { Int32($0 % 3) }
        let zero = [Float](repeating: 0, count: 4)
        let start = monotonicSeconds()
        let out = try processed(zero, settings(["dry_multiplier": "1", "dry_allowed_length": "2"]), history: TokenHistory(tokens: h, promptCount: 0))
        XCTAssertLessThan(monotonicSeconds() - start, 2.0)
        // Continuing the loop (token 2 after ... 0 1) is penalised to the cap.
        XCTAssertLessThan(out[(20_000) % 3], -1000)
    }
}
