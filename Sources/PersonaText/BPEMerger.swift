/// How two adjacent symbols merge: `rank << 32 | mergedId` (lower rank merges first), or
/// `UInt64.max` when they do not.
protocol MergeRule {
    func merge(left: Int32, right: Int32, bytes: UnsafeBufferPointer<UInt8>, leftStart: Int, rightEnd: Int) -> UInt64
}

/// Hugging Face BPE: the merges list, ranked by position.
struct PairRankRule: MergeRule {
    let table: MergeTable

    @inline(__always)
    func merge(left: Int32, right: Int32, bytes: UnsafeBufferPointer<UInt8>, leftStart: Int, rightEnd: Int) -> UInt64 {
        guard left >= 0, right >= 0 else { return UInt64.max }
        return table.lookup(left, right)
    }
}

/// SentencePiece BPE (llama.cpp's SPM tokenizer): two symbols merge when their concatenation is
/// a vocabulary entry; the highest score goes first (`rankOfId` is the dense rank of scores,
/// highest 0, so equal scores tie and the leftmost pair wins).
struct ScoreRule: MergeRule {
    let vocabulary: ByteStringTable
    let rankOfId: [UInt32]

    @inline(__always)
    func merge(left: Int32, right: Int32, bytes: UnsafeBufferPointer<UInt8>, leftStart: Int, rightEnd: Int) -> UInt64 {
        let key = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[leftStart..<rightEnd])
        guard let id = vocabulary.value(for: key), Int(id) < rankOfId.count else { return UInt64.max }
        let rank = rankOfId[Int(id)]
        if rank == UInt32.max { return UInt64.max }
        return UInt64(rank) << 32 | UInt64(UInt32(bitPattern: id))
    }
}

/// The merge loop of BPE over one piece. Symbols are byte ranges of the piece in a linked list;
/// each step merges the pair with the lowest rank, leftmost first, as Hugging Face's
/// `Word::merge_all` and llama.cpp's SPM tokenizer do. Short pieces scan a cached rank per pair
/// (the common case, and the naive twin); long ones use a binary heap with stale-entry checks.
struct BPEMerger {
    private(set) var start: [Int32] = []
    private(set) var end: [Int32] = []
    private(set) var id: [Int32] = []
    private var next: [Int32] = []
    private var prev: [Int32] = []
    private var pairKey: [UInt64] = []
    private var heap: [HeapEntry] = []

    /// Pieces with at most this many symbols use the scan.
    static let scanLimit = 48

    private struct HeapEntry {
        var key: UInt64      // rank << 32 | left start byte: lower first, then leftmost
        var merged: Int32
        var left: Int32
        var right: Int32
        var leftLength: Int32
        var rightLength: Int32
    }

    var symbolCount: Int { id.count }

