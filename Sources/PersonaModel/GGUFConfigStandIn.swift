import PersonaTensor

/// Stand-in until the formats branch lands `ModelFile`: reads a llama GGUF's configuration
/// from its metadata so that the forward pass can be checked against the goldens.
extension LlamaModel {
    public static func load(path: String, threads: Int = 2) throws -> LlamaModel {
        let file = try GGUFFile(path: path)
        func int(_ key: String) throws -> Int {
            guard let v = file.int("llama." + key) else { throw ModelError.invalid("\(path): metadata llama.\(key) is missing") }
            return v
        }
        let d = try int("embedding_length"), heads = try int("attention.head_count")
        let kvHeads = file.int("llama.attention.head_count_kv") ?? heads
        let vocab = file.int("llama.vocab_size") ?? file.tensor(named: "token_embd.weight")?.shape.last ?? 0
        let config = LlamaConfig(vocabSize: vocab, dModel: d, nLayers: try int("block_count"), nHeads: heads, nKVHeads: kvHeads,
                                 headDim: d / heads, dFF: try int("feed_forward_length"),
                                 ropeTheta: file.double("llama.rope.freq_base") ?? 10_000,
                                 ropeDimensions: file.int("llama.rope.dimension_count") ?? d / heads, ropeScaling: nil,
                                 rmsNormEps: file.double("llama.attention.layer_norm_rms_epsilon") ?? 1e-5,
                                 contextLength: try int("context_length"), tiedOutput: file.tensor(named: "output.weight") == nil)
        let weights = try LlamaWeights.load(config: config, owner: file) { name in
            file.tensor(named: name).map { ($0.type, $0.shape, file.data(for: $0)) }
        }
        return try LlamaModel(config: config, weights: weights, threads: threads)
    }
}
