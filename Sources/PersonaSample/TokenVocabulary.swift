/// The byte text of every token: what string suppression, stop strings and DRY sequence
/// breakers need from a tokenizer. The real tokenizer is adapted to it by the session;
/// tests use a small hand-built list.
public protocol TokenVocabulary {
    /// Number of tokens (ids are 0..<count).
    var count: Int { get }
    /// The UTF-8 bytes the token contributes to the text (a partial character is allowed).
    func bytes(of id: Int32) -> [UInt8]
}

/// A vocabulary given as a list of byte strings (tests, small tools).
public struct ListVocabulary: TokenVocabulary {
    public let tokens: [[UInt8]]
    public init(bytes tokens: [[UInt8]]) { self.tokens = tokens }
    public init(_ texts: [String]) { self.tokens = texts.map { Array($0.utf8) } }
    public var count: Int { tokens.count }
    public func bytes(of id: Int32) -> [UInt8] {
        guard id >= 0, Int(id) < tokens.count else { return [] }
        return tokens[Int(id)]
    }
}

/// All token texts flattened into one buffer, read many times per step without allocating.
public struct TokenByteTable {
    /// [count + 1] start of each token's bytes in `storage`.
    let offsets: [Int32]
    /// The bytes of every token, one after another.
    let storage: [UInt8]
    public let count: Int

    public init(_ vocabulary: TokenVocabulary) {
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(vocabulary.count + 1)
        var storage: [UInt8] = []
        for id in 0..<vocabulary.count {
            storage.append(contentsOf: vocabulary.bytes(of: Int32(id)))
            offsets.append(Int32(storage.count))
        }
        self.offsets = offsets
        self.storage = storage
        self.count = vocabulary.count
    }

    /// Calls `body` with the bytes of `id` (empty for an id outside the table).
    @inline(__always)
    public func withBytes<R>(of id: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        guard id >= 0, Int(id) < count else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        let start = Int(offsets[Int(id)]), end = Int(offsets[Int(id) + 1])
        return try storage.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[start..<end]))
        }
    }

    public func bytes(of id: Int32) -> ArraySlice<UInt8> {
        guard id >= 0, Int(id) < count else { return [] }
        return storage[Int(offsets[Int(id)])..<Int(offsets[Int(id) + 1])]
    }

    /// The concatenated bytes of `ids`.
    public func text(_ ids: some Sequence<Int32>) -> [UInt8] {
        var out: [UInt8] = []
        for id in ids { out.append(contentsOf: bytes(of: id)) }
        return out
    }
}
