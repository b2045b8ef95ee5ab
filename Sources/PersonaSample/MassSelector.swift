/// Finds the best tokens by some key until their probability mass reaches p, for top_p and
/// typical_p over a whole vocabulary, without sorting it: one pass drops every token into a
/// bucket by its key (2,048 buckets over the top 32 units of key, the rest in a last one)
/// and adds its probability to the bucket; the buckets' running mass finds the bucket where
/// p is reached; only the tokens of the buckets up to it are collected and sorted.
final class MassSelector {
    static let bucketCount = 2048
    static let span: Float = 32
    private var bucketMass: [Float]
    private var bucketPopulation: [Int32]

    init() {
        bucketMass = [Float](repeating: 0, count: MassSelector.bucketCount)
        bucketPopulation = [Int32](repeating: 0, count: MassSelector.bucketCount)
    }

    /// Writes to `ids` the tokens with the highest `keys` (ties: lower id), best first, up to
    /// and including the one where the running sum of `probabilities` reaches `p`; returns
    /// how many. Tokens with key -inf are out. `probabilities` need not be normalised:
    /// `total` is their sum.
    func select(keys: UnsafeBufferPointer<Float>, probabilities: UnsafeBufferPointer<Float>, total: Float,
                mass p: Float, into ids: UnsafeMutableBufferPointer<Int32>) -> Int {
        let n = keys.count
        let keyMax = SamplingKernels.maximum(keys)
        guard keyMax > -.infinity, total > 0 else { return 0 }
        let last = MassSelector.bucketCount - 1
        let scale = Float(last) / MassSelector.span
        @inline(__always) func bucket(_ k: Float) -> Int {
            let d = (keyMax - k) * scale
            return d < Float(last) ? Int(d) : last
        }
        for b in 0...last { bucketMass[b] = 0; bucketPopulation[b] = 0 }
        for i in 0..<n {
            let k = keys[i]
            if k == -.infinity { continue }
            let b = bucket(k)
            bucketMass[b] += probabilities[i]
            bucketPopulation[b] += 1
        }
        let target = p * total
        var running: Float = 0
        var boundary = last
        for b in 0...last {
            running += bucketMass[b]
            if running >= target { boundary = b; break }
        }
        var count = 0
        for i in 0..<n {
            let k = keys[i]
            if k == -.infinity || bucket(k) > boundary { continue }
            ids[count] = Int32(i)
            count += 1
        }
        let collected = UnsafeMutableBufferPointer(rebasing: ids[0..<count])
        SurvivorSort.sortDescending(collected, by: keys)
        running = 0
        for i in 0..<count {
            running += probabilities[Int(collected[i])]
            if running >= target { return i + 1 }
        }
        return count
    }
}
