import Foundation

/// Per-thread working memory for encoding: scratch arrays and a bounded cache from piece bytes
/// to ids. A tokenizer keeps a few of these, each behind its own lock, so that threads encoding
/// at once each take a free one instead of queueing on a single lock.
struct EncoderState {
    var merger = BPEMerger()
    var pieces: [Range<Int>] = []
    var scratch: [UInt8] = []
    var cache = PieceCache()
}

/// Piece bytes → ids. Cleared when full, which bounds memory without bookkeeping per entry.
struct PieceCache {
    private var table = ByteStringTable(expectedCount: 1 << 14)
    /// For each entry: count, then the ids.
    private var ids: [Int32] = []
    static let maxEntries = 1 << 16
    static let maxPieceBytes = 96

    @inline(__always)
    func lookup(_ key: UnsafeRawBufferPointer, into out: inout [Int32]) -> Bool {
        guard let at = table.value(for: key) else { return false }
        let start = Int(at)
        let count = Int(ids[start])
        out.append(contentsOf: ids[(start + 1)..<(start + 1 + count)])
        return true
    }

    mutating func insert(_ key: UnsafeRawBufferPointer, ids newIds: ArraySlice<Int32>) {
        guard key.count <= PieceCache.maxPieceBytes else { return }
        if table.count >= PieceCache.maxEntries { table.removeAll(); ids.removeAll(keepingCapacity: true) }
        let at = Int32(ids.count)
        ids.append(Int32(newIds.count))
        ids.append(contentsOf: newIds)
        table.insert(key, value: at)
    }
}

final class EncoderPool: @unchecked Sendable {
    private final class Shard {
        let lock = NSLock()
        var state = EncoderState()
    }
    private let shards: [Shard]

    init(shards count: Int = 4) { shards = (0..<max(1, count)).map { _ in Shard() } }

    func withState<R>(_ body: (inout EncoderState) -> R) -> R {
        for shard in shards where shard.lock.try() {
            defer { shard.lock.unlock() }
            return body(&shard.state)
        }
        let shard = shards[0]
        shard.lock.lock()
        defer { shard.lock.unlock() }
        return body(&shard.state)
    }
}
