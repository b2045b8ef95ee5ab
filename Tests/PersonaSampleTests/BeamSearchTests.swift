import XCTest
import PersonaCore
@testable import PersonaSample

final class BeamSearchTests: XCTestCase {
    /// Every sequence of up to `maxTokens` tokens that ends with the end token, or reaches
    /// max_tokens without it, scored as beam search scores hypotheses.
    func exhaustiveBest(_ model: ToyModel, prompt: [Int32], end: Int32, maxTokens: Int, lengthPenalty: Double) -> (tokens: [Int32], score: Double) {
        var best: (tokens: [Int32], score: Double) = ([], -.infinity)
        func visit(_ tokens: [Int32], _ sum: Double) {
            for t in 0..<Int32(model.vocabularySize) {
                let s = sum + model.logProbability(of: t, after: prompt + tokens)
                if t == end {
                    let score = s / Foundation.pow(Double(tokens.count + 1), lengthPenalty)
                    if score > best.score { best = (tokens, score) }
                } else if tokens.count + 1 == maxTokens {
                    let score = s / Foundation.pow(Double(tokens.count + 1), lengthPenalty)
                    if score > best.score { best = (tokens + [t], score) }
                } else {
                    visit(tokens + [t], s)
                }
            }
        }
        visit([], 0)
        return best
    }

    func testWideBeamEqualsExhaustiveSearch() throws {
        // Vocabulary of 4 (token 3 ends), 4 tokens at most: 27 running beams at most, and
        // 108 extensions a step; 128 beams keep every one of them.
        for salt in [1, 2, 3, 5, 8] as [UInt64] {
            for lengthPenalty in ["1", "0", "2", "-0.5"] {
                let model = ToyModel(vocabularySize: 4, salt: salt)
                model.bias[3] = -1
                let sampler = try Sampler(settings: settings(["mode": "beam", "num_beams": "64", "max_tokens": "4",
                                                              "length_penalty": lengthPenalty, "early_stopping": "false"]),
                                          vocabularySize: 4)
                // 64 beams of 2·64 extensions are enough here: at most 27·4 = 108 < 128.
                var rng = SeededGenerator(seed: 0)
                let got = try sampler.generate(source: model, prompt: [0], endTokens: [3], rng: &rng)
                let expected = exhaustiveBest(model, prompt: [0], end: 3, maxTokens: 4, lengthPenalty: Double(lengthPenalty)!)
                XCTAssertEqual(got.first?.tokens, expected.tokens, "salt \(salt) length_penalty \(lengthPenalty)")
                XCTAssertEqual(got.first?.score ?? 0, expected.score, accuracy: 1e-4)
            }
        }
    }

    func testOneBeamIsGreedy() throws {
        for salt in [1, 4, 9] as [UInt64] {
            let model = ToyModel(vocabularySize: 6, salt: salt)
            var rng = SeededGenerator(seed: 0)
            let beam = try Sampler(settings: settings(["mode": "beam", "num_beams": "1", "max_tokens": "12"]), vocabularySize: 6)
                .generate(source: model, prompt: [1], endTokens: [5], rng: &rng)
            let greedy = try Sampler(settings: settings(["mode": "greedy", "max_tokens": "12"]), vocabularySize: 6)
                .generate(source: model, prompt: [1], endTokens: [5], rng: &rng)
            XCTAssertEqual(beam.first?.tokens, greedy.first?.tokens)
        }
    }

    func testBeamsFindBetterThanGreedy() throws {
        // Over many toy models, two beams never score below greedy under the same scoring
        // (length_penalty 0: plain sum of log-probs), and sometimes above.
        var better = 0
        for salt in 0..<40 as Range<UInt64> {
            let model = ToyModel(vocabularySize: 5, salt: salt)
            var rng = SeededGenerator(seed: 0)
            let s = ["max_tokens": "6", "length_penalty": "0", "early_stopping": "false"]
            let greedy = try Sampler(settings: settings(s.merging(["mode": "beam", "num_beams": "1"]) { $1 }), vocabularySize: 5)
                .generate(source: model, prompt: [0], endTokens: [4], rng: &rng)[0]
            let beams = try Sampler(settings: settings(s.merging(["mode": "beam", "num_beams": "3"]) { $1 }), vocabularySize: 5)
                .generate(source: model, prompt: [0], endTokens: [4], rng: &rng)[0]
            if greedy.stopReason == .endToken && beams.stopReason == .endToken {
                XCTAssertGreaterThanOrEqual(beams.score, greedy.score - 1e-6)
            }
            if beams.score > greedy.score + 1e-6 { better += 1 }
        }
        XCTAssertGreaterThan(better, 0)
    }

    func testNgramBlockingHoldsInEveryBeam() throws {
        let model = ToyModel(vocabularySize: 5, salt: 12)
        let sampler = try Sampler(settings: settings(["mode": "beam", "num_beams": "4", "n": "4", "max_tokens": "10", "no_repeat_ngram_size": "2"]),
                                  vocabularySize: 5)
        var rng = SeededGenerator(seed: 0)
        let results = try sampler.generate(source: model, prompt: [0], endTokens: [], rng: &rng)
        XCTAssertEqual(results.count, 4)
        for r in results {
            let all = [Int32(0)] + r.tokens
            var seen = Set<[Int32]>()
            for i in 0..<(all.count - 1) { XCTAssertTrue(seen.insert([all[i], all[i + 1]]).inserted, "bigram repeated in \(all)") }
        }
        // Returned best first.
        XCTAssertEqual(results.map(\.score), results.map(\.score).sorted(by: >))
    }
}
