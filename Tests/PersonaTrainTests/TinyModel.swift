import Foundation
import PersonaCore
import PersonaTensor
@testable import PersonaTrain

/// A tiny random Llama for fast tests of every shape path (GQA, padding, masks).
enum TinyModel {
    static let shape = ModelShape(layers: 2, hidden: 16, heads: 4, kvHeads: 2, intermediate: 24, vocab: 40,
                                  ropeBase: 10_000, normEpsilon: 1e-5)

    static func make(seed: UInt64 = 7, shape: ModelShape = TinyModel.shape, scale: Float = 1) -> FrozenLlama {
        var rng = SeededGenerator(seed: seed)
        return FrozenLlama.random(shape: shape, rng: &rng, scale: scale)
    }

    static func rows(_ m: any FrozenMatrix) -> [Double] {
        var v = [Float](repeating: 0, count: m.rows * m.columns)
        v.withUnsafeMutableBufferPointer { m.dequantizeRows(0..<m.rows, into: $0.baseAddress!) }
        return v.map(Double.init)
    }

    /// The mean-over-counted-tokens loss of the whole model in Double, with LoRA parameters
    /// `theta` laid out as the adapter's flat buffer.
    static func naiveLoss(model: FrozenLlama, adapter: LoRAAdapter, theta: [Double], batch: TrainingBatch) -> Double {
        let s = model.shape, d = s.hidden
        let embedding = rows(model.embedding)
        let counted = Double(batch.countedTokens)
        var total = 0.0
        for seq in 0..<batch.sequences {
            let base = seq * batch.length
            let n = (0..<batch.length).filter { batch.keyMask[base + $0] != 0 }.count
            let tokens = (0..<n).map { Int(batch.tokens[base + $0]) }
            let positions = (0..<n).map { Int32($0) }
            var x = tokens.flatMap { Array(embedding[($0 * d)..<(($0 + 1) * d)]) }
            for (layer, w) in model.blocks.enumerated() {
                func proj(_ t: LoRATarget, _ input: [Double], _ m: any FrozenMatrix) -> [Double] {
                    guard let slot = adapter.slot(layer: layer, target: t) else {
                        return NaiveForward.loraLinear(x: input, w: rows(m), a: [Double](repeating: 0, count: m.columns),
                                                       b: [Double](repeating: 0, count: m.rows), scale: 0, rows: n,
                                                       inDim: m.columns, outDim: m.rows, rank: 1)
                    }
                    let r = adapter.config.rank
                    return NaiveForward.loraLinear(x: input, w: rows(m), a: Array(theta[slot.aOffset..<(slot.aOffset + r * m.columns)]),
                                                   b: Array(theta[slot.bOffset..<(slot.bOffset + r * m.rows)]),
                                                   scale: Double(adapter.config.scaling), rows: n, inDim: m.columns, outDim: m.rows, rank: r)
                }
                let xn = NaiveForward.rmsnorm(x, weight: w.attentionNorm.map(Double.init), rows: n, dim: d, eps: Double(s.normEpsilon))
                let q = NaiveForward.rope(proj(.q, xn, w.q), positions: positions, heads: s.heads, headDim: s.headDim, base: Double(s.ropeBase))
                let k = NaiveForward.rope(proj(.k, xn, w.k), positions: positions, heads: s.kvHeads, headDim: s.headDim, base: Double(s.ropeBase))
                let v = proj(.v, xn, w.v)
                let att = NaiveForward.attention(q: q, k: k, v: v, keyMask: nil, length: n, heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim)
                let o = proj(.o, att, w.o)
                let mid = zip(x, o).map { $0 + $1 }
                let xn2 = NaiveForward.rmsnorm(mid, weight: w.mlpNorm.map(Double.init), rows: n, dim: d, eps: Double(s.normEpsilon))
                let h = NaiveForward.swiglu(gate: proj(.gate, xn2, w.gate), up: proj(.up, xn2, w.up))
                x = zip(mid, proj(.down, h, w.down)).map { $0 + $1 }
            }
            let final = NaiveForward.rmsnorm(x, weight: model.finalNorm.map(Double.init), rows: n, dim: d, eps: Double(s.normEpsilon))
            let logits = NaiveForward.head(hidden: final, embedding: rows(model.output), rows: n, dim: d, vocab: s.vocab)
            let targets = (0..<n).map { batch.targets[base + $0] }
            total += NaiveForward.crossEntropy(logits: logits, targets: targets,
                                               weights: [Float](repeating: Float(1 / counted), count: n), vocab: s.vocab)
        }
        return total
    }
}
