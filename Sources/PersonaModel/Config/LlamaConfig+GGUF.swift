import PersonaTensor

extension LlamaConfig {
    /// The architectures whose GGUF metadata and tensors this reader understands. llama.cpp's
    /// converter writes Mistral and TinyLlama as `llama` too.
    public static let supportedGGUFArchitectures = ["llama"]

    /// Reads `llama.*` metadata (ggml `docs/gguf.md` key names) and checks it.
    public init(gguf file: GGUFFile) throws {
        let path = file.path
        guard let architecture = file.string("general.architecture") else {
            throw ModelError.invalid("\(path): no general.architecture metadata; not a model GGUF")
        }
        guard Self.supportedGGUFArchitectures.contains(architecture) else {
            throw ModelError.invalid("\(path): architecture '\(architecture)' is not supported (supported: llama — SmolLM2, TinyLlama, Llama 2/3, Mistral)")
        }
        let prefix = architecture + "."
        func required(_ key: String) throws -> Int {
            guard let value = file.int(prefix + key) else {
                throw ModelError.invalid("\(path): missing or non-integer metadata \(prefix + key)")
            }
            return value
        }
        let dModel = try required("embedding_length")
        let nHeads = try required("attention.head_count")
        let nKVHeads = file.int(prefix + "attention.head_count_kv") ?? nHeads
        if file.int(prefix + "attention.key_length") == nil, nHeads > 0, dModel % nHeads != 0 {
            throw ModelError.invalid("\(path): \(prefix)embedding_length \(dModel) is not a multiple of the head count \(nHeads) and there is no \(prefix)attention.key_length")
        }
        let headDim = file.int(prefix + "attention.key_length") ?? (nHeads > 0 ? dModel / nHeads : 0)
        let vocabSize = file.int(prefix + "vocab_size")
            ?? file.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count
            ?? file.tensor(named: "token_embd.weight").flatMap { $0.shape.count == 2 ? $0.shape[1] : nil }
        guard let vocabSize else {
            throw ModelError.invalid("\(path): cannot tell the vocabulary size (no \(prefix)vocab_size, tokenizer.ggml.tokens or token_embd.weight)")
        }
        var scaling = RopeScaling.none
        let scalingType = file.string(prefix + "rope.scaling.type")
        let scalingFactor = file.double(prefix + "rope.scaling.factor") ?? file.double(prefix + "rope.scale_linear")
        switch scalingType {
        case nil, "none":
            if scalingType == nil, let factor = scalingFactor, factor != 1 { scaling = .linear(factor: factor) }
        case "linear":
            scaling = .linear(factor: scalingFactor ?? 1)
        case let other?:
            throw ModelError.invalid("\(path): RoPE scaling '\(other)' is not supported (supported: none, linear, llama3)")
        }
        self.init(architecture: architecture,
                  vocabSize: vocabSize,
                  dModel: dModel,
                  nLayers: try required("block_count"),
                  nHeads: nHeads,
                  nKVHeads: nKVHeads,
                  headDim: headDim,
                  dFF: try required("feed_forward_length"),
                  ropeTheta: file.double(prefix + "rope.freq_base") ?? 10_000,
                  ropeDimensions: file.int(prefix + "rope.dimension_count") ?? headDim,
                  ropeScaling: scaling,
                  rmsNormEps: file.double(prefix + "attention.layer_norm_rms_epsilon") ?? 1e-5,
                  contextLength: file.int(prefix + "context_length") ?? 2048,
                  tiedOutput: file.tensor(named: "output.weight") == nil)
        try validate(source: path)
    }
}
