import PersonaCore
@testable import PersonaSample

/// Runs `chain` over a copy of `logits` and returns the processed values.
func processed(_ logits: [Float], _ settings: SamplerSettings, history: TokenHistory,
               vocabulary: TokenByteTable? = nil) throws -> [Float] {
    let chain = try SamplerChain(settings: settings, vocabularySize: logits.count, vocabulary: vocabulary)
    var values = logits
    values.withUnsafeMutableBufferPointer { buffer in
        var view = LogitsView(values: buffer, scratch: chain.scratch)
        chain.process(&view, history: history)
    }
    return values
}

/// Frequencies of `draws` tokens chosen by `settings` from fixed logits with a fixed seed.
func frequencies(_ logits: [Float], _ settings: SamplerSettings, draws: Int, seed: UInt64,
                 history: TokenHistory = TokenHistory(prompt: [])) throws -> [Double] {
    let chain = try SamplerChain(settings: settings, vocabularySize: logits.count)
    var rng = SeededGenerator(seed: seed)
    var counts = [Int](repeating: 0, count: logits.count)
    var work = logits
    for _ in 0..<draws {
        work = logits
        let token = work.withUnsafeMutableBufferPointer { chain.choose($0, history: history, rng: &rng) }
        if let token { counts[Int(token)] += 1 }
    }
    return counts.map { Double($0) / Double(draws) }
}

func settings(_ assignments: [String: String]) throws -> SamplerSettings {
    var s = SamplerSettings()
    for (k, v) in assignments.sorted(by: { $0.key < $1.key }) { try s.set(k, to: v) }
    return s
}

/// A deterministic toy language model: the logits of the next token are a fixed function of
/// the last two tokens (a hash mapped to [-3, 3]), so every sequence has known probabilities.
final class ToyModel: LogitsSource {
    typealias State = [Int32]
    let vocabularySize: Int
    let salt: UInt64
    /// Counts forward steps, to check that beam search reuses states.
    var advances = 0
    /// Optional extra bias per token (steers the toy towards a word).
    var bias: [Float]

    init(vocabularySize: Int, salt: UInt64 = 7) {
        self.vocabularySize = vocabularySize
        self.salt = salt
        bias = [Float](repeating: 0, count: vocabularySize)
    }

    func logits(after tokens: [Int32], into out: UnsafeMutableBufferPointer<Float>) {
        let a = UInt64(bitPattern: Int64(tokens.last ?? -1))
        let b = UInt64(bitPattern: Int64(tokens.count >= 2 ? tokens[tokens.count - 2] : -1))
        for t in 0..<vocabularySize {
            var g = SeededGenerator(seed: salt &* 1_000_003 &+ a &* 7919 &+ b &* 104_729 &+ UInt64(t) &* 15_485_863)
            out[t] = Float(g.nextDouble() * 6 - 3) + bias[t]
        }
    }

    func start(prompt: [Int32], logits: UnsafeMutableBufferPointer<Float>) throws -> [Int32] {
        self.logits(after: prompt, into: logits)
        return prompt
    }

    func advance(_ state: inout [Int32], by token: Int32, logits: UnsafeMutableBufferPointer<Float>) throws {
        advances += 1
        state.append(token)
        self.logits(after: state, into: logits)
    }

    func fork(_ state: [Int32]) throws -> [Int32] { state }

    /// log p(token | tokens)
    func logProbability(of token: Int32, after tokens: [Int32]) -> Double {
        var values = [Float](repeating: 0, count: vocabularySize)
        values.withUnsafeMutableBufferPointer { logits(after: tokens, into: $0) }
        let top = Double(values.max()!)
        let total = values.reduce(0.0) { $0 + Foundation.exp(Double($1) - top) }
        return Double(values[Int(token)]) - top - Foundation.log(total)
    }
}

import Foundation
