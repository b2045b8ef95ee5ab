import XCTest
import PersonaCore
import PersonaModel
import PersonaData
import PersonaText
import PersonaTestSupport
@testable import PersonaSample

/// The model as a logits source: cache reuse across prompts and forking give the logits a
/// fresh prefill gives; beam search runs on it; a conversation with the default model.
final class ModelSourceTests: XCTestCase {
    static let config = LlamaConfig(vocabSize: 67, dModel: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, headDim: 16, dFF: 96,
                                    ropeTheta: 10_000, ropeDimensions: 16, ropeScaling: .none, rmsNormEps: 1e-5,
                                    contextLength: 64, tiedOutput: true)

    func tinyModel() throws -> LlamaModel {
        var rng = SeededGenerator(seed: 11)
        return try LlamaModel(config: Self.config, weights: .random(config: Self.config, scale: 0.2, using: &rng), threads: 1)
    }

    func logits(_ source: ModelLogitsSource, _ prompt: [Int32]) throws -> [Float] {
        var out = [Float](repeating: 0, count: 67)
        _ = try out.withUnsafeMutableBufferPointer { try source.start(prompt: prompt, logits: $0) }
        return out
    }

    func testCacheReuseAndForkMatchFreshPrefill() throws {
        let model = try tinyModel()
        let prompt: [Int32] = [1, 5, 9, 12, 3]
        let reused = ModelLogitsSource(model: model, capacity: 40)
        _ = try logits(reused, prompt)
        // The next turn's prompt extends the first: only the new tokens are fed.
        let longer = prompt + [7, 8, 20]
        let viaReuse = try logits(reused, longer)
        let fresh = try logits(ModelLogitsSource(model: model, capacity: 40), longer)
        XCTAssertTrue(compare(viaReuse, fresh, atol: 1e-5, rtol: 1e-5).passed)
        // A prompt that diverges midway truncates the cache to the shared prefix.
        let diverging = prompt + [30, 31]
        XCTAssertTrue(compare(try logits(reused, diverging), try logits(ModelLogitsSource(model: model, capacity: 40), diverging), atol: 1e-5, rtol: 1e-5).passed)

        // Fork, then extend both copies differently: each equals its own fresh run.
        var a = [Float](repeating: 0, count: 67), b = a
        let source = ModelLogitsSource(model: model, capacity: 40)
        var first = try a.withUnsafeMutableBufferPointer { try source.start(prompt: prompt, logits: $0) }
        var second = try source.fork(first)
        try a.withUnsafeMutableBufferPointer { try source.advance(&first, by: 4, logits: $0) }
        try b.withUnsafeMutableBufferPointer { try source.advance(&second, by: 40, logits: $0) }
        XCTAssertTrue(compare(a, try logits(ModelLogitsSource(model: model, capacity: 40), prompt + [4]), atol: 1e-5, rtol: 1e-5).passed)
        XCTAssertTrue(compare(b, try logits(ModelLogitsSource(model: model, capacity: 40), prompt + [40]), atol: 1e-5, rtol: 1e-5).passed)
    }

    /// Adds a constant to the output of every `down` projection: a stand-in for LoRA.
    final class ShiftAdapter: ProjectionAdapter {
        var calls = 0
        func addDelta(layer: Int, projection: Projection, x: UnsafePointer<Float>, rows: Int, y: UnsafeMutablePointer<Float>, yStride: Int) {
            guard projection == .down else { return }
            calls += 1
            for r in 0..<rows { for c in 0..<8 { y[r * yStride + c] += 0.5 } }
        }
    }

    func testAdapterReachesEveryStep() throws {
        let model = try tinyModel()
        let adapter = ShiftAdapter()
        let with = try logits(ModelLogitsSource(model: model, capacity: 40, adapter: adapter), [1, 2, 3])
        let without = try logits(ModelLogitsSource(model: model, capacity: 40), [1, 2, 3])
        XCTAssertEqual(adapter.calls, 2)   // one prefill, two layers
        XCTAssertFalse(compare(with, without, atol: 1e-3).passed)
    }

    func testBeamSearchOnTheModelEqualsGreedyWithOneBeam() throws {
        let model = try tinyModel()
        var rng = SeededGenerator(seed: 0)
        let beam = try Sampler(settings: settings(["mode": "beam", "num_beams": "1", "max_tokens": "10"]), vocabularySize: 67)
            .generate(source: ModelLogitsSource(model: model, capacity: 40), prompt: [1, 2, 3], endTokens: [0], rng: &rng)
        let greedy = try Sampler(settings: settings(["mode": "greedy", "max_tokens": "10"]), vocabularySize: 67)
            .generate(source: ModelLogitsSource(model: model, capacity: 40), prompt: [1, 2, 3], endTokens: [0], rng: &rng)
        XCTAssertEqual(beam[0].tokens, greedy[0].tokens)
        // Four beams on the model score at least as well as one.
        let four = try Sampler(settings: settings(["mode": "beam", "num_beams": "4", "max_tokens": "10", "length_penalty": "0"]), vocabularySize: 67)
            .generate(source: ModelLogitsSource(model: model, capacity: 40), prompt: [1, 2, 3], endTokens: [0], rng: &rng)
        let greedySum = greedy[0].logProbabilities.reduce(0.0) { $0 + Double($1) }
        if four[0].stopReason == .maxTokens && greedy[0].stopReason == .maxTokens {
            XCTAssertGreaterThanOrEqual(four[0].score, greedySum - 1e-4)
        }
    }

    func testConversationWithTheDefaultModel() throws {
        let loaded = try LoadedModel.open(path: TestPaths.defaultModel, threads: 2)
        let layout = try ChunkLayout(parameters: { var p = DatasetParameters(); p.format = .transcript; return p }())
        func run() throws -> [GeneratedTurn] {
            let generator = try ConversationGenerator(model: loaded.model, tokenizer: loaded.tokenizer,
                                                      settings: settings(["temperature": "0.8", "top_k": "40", "max_tokens": "16"]), capacity: 256)
            let request = ConversationRequest(me: "Ed", them: "Alice", firstSpeaker: "Ed", turns: 3, layout: layout,
                                              date: Date(timeIntervalSince1970: 1_710_000_000), start: "are you")
            var rng = SeededGenerator(seed: 5)
            var streamed = ""
            let turns = try generator.generate(request, rng: &rng, cancellation: nil) { streamed += $0 }
            // What streamed is what was kept, line for line.
            XCTAssertEqual(streamed.split(separator: "\n").count, turns.count)
            return turns
        }
        let turns = try run()
        XCTAssertEqual(turns.map(\.speaker), ["Ed", "Alice", "Ed"])
        XCTAssertTrue(turns[0].text.hasPrefix("are you"))
        for t in turns {
            XCTAssertFalse(t.text.contains("\n"))
            XCTAssertFalse(t.text.contains("Alice:") || t.text.contains("Ed:"), t.text)
        }
        // Reproducible for a seed.
        XCTAssertEqual(try run().map(\.text), turns.map(\.text))
    }

    func testOpenTurnStopsWhereTheTextGoes() throws {
        var p = DatasetParameters()
        p.format = .chat
        let unit = MessageUnit(sourceIDs: [], fromMe: true, senderName: "Ed", text: "", sentAt: Date())
        let chat = ConversationGenerator.openTurn(try ChunkLayout(parameters: p), unit)
        XCTAssertEqual(chat.map(\.text), ["<|im_start|>", "assistant\n", ""])
        p.format = .donner
        XCTAssertEqual(ConversationGenerator.openTurn(try ChunkLayout(parameters: p), unit).map(\.text), ["### Ed: "])
    }
}
