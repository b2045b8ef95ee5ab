/// A suffix array over a sequence of integer symbols, built by prefix doubling with radix
/// sorts (O(n log n), no comparison sorts): `suffixes[r]` is the start of the r-th smallest
/// suffix. Callers make suffixes of different documents incomparable by ending each document
/// with a symbol of its own.
public struct SuffixArray: Sendable {
    public let suffixes: [Int32]

    public init(_ text: [Int32], alphabetSize: Int) {
        let n = text.count
        guard n > 0 else { suffixes = []; return }
        var sa = [Int32](repeating: 0, count: n)
        var rank = [Int32](repeating: 0, count: n)
        var temp = [Int32](repeating: 0, count: n)
        var second = [Int32](repeating: 0, count: n)
        // Round 0: counting sort by the first symbol.
        var counts = [Int](repeating: 0, count: max(alphabetSize, n) + 2)
        for c in text { counts[Int(c) + 1] += 1 }
        for i in 1..<counts.count { counts[i] += counts[i - 1] }
        for i in 0..<n { let c = Int(text[i]); sa[counts[c]] = Int32(i); counts[c] += 1 }
        rank[Int(sa[0])] = 0
        var classes = 1
        for r in 1..<n {
            if text[Int(sa[r])] != text[Int(sa[r - 1])] { classes += 1 }
            rank[Int(sa[r])] = Int32(classes - 1)
        }
        var k = 1
        while classes < n && k < n {
            // Sort by (rank[i], rank[i+k]): suffixes whose second half is past the end come first,
            // then the rest in the order of their second half, then a stable sort by the first.
            var p = 0
            for i in (n - k)..<n { second[p] = Int32(i); p += 1 }
            for r in 0..<n where Int(sa[r]) >= k { second[p] = sa[r] - Int32(k); p += 1 }
            for i in 0..<counts.count { counts[i] = 0 }
            for i in 0..<n { counts[Int(rank[i]) + 1] += 1 }
            for i in 1..<(classes + 1) { counts[i] += counts[i - 1] }
            for j in 0..<n {
                let i = Int(second[j])
                let c = Int(rank[i])
                sa[counts[c]] = Int32(i)
                counts[c] += 1
            }
            temp[Int(sa[0])] = 0
            classes = 1
            for r in 1..<n {
                let a = Int(sa[r]), b = Int(sa[r - 1])
                let ra2: Int32 = a + k < n ? rank[a + k] : -1
                let rb2: Int32 = b + k < n ? rank[b + k] : -1
                if rank[a] != rank[b] || ra2 != rb2 { classes += 1 }
                temp[a] = Int32(classes - 1)
            }
            swap(&rank, &temp)
            k *= 2
        }
        suffixes = sa
    }

    /// The naive twin: suffixes sorted by comparing them (tests only; O(n² log n)).
    static func naive(_ text: [Int32]) -> [Int32] {
        (0..<text.count).sorted { text[$0...].lexicographicallyPrecedes(text[$1...]) }.map(Int32.init)
    }
}
