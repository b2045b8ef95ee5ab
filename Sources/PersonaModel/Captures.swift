import PersonaTensor

/// One captured activation: a flat float32 array and its shape (outermost first).
public struct CapturedTensor: Sendable {
    public var shape: [Int]
    public var values: [Float]
}

/// The top tokens at one position of one layer's logit lens.
public struct LensEntry: Sendable, Equatable {
    public var id: Int
    public var logit: Float
}

/// Opt-in activation capture with TransformerLens hook names. A forward pass given no
/// `ForwardCaptures` does none of this work and allocates nothing for it.
///
/// Hook names and shapes (B = batch, T = tokens, D = dModel):
/// - `hook_embed` [B, T, D]
/// - `blocks.L.hook_resid_pre`, `blocks.L.hook_resid_mid`, `blocks.L.hook_resid_post` [B, T, D]
/// - `blocks.L.attn.hook_pattern` [B, nHeads, T, S] softmax probabilities (S = keys incl. cache)
/// - `ln_final.hook_normalized` [B, T, D]
/// Logit lens (`lensTopK > 0`): each layer's resid_post through the final norm and head,
/// keeping the top `lensTopK` tokens per position: `lens[L][b·T + t]`.
public final class ForwardCaptures {
    public let requested: Set<String>
    public let lensTopK: Int
    public private(set) var tensors: [String: CapturedTensor] = [:]
    public internal(set) var lens: [[[LensEntry]]] = []

    /// `hooks` may name hooks exactly or use `*` for the layer (`blocks.*.attn.hook_pattern`).
    public init(hooks: [String], lensTopK: Int = 0) {
        requested = Set(hooks)
        self.lensTopK = lensTopK
    }

    /// Whether `name` (with layer `layer`, if it has one) was asked for.
    public func wants(_ name: String, layer: Int? = nil) -> Bool {
        if let layer {
            return requested.contains("blocks.\(layer).\(name)") || requested.contains("blocks.*.\(name)")
        }
        return requested.contains(name)
    }

    func store(_ name: String, shape: [Int], from p: UnsafePointer<Float>) {
        let n = shape.reduce(1, *)
        tensors[name] = CapturedTensor(shape: shape, values: Array(UnsafeBufferPointer(start: p, count: n)))
    }

    public subscript(_ name: String) -> CapturedTensor? { tensors[name] }
}