    mutating func reset() {
        start.removeAll(keepingCapacity: true); end.removeAll(keepingCapacity: true)
        id.removeAll(keepingCapacity: true); next.removeAll(keepingCapacity: true)
        prev.removeAll(keepingCapacity: true); pairKey.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    mutating func append(start s: Int, end e: Int, id token: Int32) {
        let index = Int32(id.count)
        start.append(Int32(s)); end.append(Int32(e)); id.append(token)
        prev.append(index - 1); next.append(index + 1)
    }

    /// Calls `body(id, start, end)` for each symbol left, in order.
    @inline(__always)
    func forEachSymbol(_ body: (Int32, Int, Int) -> Void) {
        guard !id.isEmpty else { return }
        var k = 0
        while k >= 0 && k < id.count {
            body(id[k], Int(start[k]), Int(end[k]))
            k = Int(next[k])
        }
    }

    mutating func mergeAll<Rule: MergeRule>(_ rule: Rule, bytes: UnsafeBufferPointer<UInt8>, forceScan: Bool = false) {
        let n = id.count
        guard n > 1 else { return }
        next[n - 1] = -1
        if n <= BPEMerger.scanLimit || forceScan { scanMerge(rule, bytes: bytes) } else { heapMerge(rule, bytes: bytes) }
    }

    private mutating func scanMerge<Rule: MergeRule>(_ rule: Rule, bytes: UnsafeBufferPointer<UInt8>) {
        let n = id.count
        pairKey.removeAll(keepingCapacity: true)
        for k in 0..<(n - 1) {
            pairKey.append(rule.merge(left: id[k], right: id[k + 1], bytes: bytes, leftStart: Int(start[k]), rightEnd: Int(end[k + 1])))
        }
        pairKey.append(UInt64.max)
        while true {
            var best = UInt64.max, bestIndex = -1
            var k = 0
            while k >= 0 {
                // Compare ranks only: equal ranks keep the leftmost.
                if pairKey[k] >> 32 < best >> 32 { best = pairKey[k]; bestIndex = k }
                k = Int(next[k])
            }
            if bestIndex < 0 || best == UInt64.max { return }
            let right = Int(next[bestIndex])
            end[bestIndex] = end[right]
            id[bestIndex] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            let after = Int(next[right])
            next[bestIndex] = Int32(after)
            if after >= 0 {
                prev[after] = Int32(bestIndex)
                pairKey[bestIndex] = rule.merge(left: id[bestIndex], right: id[after], bytes: bytes,
                                                leftStart: Int(start[bestIndex]), rightEnd: Int(end[after]))
            } else {
                pairKey[bestIndex] = UInt64.max
            }
            let before = Int(prev[bestIndex])
            if before >= 0 {
                pairKey[before] = rule.merge(left: id[before], right: id[bestIndex], bytes: bytes,
                                             leftStart: Int(start[before]), rightEnd: Int(end[bestIndex]))
            }
        }
    }

    private mutating func pushPair<Rule: MergeRule>(_ rule: Rule, _ l: Int, _ r: Int, bytes: UnsafeBufferPointer<UInt8>) {
        let m = rule.merge(left: id[l], right: id[r], bytes: bytes, leftStart: Int(start[l]), rightEnd: Int(end[r]))
        guard m != UInt64.max else { return }
        heap.append(HeapEntry(key: (m >> 32) << 32 | UInt64(UInt32(start[l])),
                              merged: Int32(truncatingIfNeeded: m & 0xFFFF_FFFF),
                              left: Int32(l), right: Int32(r),
                              leftLength: end[l] - start[l], rightLength: end[r] - start[r]))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].key < heap[parent].key else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popHeap() -> HeapEntry? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let l = 2 * parent + 1, r = l + 1
                var smallest = parent
                if l < heap.count && heap[l].key < heap[smallest].key { smallest = l }
                if r < heap.count && heap[r].key < heap[smallest].key { smallest = r }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }

    private mutating func heapMerge<Rule: MergeRule>(_ rule: Rule, bytes: UnsafeBufferPointer<UInt8>) {
        let n = id.count
        heap.removeAll(keepingCapacity: true)
        var alive = [Bool](repeating: true, count: n)
        for k in 0..<(n - 1) { pushPair(rule, k, k + 1, bytes: bytes) }
        while let top = popHeap() {
            let l = Int(top.left), r = Int(top.right)
            // Stale: a side was merged away or grew since the entry was pushed.
            guard alive[l], alive[r], Int(next[l]) == r,
                  end[l] - start[l] == top.leftLength, end[r] - start[r] == top.rightLength else { continue }
            end[l] = end[r]
            id[l] = top.merged
            alive[r] = false
            let after = Int(next[r])
            next[l] = Int32(after)
            if after >= 0 { prev[after] = Int32(l); pushPair(rule, l, after, bytes: bytes) }
            let before = Int(prev[l])
            if before >= 0 { pushPair(rule, before, l, bytes: bytes) }
        }
    }
}
