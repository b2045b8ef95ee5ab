/// A trainable addition to the projections of the model (LoRA): after each projection
/// `y = x · Wᵀ`, the forward pass calls `addDelta`, which adds the adapter's contribution
/// (for LoRA: `y += (alpha / r) · (x · Aᵀ) · Bᵀ`) in place. The base weights stay frozen
/// and quantized.
///
/// x: [rows, in] (the projection's input: normed residual for q/k/v/gate/up, attention
/// output for o, SwiGLU hidden for down); y: [rows, out] with row stride `yStride`.
/// For `o` and `down`, y is the residual stream itself (the projection accumulates into it),
/// which is what the residual connection adds anyway.
public protocol ProjectionAdapter: AnyObject {
    func addDelta(layer: Int, projection: Projection, x: UnsafePointer<Float>, rows: Int,
                  y: UnsafeMutablePointer<Float>, yStride: Int)
}
