import PersonaModel
import PersonaText

/// One sequence the model is extending: its KV cache and the tokens the cache holds.
public final class ModelSequence {
    let cache: KVCache
    /// Tokens whose keys and values are in the cache, in order.
    public private(set) var tokens: [Int32]

    init(cache: KVCache, tokens: [Int32]) {
        self.cache = cache
        self.tokens = tokens
    }

    func appended(_ new: [Int32]) { tokens.append(contentsOf: new) }
    func truncate(to n: Int) {
        cache.truncate(to: n)
        tokens.removeLast(max(0, tokens.count - n))
    }
}

/// The Llama model as a `LogitsSource`: prefill once, then one token per decode step with the
/// KV cache. A new prompt that extends the previous one (the next turn of a conversation)
/// reuses the cache and prefills only what is new; forking copies the cache.
public final class ModelLogitsSource: LogitsSource {
    public let model: LlamaModel
    /// A LoRA adapter added to every forward pass, when one is given.
    public let adapter: ProjectionAdapter?
    let capacity: Int
    /// The sequence the last `start` made, reused by the next prompt when it shares a prefix.
    private var reusable: ModelSequence?

    /// `capacity`: positions each sequence may hold (capped at the model's context).
    public init(model: LlamaModel, capacity: Int, adapter: ProjectionAdapter? = nil) {
        self.model = model
        self.adapter = adapter
        self.capacity = max(1, min(capacity, model.config.contextLength))
    }

    public var vocabularySize: Int { model.config.vocabSize }

    public func start(prompt: [Int32], logits: UnsafeMutableBufferPointer<Float>) throws -> ModelSequence {
        guard !prompt.isEmpty else { throw SampleError.source("the prompt is empty") }
        guard prompt.count < capacity else {
            throw SampleError.source("the prompt has \(prompt.count) tokens; this generation has room for \(capacity)")
        }
        let sequence: ModelSequence
        if let previous = reusable {
            // Keep the shared prefix, but always feed at least the last prompt token to get its logits.
            var shared = 0
            let limit = min(previous.tokens.count, prompt.count - 1)
            while shared < limit && previous.tokens[shared] == prompt[shared] { shared += 1 }
            previous.truncate(to: shared)
            sequence = previous
        } else {
            sequence = ModelSequence(cache: try model.makeCache(capacity: capacity), tokens: [])
        }
        let fresh = Array(prompt[sequence.tokens.count...])
        try feed(fresh, to: sequence, logits: logits)
        reusable = sequence
        return sequence
    }

    public func advance(_ state: inout ModelSequence, by token: Int32, logits: UnsafeMutableBufferPointer<Float>) throws {
        guard state.tokens.count < capacity else {
            throw SampleError.source("the sequence filled its \(capacity) positions")
        }
        try feed([token], to: state, logits: logits)
    }

    public func fork(_ state: ModelSequence) throws -> ModelSequence {
        ModelSequence(cache: try state.cache.copy(config: model.config), tokens: state.tokens)
    }

    private func feed(_ tokens: [Int32], to sequence: ModelSequence, logits: UnsafeMutableBufferPointer<Float>) throws {
        let result = try model.forward(TokenBatch(tokens), cache: sequence.cache, logits: .last, adapter: adapter)
        guard result.logits.count == logits.count else {
            throw SampleError.source("the model returned \(result.logits.count) logits, expected \(logits.count)")
        }
        result.logits.withUnsafeBufferPointer { logits.baseAddress!.update(from: $0.baseAddress!, count: logits.count) }
        sequence.appended(tokens)
    }
}

/// The tokenizer's token texts as the sampler needs them.
public struct TokenizerVocabulary: TokenVocabulary {
    public let tokenizer: Tokenizer
    public init(_ tokenizer: Tokenizer) { self.tokenizer = tokenizer }
    public var count: Int { tokenizer.vocabularySize }
    public func bytes(of id: Int32) -> [UInt8] { tokenizer.tokenBytes(id) }
}
