import XCTest
import PersonaCore
@testable import PersonaSample

final class SettingsTests: XCTestCase {
    func testEveryParameterRoundTrips() throws {
        var s = SamplerSettings()
        let values: [String: String] = [
            "mode": "beam", "temperature": "0.7", "top_k": "40", "top_p": "0.9", "min_p": "0.05", "typical_p": "0.95",
            "repetition_penalty": "1.1", "penalty_window": "256", "frequency_penalty": "0.2", "presence_penalty": "0.1",
            "dry_multiplier": "0.8", "dry_base": "1.75", "dry_allowed_length": "3", "dry_breakers": "\\n,:,\\,",
            "no_repeat_ngram_size": "3", "logit_bias": "5:-2,7:1.5", "suppress_tokens": "1,2", "suppress": "http,www",
            "suppress_sets": "urls,phone numbers,reactions", "num_beams": "5", "length_penalty": "0.5",
            "early_stopping": "false", "n": "4", "max_tokens": "64", "stop": "\\n\\n,Bob:", "seed": "42",
        ]
        XCTAssertEqual(Set(values.keys), Set(SamplerSettings.parameters.map(\.key)), "every parameter is exercised")
        for (k, v) in values { try s.set(k, to: v) }
        for (k, v) in values { XCTAssertEqual(s.text(of: k), v, k) }
        XCTAssertEqual(s.dryBreakers, ["\n", ":", ","])
        XCTAssertEqual(s.stop, ["\n\n", "Bob:"])
        XCTAssertEqual(s.suppressSets, [.urls, .phoneNumbers, .reactions])
        // Reapplying the saved assignments reproduces the settings.
        var again = SamplerSettings()
        for a in s.changedAssignments {
            let eq = a.firstIndex(of: "=")!
            try again.set(String(a[..<eq]), to: String(a[a.index(after: eq)...]))
        }
        XCTAssertEqual(again, s)
    }

    func testBadValuesNameTheKeyAndTheRange() {
        var s = SamplerSettings()
        XCTAssertThrowsError(try s.set("top_p", to: "1.5")) {
            XCTAssertEqual(($0 as? SampleError)?.message, "sampler: top_p=1.5 is not valid; expected a number in (0, 1]")
        }
        XCTAssertThrowsError(try s.set("temperature", to: "-1"))
        XCTAssertThrowsError(try s.set("top_k", to: "many"))
        XCTAssertThrowsError(try s.set("logit_bias", to: "5"))
        XCTAssertThrowsError(try s.set("repetition_penalty", to: "0"))
        XCTAssertThrowsError(try s.set("temprature", to: "1")) { XCTAssertEqual($0 as? SampleError, .unknownParameter("temprature")) }
    }

    func testChainOrderIsShown() throws {
        let s = try settings(["temperature": "0.8", "top_k": "40", "repetition_penalty": "1.2", "suppress": "http"])
        let chain = try SamplerChain(settings: s, vocabularySize: 4, vocabulary: TokenByteTable(ListVocabulary(["a", "b", "c", "d"])))
        let lines = chain.stageLines
        XCTAssertEqual(lines.count, SamplerChain.order.count)
        for (i, name) in SamplerChain.order.enumerated() { XCTAssertTrue(lines[i].contains(name), lines[i]) }
        XCTAssertTrue(lines[1].contains("\"http\""))
        XCTAssertTrue(lines[7].hasSuffix("40"))
        XCTAssertTrue(lines[8].hasSuffix("off"))
        XCTAssertEqual(chain.penalties.count, 2)
        XCTAssertEqual(chain.truncation.count, 2)
    }

    func testDeterministicGenerationForASeed() throws {
        let model = ToyModel(vocabularySize: 30, salt: 5)
        let s = try settings(["temperature": "1.2", "top_p": "0.95", "repetition_penalty": "1.3", "n": "3", "max_tokens": "25"])
        func run(_ seed: UInt64) throws -> [[Int32]] {
            let sampler = try Sampler(settings: s, vocabularySize: 30)
            var rng = SeededGenerator(seed: seed)
            return try sampler.generate(source: model, prompt: [1, 2], endTokens: [], rng: &rng).map(\.tokens)
        }
        XCTAssertEqual(try run(7), try run(7))
        XCTAssertNotEqual(try run(7), try run(8))
        let three = try run(7)
        XCTAssertEqual(three.count, 3)
        XCTAssertNotEqual(three[0], three[1])
    }

    func testStopStringsAndLogProbabilities() throws {
        let words = ["a", "b", "\n", "Bob", ":", " hi"]
        let model = ToyModel(vocabularySize: words.count, salt: 2)
        let table = TokenByteTable(ListVocabulary(words))
        let sampler = try Sampler(settings: settings(["mode": "greedy", "stop": "Bob:", "max_tokens": "50"]), vocabularySize: words.count, vocabulary: table)
        // Steer greedy towards "\n", "Bob", ":".
        model.bias = [0, 0, 0, 0, 0, 0]
        var rng = SeededGenerator(seed: 1)
        let c = try sampler.generate(source: model, prompt: [0], endTokens: [], rng: &rng)[0]
        XCTAssertFalse(c.text.contains("Bob:"))
        XCTAssertEqual(c.logProbabilities.count, c.tokens.count)
        // Each log-probability is the model's own.
        var context: [Int32] = [0]
        for (t, lp) in zip(c.tokens, c.logProbabilities) {
            XCTAssertEqual(Double(lp), model.logProbability(of: t, after: context), accuracy: 1e-4)
            context.append(t)
        }
        XCTAssertEqual(Sampler.firstStop([Array("Bob:".utf8)], in: Array("hi\nBob: yo".utf8), newFrom: 5), 3)
        XCTAssertNil(Sampler.firstStop([Array("Bob:".utf8)], in: Array("hi\nBob".utf8), newFrom: 3))
    }
}
