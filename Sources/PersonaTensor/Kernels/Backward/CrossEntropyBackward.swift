import Foundation

/// Backward of cross-entropy over full logits: for each row t with a target (≥ 0),
///   dLogits[t] += weight_t · (softmax(logits[t]) − onehot(target_t)).
/// Rows with a negative target (not counted by the mask) get no gradient. With
/// weight_t = 1 / (counted tokens) this is the gradient of the mean loss.
/// The naive twin of the chunked `LMHeadCrossEntropy`.
public func crossEntropyBackward(logits: UnsafePointer<Float>,          // [T, V]
                                 targets: UnsafePointer<Int32>,         // [T], < 0 = ignored
                                 weights: UnsafePointer<Float>,         // [T]
                                 dLogits: UnsafeMutablePointer<Float>,  // [T, V] accumulated
                                 rows T: Int, vocab V: Int) {
    for t in 0..<T where targets[t] >= 0 && Int(targets[t]) < V {
        let row = logits + t * V, d = dLogits + t * V
        var maximum = -Float.infinity
        for j in 0..<V { maximum = max(maximum, row[j]) }
        var sum: Double = 0
        for j in 0..<V { sum += Double(expf(row[j] - maximum)) }
        let inverse = Float(1 / sum)
        let w = weights[t]
        for j in 0..<V { d[j] += w * expf(row[j] - maximum) * inverse }
        d[Int(targets[t])] -= w
    }
}
