/// One stage of the sampler chain: it transforms the logits of the next token in place,
/// given the tokens so far. Stages keep preallocated scratch and allocate nothing per token.
/// `SamplerChain` composes stages and is itself a `LogitProcessor`.
public protocol LogitProcessor: AnyObject {
    /// The stage's name as `sampler show` lists it, with its parameters.
    var description: String { get }
    func process(_ logits: inout LogitsView, history: TokenHistory)
}

/// The next-token logits of one sequence, plus the set of tokens still in the running once a
/// truncation stage (top_k, typical_p, top_p, min_p) has narrowed it.
///
/// Invariant: when `isNarrowed`, the survivors are listed in descending logit order (ties:
/// lower id first) and every other entry of `values` is -inf. Before narrowing, every token
/// with a finite logit is in the running and `survivorCount` is meaningless.
public struct LogitsView {
    /// [vocab] logits, modified in place.
    public let values: UnsafeMutableBufferPointer<Float>
    /// [vocab] room for the survivor ids; the first `survivorCount` are valid when narrowed.
    public let survivorStorage: UnsafeMutableBufferPointer<Int32>
    /// [vocab] scratch for the values kept while the rest is cleared.
    let keptValues: UnsafeMutableBufferPointer<Float>
    public internal(set) var survivorCount: Int = 0
    public internal(set) var isNarrowed: Bool = false

    /// A view over `values` using `scratch` (owned by the caller, same size) for the survivors.
    public init(values: UnsafeMutableBufferPointer<Float>, scratch: LogitsScratch) {
        self.values = values
        self.survivorStorage = scratch.survivorIds
        self.keptValues = scratch.keptValues
    }

    public var vocabularySize: Int { values.count }

    /// The survivor ids, best first (valid when narrowed).
    public var survivors: UnsafeMutableBufferPointer<Int32> {
        UnsafeMutableBufferPointer(rebasing: survivorStorage[0..<survivorCount])
    }

    /// Keeps only the first `count` (at least one) of the sorted survivors.
    public mutating func truncateSurvivors(to count: Int) {
        let keep = max(1, count)
        guard isNarrowed, keep < survivorCount else { return }
        for i in keep..<survivorCount { values[Int(survivorStorage[i])] = -.infinity }
        survivorCount = keep
    }

    /// Makes the first `count` ids written in `survivorStorage` the survivors: every other
    /// logit becomes -inf and the survivors are sorted best first.
    public mutating func narrow(toFirst count: Int) {
        let count = max(0, min(count, survivorStorage.count))
        for i in 0..<count { keptValues[i] = values[Int(survivorStorage[i])] }
        SamplingKernels.fill(values, with: -.infinity)
        for i in 0..<count { values[Int(survivorStorage[i])] = keptValues[i] }
        survivorCount = count
        isNarrowed = true
        SurvivorSort.sortDescending(survivors, by: UnsafeBufferPointer(values))
    }
}

/// The per-sequence scratch a `LogitsView` needs, allocated once per sampler.
public final class LogitsScratch {
    /// [vocab]
    public let survivorIds: UnsafeMutableBufferPointer<Int32>
    /// [vocab]
    public let keptValues: UnsafeMutableBufferPointer<Float>

    public init(vocabularySize: Int) {
        survivorIds = .allocate(capacity: vocabularySize)
        survivorIds.initialize(repeating: 0)
        keptValues = .allocate(capacity: vocabularySize)
        keptValues.initialize(repeating: 0)
    }
    deinit { survivorIds.deallocate(); keptValues.deallocate() }
}

/// Sorting survivor ids by their logits, best first, ties by lower id, in place and without
/// allocating (heap sort: the lists are short, and the stdlib sort may allocate).
enum SurvivorSort {
    /// a ranks before b
    @inline(__always)
    static func before(_ a: Int32, _ b: Int32, _ v: UnsafeBufferPointer<Float>) -> Bool {
        let va = v[Int(a)], vb = v[Int(b)]
        return va > vb || (va == vb && a < b)
    }

    static func sortDescending(_ ids: UnsafeMutableBufferPointer<Int32>, by v: UnsafeBufferPointer<Float>) {
        sort(ids) { before($0, $1, v) }
    }

    /// Heap sort so that `ranksBefore` order holds afterwards.
    static func sort(_ a: UnsafeMutableBufferPointer<Int32>, _ ranksBefore: (Int32, Int32) -> Bool) {
        let n = a.count
        if n < 2 { return }
        if n <= 24 {
            for i in 1..<n {
                let x = a[i]
                var j = i
                while j > 0, ranksBefore(x, a[j - 1]) { a[j] = a[j - 1]; j -= 1 }
                a[j] = x
            }
            return
        }
        // A heap whose root ranks last: popping it to the end leaves best-first order.
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while true {
                var child = 2 * root + 1
                if child >= end { return }
                if child + 1 < end, ranksBefore(a[child], a[child + 1]) { child += 1 }
                if ranksBefore(a[root], a[child]) { a.swapAt(root, child); root = child } else { return }
            }
        }
        var start = n / 2 - 1
        while start >= 0 { siftDown(start, n); start -= 1 }
        var end = n - 1
        while end > 0 { a.swapAt(0, end); siftDown(0, end); end -= 1 }
    }
}
