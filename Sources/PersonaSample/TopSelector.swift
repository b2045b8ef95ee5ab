/// Finds the m largest of a vocabulary of values without sorting it: a bounded min-heap whose
/// root is the weakest kept value, fed only by the 64-entry blocks that hold something
/// larger (after the first few hundred entries almost every chunk is skipped whole).
final class TopSelector {
    /// [capacity] heap entries
    private let heapIds: UnsafeMutablePointer<Int32>
    private let heapValues: UnsafeMutablePointer<Float>
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        heapIds = .allocate(capacity: self.capacity)
        heapValues = .allocate(capacity: self.capacity)
        heapIds.initialize(repeating: 0, count: self.capacity)
        heapValues.initialize(repeating: 0, count: self.capacity)
    }
    deinit { heapIds.deallocate(); heapValues.deallocate() }

    /// (a) ranks after (b): lower value, or the same value and a higher id.
    @inline(__always)
    private func weaker(_ i: Int, _ j: Int) -> Bool {
        let a = heapValues[i], b = heapValues[j]
        return a < b || (a == b && heapIds[i] > heapIds[j])
    }

    @inline(__always)
    private func swap(_ i: Int, _ j: Int) {
        let v = heapValues[i]; heapValues[i] = heapValues[j]; heapValues[j] = v
        let d = heapIds[i]; heapIds[i] = heapIds[j]; heapIds[j] = d
    }

    private func siftDown(_ start: Int, _ end: Int) {
        var root = start
        while true {
            var child = 2 * root + 1
            if child >= end { return }
            if child + 1 < end, weaker(child + 1, child) { child += 1 }
            if weaker(child, root) { swap(root, child); root = child } else { return }
        }
    }

    private func siftUp(_ index: Int) {
        var i = index
        while i > 0 {
            let parent = (i - 1) / 2
            if weaker(i, parent) { swap(i, parent); i = parent } else { return }
        }
    }

    /// Writes the ids of the `m` largest finite values to `ids`, best first (ties: lower id
    /// first), and returns how many there were (fewer than `m` when fewer are finite).
    func select(_ values: UnsafeBufferPointer<Float>, count m: Int, into ids: UnsafeMutablePointer<Int32>) -> Int {
        let m = min(m, capacity)
        guard m > 0, let base = values.baseAddress else { return 0 }
        var size = 0
        var threshold = -Float.infinity
        @inline(__always) func offer(_ i: Int) {
            let v = values[i]
            guard v > threshold || (size < m && v > -.infinity) else { return }
            if size < m {
                heapValues[size] = v; heapIds[size] = Int32(i)
                siftUp(size)
                size += 1
                if size == m { threshold = heapValues[0] }
            } else {
                heapValues[0] = v; heapIds[0] = Int32(i)
                siftDown(0, size)
                threshold = heapValues[0]
            }
        }
        let n = values.count
        let raw = UnsafeRawPointer(base)
        var i = 0
        // Blocks of 64: one blended maximum decides whether any entry can enter the heap.
        while i + 64 <= n {
            if size < m || SamplingKernels.blockMaximum(raw, i * 4) > threshold {
                for lane in i..<(i + 64) { offer(lane) }
            }
            i += 64
        }
        while i < n { offer(i); i += 1 }
        // Pop the weakest to the end: best-first order.
        var end = size
        while end > 1 {
            end -= 1
            swap(0, end)
            siftDown(0, end)
        }
        for k in 0..<size { ids[k] = heapIds[k] }
        return size
    }
}
