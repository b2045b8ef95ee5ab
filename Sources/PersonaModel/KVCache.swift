import PersonaTensor

/// Keys and values of the positions a sequence has seen, per layer, with a fixed capacity
/// chosen up front: appending past it is an error, never a silent overrun or reallocation.
/// One cache holds one sequence.
public final class KVCache {
    public let capacity: Int
    /// Positions filled so far (the next token's position).
    public private(set) var count: Int = 0
    let kvWidth: Int
    let keys: [FloatBuffer]    // per layer: [capacity, nKVHeads, headDim] (keys after RoPE)
    let values: [FloatBuffer]  // per layer: [capacity, nKVHeads, headDim]

    /// A cache for `capacity` positions of `config`'s model (at most its context length).
    public init(config: LlamaConfig, capacity: Int) throws {
        guard capacity > 0, capacity <= config.contextLength else {
            throw ModelError.contextFull(needed: capacity, capacity: config.contextLength, limit: "model's context")
        }
        self.capacity = capacity
        kvWidth = config.nKVHeads * config.headDim
        keys = (0..<config.nLayers).map { _ in FloatBuffer(count: capacity * config.nKVHeads * config.headDim) }
        values = (0..<config.nLayers).map { _ in FloatBuffer(count: capacity * config.nKVHeads * config.headDim) }
    }

    /// Forgets every position (the buffers are kept).
    public func reset() { count = 0 }

    /// Forgets positions from `newCount` on (backtracking, beams sharing a prefix).
    public func truncate(to newCount: Int) { count = max(0, min(count, newCount)) }

    /// Room left.
    public var remaining: Int { capacity - count }

    func ensureRoom(for n: Int) throws {
        guard count + n <= capacity else {
            throw ModelError.contextFull(needed: count + n, capacity: capacity, limit: "KV cache")
        }
    }

    /// Stores `n` new positions of layer `layer` (k, v: [n, nKVHeads, headDim]) after `count`.
    func store(layer: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, n: Int) {
        (keys[layer].pointer + count * kvWidth).update(from: k, count: n * kvWidth)
        (values[layer].pointer + count * kvWidth).update(from: v, count: n * kvWidth)
    }

    func advance(by n: Int) { count += n }

    /// An independent copy of the filled positions (beam search and several candidates
    /// continue one prompt in different ways). `config` must be the one the cache was made for.
    public func copy(config: LlamaConfig) throws -> KVCache {
        let twin = try KVCache(config: config, capacity: capacity)
        guard twin.kvWidth == kvWidth, twin.keys.count == keys.count else {
            throw ModelError.invalid("KV cache: copy asked for a model of another shape")
        }
        for layer in keys.indices {
            twin.keys[layer].pointer.update(from: keys[layer].pointer, count: count * kvWidth)
            twin.values[layer].pointer.update(from: values[layer].pointer, count: count * kvWidth)
        }
        twin.count = count
        return twin
    }

    /// Bytes held (both tensors, all layers).
    public var byteCount: Int { 2 * keys.count * capacity * kvWidth * MemoryLayout<Float>.stride }
}
