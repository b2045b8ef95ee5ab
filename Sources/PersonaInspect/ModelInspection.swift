import PersonaCore
import PersonaModel

/// Inspection runs over a model: each function is one forward pass with the captures it
/// needs, turned into the plain arrays the renderers take.
public enum ModelInspection {
    /// Longest text the per-position views take: `loss` keeps [T, vocab] logits
    /// (1,024 × 49,152 floats ≈ 200 MB for the default model).
    public static let maxTokens = 1024

    static func check(_ ids: [Int32], _ model: LlamaModel, command: String, minimum: Int = 1) throws {
        guard ids.count >= minimum else {
            throw InspectError.invalid("\(command): the text has \(ids.count) token\(ids.count == 1 ? "" : "s"); at least \(minimum) needed")
        }
        let limit = min(maxTokens, model.config.contextLength)
        guard ids.count <= limit else {
            throw InspectError.invalid("\(command): the text has \(ids.count) tokens; at most \(limit) can be inspected at once")
        }
    }

    /// Every token's loss and the model's top `topK` alternatives at each position.
    /// `mask` (one flag per token) decides what the mean counts; nil counts every token.
    /// `adapter` (LoRA) is applied to the model's projections, as in every function here.
    public static func losses(_ model: LlamaModel, adapter: ProjectionAdapter? = nil, ids: [Int32], mask: [Bool]? = nil, topK: Int = 5,
                              label: (Int32) -> String) throws -> LossReport {
        try check(ids, model, command: "loss")
        let result = try model.forward(TokenBatch(ids), logits: .all, adapter: adapter)
        return try LossReport.compute(ids: ids, logits: result.logits, vocabSize: model.config.vocabSize, mask: mask,
                                      topK: topK, label: label)
    }

    /// The attention probabilities of `layer` (every head).
    public static func attention(_ model: LlamaModel, adapter: ProjectionAdapter? = nil, ids: [Int32], layer: Int,
                                 label: (Int32) -> String) throws -> AttentionPattern {
        try check(ids, model, command: "attention")
        guard (0..<model.config.nLayers).contains(layer) else {
            throw InspectError.invalid("attention: layer=\(layer) is not among the model's layers 0…\(model.config.nLayers - 1)")
        }
        let hook = "blocks.\(layer).attn.hook_pattern"
        let captures = ForwardCaptures(hooks: [hook])
        _ = try model.forward(TokenBatch(ids), logits: .none, captures: captures, adapter: adapter)
        guard let captured = captures[hook], captured.shape == [1, model.config.nHeads, ids.count, ids.count] else {
            throw InspectError.invalid("attention: the forward pass captured no \(hook) of [1, \(model.config.nHeads), \(ids.count), \(ids.count)]")
        }
        return try AttentionPattern(tokens: ids.map(label), heads: model.config.nHeads, weights: captured.values)
    }

    /// The logit lens: [layers][T] the top token id each layer's residual stream predicts next.
    public static func lens(_ model: LlamaModel, adapter: ProjectionAdapter? = nil, ids: [Int32]) throws -> [[Int32]] {
        try check(ids, model, command: "lens")
        let captures = ForwardCaptures(hooks: [], lensTopK: 1)
        _ = try model.forward(TokenBatch(ids), logits: .none, captures: captures, adapter: adapter)
        guard captures.lens.count == model.config.nLayers,
              captures.lens.allSatisfy({ $0.count == ids.count && $0.allSatisfy { !$0.isEmpty } }) else {
            throw InspectError.invalid("lens: the forward pass returned \(captures.lens.count) layers of predictions for \(model.config.nLayers) layers")
        }
        return captures.lens.map { layer in layer.map { Int32($0[0].id) } }
    }

    /// Per-token losses only (the vocabulary-tiled head, no [T, vocab] logits): what
    /// `perplexity` sums over many texts. `nll[i]` is the loss of token i+1.
    public static func tokenLosses(_ model: LlamaModel, adapter: ProjectionAdapter? = nil, ids: [Int32]) throws -> [Float] {
        guard ids.count >= 2 else { return [] }
        guard ids.count <= model.config.contextLength else {
            throw InspectError.invalid("perplexity: a text of \(ids.count) tokens is longer than the model's context of \(model.config.contextLength)")
        }
        return try model.forward(TokenBatch(ids), logits: .none, nll: true, adapter: adapter).nll
    }
}
