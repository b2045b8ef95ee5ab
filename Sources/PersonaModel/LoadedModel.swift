import PersonaCore
import PersonaTensor
import PersonaText

/// A model as the session holds it: the file it came from, the runnable model and the
/// tokenizer the same file carries.
public final class LoadedModel {
    public let path: String
    public let model: LlamaModel
    public let tokenizer: Tokenizer
    /// What quantizing the projections at load did (nil when the weights are as stored).
    public let quantization: QuantizationReport?

    public init(path: String, model: LlamaModel, tokenizer: Tokenizer, quantization: QuantizationReport? = nil) {
        self.path = path; self.model = model; self.tokenizer = tokenizer; self.quantization = quantization
    }

    /// Opens a GGUF file or a Hugging Face folder: weights stay mapped and in their stored formats,
    /// unless `quantize` asks for the projection matrices of a float model (F32/F16/BF16) to be
    /// quantized into owned buffers (NF4, NF4 with double-quantized scales, or Q8_0); a file
    /// whose projections are already quantized is refused.
    public static func open(path: String, threads: Int = 2, quantize: LoadQuantization = .none,
                            progress: ProgressReporter? = nil) throws -> LoadedModel {
        let file = try ModelFile.open(path: path)
        let tokenizer: Tokenizer
        if let gguf = file.gguf {
            tokenizer = try loadTokenizer(gguf: gguf)
        } else {
            tokenizer = try loadTokenizer(huggingFaceDirectory: path)
        }
        guard quantize != .none else {
            return LoadedModel(path: path, model: try LlamaModel(file: file, threads: threads), tokenizer: tokenizer)
        }
        let stored = try LlamaWeights.load(config: file.config, owner: file) { name in
            guard file.hasTensor(name), let view = try? file.tensor(name) else { return nil }
            return (view.type, view.shape, view.data)
        }
        let (weights, report) = try stored.quantizingProjections(quantize, threads: threads, progress: progress)
        // The float Q/K copies made to permute a Hugging Face checkpoint's rows are no longer read.
        file.releasePermutedCopies()
        // Nor are the projections' pages of the mapped file (the embedding's stay mapped and used).
        let projections = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"].map { "." + $0 + ".weight" }
        for name in file.tensorNames where projections.contains(where: { name.hasSuffix($0) }) {
            file.releasePages(ofTensor: name)
        }
        let model = try LlamaModel(config: file.config, weights: weights, threads: threads,
                                   ropeFrequencyFactors: file.ropeFrequencyFactors)
        return LoadedModel(path: path, model: model, tokenizer: tokenizer, quantization: report)
    }

    /// `llama, 134.5M parameters, Q4_1 ×210 Q8_0 ×1, context 8192`
    public var summary: String {
        let c = model.config
        let formats = model.weights.formatCounts.map { "\($0.format) ×\($0.count)" }.joined(separator: " ")
        return String(format: "llama, %.1fM parameters, %@, context %d", Double(model.weights.parameterCount) / 1e6,
                      formats, c.contextLength)
    }

    public var details: [String] {
        let c = model.config
        return [
            "file: \(path)",
            "layers \(c.nLayers), d_model \(c.dModel), d_ff \(c.dFF), heads \(c.nHeads) (key/value \(c.nKVHeads)), head_dim \(c.headDim)",
            "vocabulary \(c.vocabSize), context \(c.contextLength), RoPE base \(c.ropeTheta) over \(c.ropeDimensions) dims"
                + (c.ropeScaling == .none ? "" : ", scaled \(c.ropeScaling)"),
            "output head: " + (c.tiedOutput ? "tied to the embedding" : "separate"),
        ] + (quantization.map { [$0.line, $0.totalsLine] }
             ?? [String(format: "weights: %.1f MB as stored", Double(model.weights.storedBytes) / 1e6)])
    }
}

/// The per-token losses of one text: what `loss` prints and inspection views render.
public struct TokenLosses: Sendable {
    public var ids: [Int32]
    /// nll[i] is the loss of token i+1 given tokens 0…i (natural log).
    public var nll: [Float]
    /// The top tokens at the final position: (id, logit).
    public var top: [LensEntry]

    public var mean: Double? { nll.isEmpty ? nil : nll.reduce(0.0) { $0 + Double($1) } / Double(nll.count) }
}

extension LlamaModel {
    /// Losses of `ids` and the top `k` logits at the final position (one forward pass; the
    /// head is tiled over the vocabulary, so no [T, vocab] logits are kept).
    public func tokenLosses(_ ids: [Int32], topK k: Int = 5, adapter: ProjectionAdapter? = nil) throws -> TokenLosses {
        guard !ids.isEmpty else { return TokenLosses(ids: [], nll: [], top: []) }
        var r = try forward(TokenBatch(ids), logits: .last, nll: true, adapter: adapter)
        let top = PersonaTensor.topK(&r.logits, count: r.logits.count, k: k).map { LensEntry(id: $0.index, logit: $0.value) }
        return TokenLosses(ids: ids, nll: r.nll, top: top)
    }
}
