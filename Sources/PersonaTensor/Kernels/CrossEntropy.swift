import Foundation

/// log Σ exp(x) over `count` logits, shifted by the maximum for stability.
@inlinable
public func logSumExp(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var m = -Float.infinity
    for i in 0..<count { m = max(m, x[i]) }
    if m == -Float.infinity { return m }
    var s: Double = 0
    var partial: Float = 0
    for i in 0..<count {
        partial += expf(x[i] - m)
        // Flush to Double every 1024 terms so that a 49,152-entry vocabulary sums exactly
        // enough for 1e-5 relative accuracy.
        if i & 1023 == 1023 { s += Double(partial); partial = 0 }
    }
    s += Double(partial)
    return m + Float(log(s))
}

/// Per-row negative log-likelihood of `targets` under softmax(logits):
/// `nll[r] = logsumexp(logits[r]) − logits[r, targets[r]]`. logits: [rows, vocab].
/// A target < 0 marks a row that is not scored (its nll is 0).
public func crossEntropyForward(_ logits: UnsafePointer<Float>, rows: Int, vocab: Int, targets: UnsafePointer<Int32>,
                                into nll: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let t = Int(targets[r])
        guard t >= 0, t < vocab else { nll[r] = 0; continue }
        let row = logits + r * vocab
        nll[r] = logSumExp(row, count: vocab) - row[t]
    }
}

/// The naive twin of `crossEntropyForward` (Double throughout).
public func crossEntropyForwardNaive(_ logits: UnsafePointer<Float>, rows: Int, vocab: Int, targets: UnsafePointer<Int32>,
                                     into nll: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let t = Int(targets[r])
        guard t >= 0, t < vocab else { nll[r] = 0; continue }
        var m = -Double.infinity
        for i in 0..<vocab { m = max(m, Double(logits[r * vocab + i])) }
        var s = 0.0
        for i in 0..<vocab { s += exp(Double(logits[r * vocab + i]) - m) }
        nll[r] = Float(m + log(s) - Double(logits[r * vocab + t]))
    }
}

/// `out = x − logsumexp(x)` for each row of [rows, vocab] (log-probabilities; out may alias x).
public func logSoftmaxForward(_ x: UnsafePointer<Float>, rows: Int, vocab: Int, into out: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let lse = logSumExp(x + r * vocab, count: vocab)
        for i in 0..<vocab { out[r * vocab + i] = x[r * vocab + i] - lse }
    }
}

/// The `k` largest entries of `x[count]` as (index, value), largest first; ties keep the
/// lower index first.
public func topK(_ x: UnsafePointer<Float>, count: Int, k: Int) -> [(index: Int, value: Float)] {
    var best: [(index: Int, value: Float)] = []
    best.reserveCapacity(k + 1)
    for i in 0..<count {
        let v = x[i]
        if best.count == k, let last = best.last, !(v > last.value) { continue }
        var at = best.count
        while at > 0 && v > best[at - 1].value { at -= 1 }
        best.insert((i, v), at: at)
        if best.count > k { best.removeLast() }
    }
    return best
}
