/// The one table that maps checkpoint names between Hugging Face (`model.layers.3.self_attn.q_proj.weight`)
/// and GGUF (`blk.3.attn_q.weight`). GGUF names are canonical in this project.
///
/// The Q/K permutation: llama.cpp's `convert_hf_to_gguf.py` reorders the rows of `q_proj` and
/// `k_proj` within each head so that ggml's interleaved ("normal") RoPE, which rotates pairs
/// (2j, 2j+1), gives what transformers' rotate-half RoPE gives on the original rows, which
/// rotates pairs (j, j + headDim/2):
///
///     permute(w, n_head) = w.reshape(n_head, 2, rows // n_head // 2, cols).swapaxes(1, 2).reshape(w.shape)
///
/// with n_head = num_key_value_heads for k_proj. So GGUF row h·headDim + 2j + i is Hugging Face
/// row h·headDim + i·headDim/2 + j (i ∈ {0, 1}, j < headDim/2). `ModelFile` applies it to
/// safetensors checkpoints so that both sources follow the GGUF convention.
public enum TensorNames {
    /// Names outside the layers.
    public static let global: [(gguf: String, huggingFace: String)] = [
        ("token_embd.weight", "model.embed_tokens.weight"),
        ("output_norm.weight", "model.norm.weight"),
        ("output.weight", "lm_head.weight"),
    ]

    /// Names inside layer N, after `blk.N.` / `model.layers.N.`.
    public static let perLayer: [(gguf: String, huggingFace: String)] = [
        ("attn_norm.weight", "input_layernorm.weight"),
        ("attn_q.weight", "self_attn.q_proj.weight"),
        ("attn_k.weight", "self_attn.k_proj.weight"),
        ("attn_v.weight", "self_attn.v_proj.weight"),
        ("attn_output.weight", "self_attn.o_proj.weight"),
        ("ffn_norm.weight", "post_attention_layernorm.weight"),
        ("ffn_gate.weight", "mlp.gate_proj.weight"),
        ("ffn_up.weight", "mlp.up_proj.weight"),
        ("ffn_down.weight", "mlp.down_proj.weight"),
    ]

    public static func huggingFaceName(forGGUF name: String) -> String? {
        if let entry = global.first(where: { $0.gguf == name }) { return entry.huggingFace }
        guard let (layer, suffix) = split(name, prefix: "blk."),
              let entry = perLayer.first(where: { $0.gguf == suffix }) else { return nil }
        return "model.layers.\(layer)." + entry.huggingFace
    }

    public static func ggufName(forHuggingFace name: String) -> String? {
        if let entry = global.first(where: { $0.huggingFace == name }) { return entry.gguf }
        guard let (layer, suffix) = split(name, prefix: "model.layers."),
              let entry = perLayer.first(where: { $0.huggingFace == suffix }) else { return nil }
        return "blk.\(layer)." + entry.gguf
    }

    /// For `blk.N.attn_q.weight` / `blk.N.attn_k.weight`: whether it is the query (permuted with
    /// nHeads groups) or the key (nKVHeads groups); nil for every other tensor.
    public static func ropePermutation(forGGUF name: String) -> RopeRows? {
        guard let (_, suffix) = split(name, prefix: "blk.") else { return nil }
        switch suffix {
        case "attn_q.weight": return .query
        case "attn_k.weight": return .key
        default: return nil
        }
    }

    public enum RopeRows { case query, key }

    /// Every canonical tensor name a Llama model of `config` has (`output.weight` only when untied).
    public static func expectedNames(_ config: LlamaConfig) -> [String] {
        var names = ["token_embd.weight"]
        for layer in 0..<config.nLayers { names += perLayer.map { "blk.\(layer)." + $0.gguf } }
        names.append("output_norm.weight")
        if !config.tiedOutput { names.append("output.weight") }
        return names
    }

    /// Expected GGUF shape (innermost first) of a canonical tensor, or nil for an unknown name.
    public static func expectedShape(_ name: String, _ config: LlamaConfig) -> [Int]? {
        switch name {
        case "token_embd.weight", "output.weight": return [config.dModel, config.vocabSize]
        case "output_norm.weight": return [config.dModel]
        default: break
        }
        guard let (_, suffix) = split(name, prefix: "blk.") else { return nil }
        switch suffix {
        case "attn_norm.weight", "ffn_norm.weight": return [config.dModel]
        case "attn_q.weight": return [config.dModel, config.qDim]
        case "attn_k.weight", "attn_v.weight": return [config.dModel, config.kvDim]
        case "attn_output.weight": return [config.qDim, config.dModel]
        case "ffn_gate.weight", "ffn_up.weight": return [config.dModel, config.dFF]
        case "ffn_down.weight": return [config.dFF, config.dModel]
        default: return nil
        }
    }

    /// "blk.12.attn_q.weight" with prefix "blk." → (12, "attn_q.weight").
    private static func split(_ name: String, prefix: String) -> (Int, String)? {
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]), layer >= 0 else { return nil }
        return (layer, String(rest[rest.index(after: dot)...]))
    }
}

/// Reorders the rows of a Hugging Face q_proj / k_proj matrix into the GGUF (interleaved RoPE)
/// order: destination row h·headDim + 2j + i ← source row h·headDim + i·headDim/2 + j.
/// Rows are `rowBytes` bytes each (any element type); `rows` = groups · headDim.
public func permuteRowsHuggingFaceToGGUF(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer,
                                         rowBytes: Int, groups: Int, headDim: Int) {
    let half = headDim / 2
    for h in 0..<groups {
        for j in 0..<half {
            for i in 0..<2 {
                let to = h * headDim + 2 * j + i
                let from = h * headDim + i * half + j
                (destination + to * rowBytes).copyMemory(from: source + from * rowBytes, byteCount: rowBytes)
            }
        }
    }
}

/// The inverse of `permuteRowsHuggingFaceToGGUF` (what transformers' GGUF loader applies).
public func permuteRowsGGUFToHuggingFace(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer,
                                         rowBytes: Int, groups: Int, headDim: Int) {
    let half = headDim / 2
    for h in 0..<groups {
        for j in 0..<half {
            for i in 0..<2 {
                let from = h * headDim + 2 * j + i
                let to = h * headDim + i * half + j
                (destination + to * rowBytes).copyMemory(from: source + from * rowBytes, byteCount: rowBytes)
            }
        }
    }
}
