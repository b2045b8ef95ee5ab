/// A hash table from byte strings to Int32, keys kept in one arena: vocabulary lookups and the
/// encode cache run on UTF-8 slices of the input without making a `String` per lookup.
struct ByteStringTable {
    private var arena: [UInt8] = []
    private var keyStart: [Int32] = []
    private var keyLength: [Int32] = []
    private var values: [Int32] = []
    /// Open addressing, linear probing: entry index or -1.
    private var slots: [Int32]
    private var mask: Int

    init(expectedCount: Int = 16) {
        var capacity = 16
        while capacity < expectedCount * 2 { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
    }

    var count: Int { values.count }
    var arenaBytes: Int { arena.count }

    /// A fast hash of short keys (8 bytes per step, multiply-mix).
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
        var i = 0
        let n = key.count
        while i + 8 <= n {
            let w = key.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        if i < n {
            var w: UInt64 = 0
            var shift: UInt64 = 0
            while i < n { w |= UInt64(key[i]) << shift; shift += 8; i += 1 }
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
        }
        h = h &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// The value stored for `key`, if any.
    @inline(__always)
    func value(for key: UnsafeRawBufferPointer) -> Int32? {
        let index = entryIndex(for: key, hash: ByteStringTable.hash(key))
        return index.found ? values[Int(slots[index.slot])] : nil
    }

    @inline(__always)
    private func entryIndex(for key: UnsafeRawBufferPointer, hash: Int) -> (slot: Int, found: Bool) {
        var slot = hash & mask
        return slots.withUnsafeBufferPointer { slotBuf in
            arena.withUnsafeBytes { arenaBuf in
                while true {
                    let entry = Int(slotBuf[slot])
                    if entry < 0 { return (slot, false) }
                    let length = Int(keyLength[entry])
                    if length == key.count {
                        let start = Int(keyStart[entry])
                        if length == 0 || memcmpEqual(arenaBuf.baseAddress! + start, key.baseAddress!, length) {
                            return (slot, true)
                        }
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    /// Stores `value` for `key`; an existing key keeps its first value unless `replace`.
    mutating func insert(_ key: UnsafeRawBufferPointer, value: Int32, replace: Bool = false) {
        if (values.count + 1) * 2 > slots.count { grow() }
        let index = entryIndex(for: key, hash: ByteStringTable.hash(key))
        if index.found {
            if replace { values[Int(slots[index.slot])] = value }
            return
        }
        slots[index.slot] = Int32(values.count)
        keyStart.append(Int32(arena.count))
        keyLength.append(Int32(key.count))
        arena.append(contentsOf: key)
        values.append(value)
    }

    mutating func insert(_ key: [UInt8], value: Int32, replace: Bool = false) {
        key.withUnsafeBytes { insert($0, value: value, replace: replace) }
    }

    func value(for key: [UInt8]) -> Int32? { key.withUnsafeBytes { value(for: $0) } }

    mutating func removeAll() {
        arena.removeAll(keepingCapacity: true)
        keyStart.removeAll(keepingCapacity: true)
        keyLength.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        for i in slots.indices { slots[i] = -1 }
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        arena.withUnsafeBytes { arenaBuf in
            for entry in 0..<values.count {
                let key = UnsafeRawBufferPointer(rebasing: arenaBuf[Int(keyStart[entry])..<Int(keyStart[entry] + keyLength[entry])])
                var slot = ByteStringTable.hash(key) & mask
                while slots[slot] >= 0 { slot = (slot + 1) & mask }
                slots[slot] = Int32(entry)
            }
        }
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    var i = 0
    while i + 8 <= count {
        if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
        i += 8
    }
    while i < count {
        if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
        i += 1
    }
    return true
}

/// BPE merge table: (left id, right id) → (rank, merged id), open addressing on one UInt64 key.
struct MergeTable {
    private var keys: [UInt64]
    private var packed: [UInt64]
    private var mask: Int
    private(set) var count = 0
    private static let empty = UInt64.max

    init(expectedCount: Int) {
        var capacity = 16
        while capacity < expectedCount * 2 { capacity <<= 1 }
        keys = [UInt64](repeating: MergeTable.empty, count: capacity)
        packed = [UInt64](repeating: 0, count: capacity)
        mask = capacity - 1
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Adds a merge; a pair listed twice keeps its first (lowest) rank, as Hugging Face does.
    mutating func insert(left: Int32, right: Int32, rank: UInt32, merged: Int32) {
        if (count + 1) * 2 > keys.count { grow() }
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        var s = MergeTable.slot(key, mask)
        while keys[s] != MergeTable.empty {
            if keys[s] == key { return }
            s = (s + 1) & mask
        }
        keys[s] = key
        packed[s] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged))
        count += 1
    }

    /// (rank << 32 | merged id) for the pair, or UInt64.max when the pair does not merge.
    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> UInt64 {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        return keys.withUnsafeBufferPointer { k in
            var s = MergeTable.slot(key, mask)
            while true {
                let stored = k[s]
                if stored == key { return packed[s] }
                if stored == MergeTable.empty { return UInt64.max }
                s = (s + 1) & mask
            }
        }
    }

    private mutating func grow() {
        let oldKeys = keys, oldPacked = packed
        let capacity = keys.count * 2
        keys = [UInt64](repeating: MergeTable.empty, count: capacity)
        packed = [UInt64](repeating: 0, count: capacity)
        mask = capacity - 1
        for (i, key) in oldKeys.enumerated() where key != MergeTable.empty {
            var s = MergeTable.slot(key, mask)
            while keys[s] != MergeTable.empty { s = (s + 1) & mask }
            keys[s] = key
            packed[s] = oldPacked[i]
        }
    }
}
