/// The tokens a logit processor may look at: the prompt followed by what has been
/// generated so far. Penalties that follow Hugging Face look at both; those that follow
/// OpenAI and the suppression of strings look at the generated part only.
public struct TokenHistory {
    /// Prompt tokens, then generated tokens.
    public var tokens: [Int32]
    /// How many of `tokens` are the prompt.
    public var promptCount: Int

    public init(tokens: [Int32], promptCount: Int) {
        self.tokens = tokens
        self.promptCount = max(0, min(promptCount, tokens.count))
    }

    public init(prompt: [Int32]) { self.init(tokens: prompt, promptCount: prompt.count) }

    public var generated: ArraySlice<Int32> { tokens[promptCount...] }

    /// The last `window` tokens (all when `window` is 0).
    public func recent(_ window: Int) -> ArraySlice<Int32> {
        guard window > 0, window < tokens.count else { return tokens[...] }
        return tokens[(tokens.count - window)...]
    }

    /// The generated tokens within the last `window` tokens.
    public func recentGenerated(_ window: Int) -> ArraySlice<Int32> {
        let start = window > 0 ? max(promptCount, tokens.count - window) : promptCount
        return tokens[start...]
    }

    public mutating func append(_ token: Int32) { tokens.append(token) }
}
