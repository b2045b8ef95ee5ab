/// The dimensions of a Llama model that training needs (read from the model's config).
public struct ModelShape: Equatable, Sendable {
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    public var kvHeads: Int
    public var intermediate: Int
    public var vocab: Int
    public var ropeBase: Float
    public var normEpsilon: Float

    public init(layers: Int, hidden: Int, heads: Int, kvHeads: Int, intermediate: Int, vocab: Int,
                ropeBase: Float = 10_000, normEpsilon: Float = 1e-5) {
        self.layers = layers; self.hidden = hidden; self.heads = heads; self.kvHeads = kvHeads
        self.intermediate = intermediate; self.vocab = vocab; self.ropeBase = ropeBase; self.normEpsilon = normEpsilon
    }

    public var headDim: Int { hidden / heads }
    public var kvDim: Int { kvHeads * headDim }

    /// (out, in) of a projection.
    public func dimensions(of target: LoRATarget) -> (out: Int, in: Int) {
        switch target {
        case .q: return (hidden, hidden)
        case .k, .v: return (kvDim, hidden)
        case .o: return (hidden, hidden)
        case .gate, .up: return (intermediate, hidden)
        case .down: return (hidden, intermediate)
        }
    }
}
