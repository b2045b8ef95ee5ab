import PersonaTensor

/// Token ids of B sequences of equal length T (right- or left-padded), with a mask of the
/// real tokens. Positions count real tokens only, so left padding does not shift RoPE.
public struct TokenBatch: Sendable {
    public var tokens: [Int32]      // [B, T]
    public var batchSize: Int       // B
    public var length: Int          // T
    /// [B, T], true where the token is real; nil when every token is.
    public var mask: [Bool]?

    public init(tokens: [Int32], batchSize: Int, length: Int, mask: [Bool]? = nil) {
        self.tokens = tokens; self.batchSize = batchSize; self.length = length; self.mask = mask
    }

    /// One unpadded sequence.
    public init(_ tokens: [Int32]) { self.init(tokens: tokens, batchSize: 1, length: tokens.count) }

    /// Right-pads sequences of different lengths with `padding` to the longest.
    public init(padding sequences: [[Int32]], with padding: Int32 = 0) {
        let t = sequences.map(\.count).max() ?? 0
        var tokens: [Int32] = [], mask: [Bool] = []
        for s in sequences {
            tokens += s + [Int32](repeating: padding, count: t - s.count)
            mask += [Bool](repeating: true, count: s.count) + [Bool](repeating: false, count: t - s.count)
        }
        self.init(tokens: tokens, batchSize: sequences.count, length: t, mask: mask)
    }

    public func isReal(_ b: Int, _ t: Int) -> Bool { mask?[b * length + t] ?? true }
}

/// Which logits a forward pass returns.
public enum LogitRows: Sendable {
    case none
    /// The last real position of each sequence: [B, vocab].
    case last
    /// Every position: [B, T, vocab].
    case all
}

/// What a forward pass returns.
public struct ForwardResult {
    /// Shaped as `LogitRows` says; empty for `.none`.
    public var logits: [Float]
    /// [B, T − 1] when asked for: `nll[b, i] = −log p(tokens[b, i+1] | tokens[b, 0…i])`,
    /// natural log; 0 where token i+1 is padding.
    public var nll: [Float]
    /// Per-block activations when `keepActivations` was set (for a backward pass).
    public var activations: [LayerActivations]
    /// [B·T, D] the residual stream entering the final norm, when activations were kept.
    public var finalResidual: FloatBuffer?
}
