import PersonaCore
import PersonaTensor

/// Timed runs of the two paths users wait on: reading a prompt and generating from it.
extension LlamaModel {
    /// Seconds to read `prompt` into an empty cache (one batched forward, last logits only).
    public func prefillSeconds(_ prompt: [Int32], cache: KVCache) throws -> Double {
        cache.reset()
        let start = monotonicSeconds()
        _ = try forward(TokenBatch(prompt), cache: cache, logits: .last)
        return monotonicSeconds() - start
    }

    /// Reads `prompt`, then generates `newTokens` greedily one at a time through the cache;
    /// returns the seconds of the generation alone and the tokens generated.
    public func greedyDecode(_ prompt: [Int32], newTokens: Int, cache: KVCache) throws -> (seconds: Double, tokens: [Int32]) {
        cache.reset()
        var logits = try forward(TokenBatch(prompt), cache: cache, logits: .last).logits
        var generated: [Int32] = []
        let start = monotonicSeconds()
        for _ in 0..<newTokens {
            let next = Int32(topK(&logits, count: logits.count, k: 1)[0].index)
            generated.append(next)
            logits = try forward(TokenBatch([next]), cache: cache, logits: .last).logits
        }
        return (monotonicSeconds() - start, generated)
    }
}
