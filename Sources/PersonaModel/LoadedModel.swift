import PersonaCore
import PersonaTensor
import PersonaText

/// A model as the session holds it: the file it came from, the runnable model and the
/// tokenizer the same file carries.
public final class LoadedModel {
    public let path: String
    public let model: LlamaModel
    public let tokenizer: Tokenizer

    public init(path: String, model: LlamaModel, tokenizer: Tokenizer) {
        self.path = path; self.model = model; self.tokenizer = tokenizer
    }

    /// Opens a GGUF file or a Hugging Face folder: weights stay mapped and in their stored formats.
    public static func open(path: String, threads: Int = 2) throws -> LoadedModel {
        let file = try ModelFile.open(path: path)
        let tokenizer: Tokenizer
        if let gguf = file.gguf {
            tokenizer = try loadTokenizer(gguf: gguf)
        } else {
            tokenizer = try loadTokenizer(huggingFaceDirectory: path)
        }
        return LoadedModel(path: path, model: try LlamaModel(file: file, threads: threads), tokenizer: tokenizer)
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
        ]
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
    public func tokenLosses(_ ids: [Int32], topK k: Int = 5) throws -> TokenLosses {
        guard !ids.isEmpty else { return TokenLosses(ids: [], nll: [], top: []) }
        var r = try forward(TokenBatch(ids), logits: .last, nll: true)
        let top = PersonaTensor.topK(&r.logits, count: r.logits.count, k: k).map { LensEntry(id: $0.index, logit: $0.value) }
        return TokenLosses(ids: ids, nll: r.nll, top: top)
    }
}
