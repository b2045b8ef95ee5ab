import PersonaTensor

/// `tokenizer.ggml.pre` values and the pre-tokenization each stands for (llama.cpp's names).
let ggufPreTokenizers: [String: ByteLevelPreTokenization] = [
    "smollm": .smollm, "starcoder": .smollm, "refact": .smollm,
    "gpt-2": .gpt2, "gpt2": .gpt2,
    "llama-bpe": .llama3, "llama3": .llama3, "llama-v3": .llama3,
    "qwen2": .qwen2,
]

/// The tokenizer a GGUF file describes in its `tokenizer.ggml.*` metadata: byte-level BPE for
/// `tokenizer.ggml.model == "gpt2"`, SentencePiece BPE for `"llama"`.
public func loadTokenizer(gguf: GGUFFile) throws -> Tokenizer {
    let source = gguf.path
    guard let model = gguf.string("tokenizer.ggml.model") else {
        throw TextError.invalid("\(source): no tokenizer.ggml.model key; the file carries no tokenizer")
    }
    guard let tokens = gguf.strings("tokenizer.ggml.tokens") else {
        throw TextError.invalid("\(source): tokenizer.ggml.tokens is missing or not an array of strings")
    }
    let types = try ggufTokenTypes(gguf, count: tokens.count)
    func tokenId(_ key: String) throws -> Int32? {
        guard let value = gguf.int(key) else { return nil }
        guard value >= 0, value < tokens.count else {
            throw TextError.invalid("\(source): \(key) = \(value) is outside the vocabulary (0..<\(tokens.count))")
        }
        return Int32(value)
    }
    let ids = SpecialTokenIds(bos: try tokenId("tokenizer.ggml.bos_token_id"),
                              eos: try tokenId("tokenizer.ggml.eos_token_id"),
                              unknown: try tokenId("tokenizer.ggml.unknown_token_id"),
                              padding: try tokenId("tokenizer.ggml.padding_token_id"),
                              addsBOS: gguf.bool("tokenizer.ggml.add_bos_token") ?? (model == "llama"))
    switch model {
    case "gpt2":
        guard let merges = gguf.strings("tokenizer.ggml.merges") else {
            throw TextError.invalid("\(source): tokenizer.ggml.merges is missing or not an array of strings (needed by a gpt2 tokenizer)")
        }
        guard let pre = gguf.string("tokenizer.ggml.pre") else {
            throw TextError.unsupported(what: "\(source): tokenizer.ggml.pre", value: "(missing)", supported: ggufPreTokenizers.keys.sorted())
        }
        guard let preTokenization = ggufPreTokenizers[pre] else {
            throw TextError.unsupported(what: "\(source): pre-tokenizer tokenizer.ggml.pre", value: pre, supported: ggufPreTokenizers.keys.sorted())
        }
        return try ByteLevelBPETokenizer(tokens: tokens, types: types, merges: merges, preTokenization: preTokenization,
                                         ignoresMerges: preTokenization == .llama3, specialTokenIds: ids, source: source)
    case "llama":
        guard let scores = gguf.floats("tokenizer.ggml.scores"), scores.count == tokens.count else {
            throw TextError.invalid("\(source): tokenizer.ggml.scores is missing or does not have one score per token (\(tokens.count))")
        }
        let addPrefix = gguf.bool("tokenizer.ggml.add_space_prefix") ?? true
        return try SentencePieceTokenizer(tokens: tokens, types: types, merging: .scores(scores),
                                          prefix: addPrefix ? .everySegment : .never, splitsOnSpace: false,
                                          specialTokenIds: ids, source: source)
    default:
        throw TextError.unsupported(what: "\(source): tokenizer.ggml.model", value: model, supported: ["gpt2", "llama"])
    }
}

private func ggufTokenTypes(_ gguf: GGUFFile, count: Int) throws -> [TokenType] {
    guard gguf.metadata["tokenizer.ggml.token_type"] != nil else { return [TokenType](repeating: .normal, count: count) }
    guard let raw = gguf.ints("tokenizer.ggml.token_type"), raw.count == count else {
        throw TextError.invalid("\(gguf.path): tokenizer.ggml.token_type must be one integer per token (\(count))")
    }
    return try raw.enumerated().map { index, value in
        guard let type = TokenType(rawValue: value) else {
            throw TextError.invalid("\(gguf.path): tokenizer.ggml.token_type[\(index)] = \(value) is not a token type (0…6)")
        }
        return type
    }
}
