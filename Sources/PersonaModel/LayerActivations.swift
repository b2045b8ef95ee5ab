import PersonaTensor

/// The activations of one transformer block for `rows` = B·T tokens: scratch of the plain
/// forward pass (one set reused by every block) and, with `keepActivations`, one set per
/// block kept for a backward pass. Everything a block's backward needs is here.
public final class LayerActivations {
    public let rows: Int
    public let input: FloatBuffer                // [rows, D] residual entering the block
    public let attentionNormed: FloatBuffer      // [rows, D]
    public let attentionInverseRMS: FloatBuffer  // [rows]
    public let q: FloatBuffer                    // [rows, nHeads·headDim] after RoPE
    public let k: FloatBuffer                    // [rows, nKVHeads·headDim] after RoPE
    public let v: FloatBuffer                    // [rows, nKVHeads·headDim]
    /// [B, nHeads, T, S] softmax probabilities; kept only when asked for.
    public internal(set) var probabilities: FloatBuffer?
    public let attentionOutput: FloatBuffer      // [rows, nHeads·headDim] input of the o projection
    public let mid: FloatBuffer                  // [rows, D] residual after attention
    public let ffnNormed: FloatBuffer            // [rows, D]
    public let ffnInverseRMS: FloatBuffer        // [rows]
    public let gate: FloatBuffer                 // [rows, dFF]
    public let up: FloatBuffer                   // [rows, dFF]
    public let hidden: FloatBuffer               // [rows, dFF] silu(gate)·up, input of down

    init(rows: Int, config c: LlamaConfig) {
        self.rows = rows
        let qWidth = c.nHeads * c.headDim, kvWidth = c.nKVHeads * c.headDim
        input = FloatBuffer(count: rows * c.dModel)
        attentionNormed = FloatBuffer(count: rows * c.dModel)
        attentionInverseRMS = FloatBuffer(count: rows)
        q = FloatBuffer(count: rows * qWidth)
        k = FloatBuffer(count: rows * kvWidth)
        v = FloatBuffer(count: rows * kvWidth)
        attentionOutput = FloatBuffer(count: rows * qWidth)
        mid = FloatBuffer(count: rows * c.dModel)
        ffnNormed = FloatBuffer(count: rows * c.dModel)
        ffnInverseRMS = FloatBuffer(count: rows)
        gate = FloatBuffer(count: rows * c.dFF)
        up = FloatBuffer(count: rows * c.dFF)
        hidden = FloatBuffer(count: rows * c.dFF)
    }
}
