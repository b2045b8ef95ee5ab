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

    /// Bytes held (both tensors, all layers).
    public var byteCount: Int { 2 * keys.count * capacity * kvWidth * MemoryLayout<Float>.stride }
}
