import Foundation

/// Naive double-precision forward twins of the model's layers: the oracles the
/// finite-difference checks differentiate. Row-major, weights out × in.
enum NaiveForward {
    /// y = x · r · w, r = 1/sqrt(mean(x²) + eps).
    static func rmsnorm(_ x: [Double], weight: [Double], rows: Int, dim: Int, eps: Double) -> [Double] {
        var y = [Double](repeating: 0, count: rows * dim)
        for t in 0..<rows {
            var ss = 0.0
            for i in 0..<dim { ss += x[t * dim + i] * x[t * dim + i] }
            let r = 1 / (ss / Double(dim) + eps).squareRoot()
            for i in 0..<dim { y[t * dim + i] = x[t * dim + i] * r * weight[i] }
        }
        return y
    }

    /// Interleaved-pair RoPE (ggml "normal").
    static func rope(_ x: [Double], positions: [Int32], heads: Int, headDim: Int, base: Double) -> [Double] {
        var y = x
        let rows = positions.count
        for t in 0..<rows {
            for h in 0..<heads {
                for i in 0..<(headDim / 2) {
                    let inv = 1 / Double(Float(pow(base, Double(2 * i) / Double(headDim))))
                    let angle = Double(positions[t]) * inv
                    let o = (t * heads + h) * headDim + 2 * i
                    let x0 = x[o], x1 = x[o + 1]
                    y[o] = x0 * cos(angle) - x1 * sin(angle)
                    y[o + 1] = x0 * sin(angle) + x1 * cos(angle)
                }
            }
        }
        return y
    }

    /// Causal GQA attention over one sequence with a key padding mask.
    static func attention(q: [Double], k: [Double], v: [Double], keyMask: [UInt8]?, length T: Int,
                          heads: Int, kvHeads: Int, headDim: Int) -> [Double] {
        var out = [Double](repeating: 0, count: T * heads * headDim)
        let scale = 1 / Double(headDim).squareRoot()
        for h in 0..<heads {
            let g = h / (heads / kvHeads)
            for i in 0..<T {
                var scores = [Double](repeating: -.infinity, count: T)
                for j in 0...i where (keyMask?[j] ?? 1) != 0 {
                    var s = 0.0
                    for e in 0..<headDim { s += q[(i * heads + h) * headDim + e] * k[(j * kvHeads + g) * headDim + e] }
                    scores[j] = s * scale
                }
                let m = scores.max() ?? -.infinity
                if m == -.infinity { continue }
                let ex = scores.map { $0 == -.infinity ? 0 : exp($0 - m) }
                let z = ex.reduce(0, +)
                for j in 0..<T where ex[j] != 0 {
                    for e in 0..<headDim { out[(i * heads + h) * headDim + e] += ex[j] / z * v[(j * kvHeads + g) * headDim + e] }
                }
            }
        }
        return out
    }

    static func swiglu(gate: [Double], up: [Double]) -> [Double] {
        (0..<gate.count).map { gate[$0] / (1 + exp(-gate[$0])) * up[$0] }
    }

    /// y = x Wᵀ + s · B (A x)
    static func loraLinear(x: [Double], w: [Double], a: [Double], b: [Double], scale: Double,
                           rows T: Int, inDim: Int, outDim: Int, rank: Int) -> [Double] {
        var y = [Double](repeating: 0, count: T * outDim)
        for t in 0..<T {
            var ax = [Double](repeating: 0, count: rank)
            for r in 0..<rank { for i in 0..<inDim { ax[r] += a[r * inDim + i] * x[t * inDim + i] } }
            for o in 0..<outDim {
                var s = 0.0
                for i in 0..<inDim { s += w[o * inDim + i] * x[t * inDim + i] }
                for r in 0..<rank { s += scale * b[o * rank + r] * ax[r] }
                y[t * outDim + o] = s
            }
        }
        return y
    }

    /// Σ_t weight_t · (−log softmax(logits_t)[target_t]) over rows with a target ≥ 0.
    static func crossEntropy(logits: [Double], targets: [Int32], weights: [Float], vocab V: Int) -> Double {
        var total = 0.0
        for t in 0..<targets.count where targets[t] >= 0 {
            let row = logits[(t * V)..<((t + 1) * V)]
            let m = row.max() ?? 0
            let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
            total += Double(weights[t]) * (lse - logits[t * V + Int(targets[t])])
        }
        return total
    }

    /// logits = H Eᵀ
    static func head(hidden: [Double], embedding: [Double], rows T: Int, dim: Int, vocab V: Int) -> [Double] {
        var logits = [Double](repeating: 0, count: T * V)
        for t in 0..<T { for v in 0..<V {
            var s = 0.0
            for i in 0..<dim { s += hidden[t * dim + i] * embedding[v * dim + i] }
            logits[t * V + v] = s
        } }
        return logits
    }
}
