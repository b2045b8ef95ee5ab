import Foundation
import PersonaCore
import PersonaTensor

/// A Hugging Face `tokenizer.json` equivalent to a GGUF file's byte-level BPE tokenizer: the same
/// vocabulary, merges, added tokens and pre-tokenizer. The tokenizer benchmark hands it to
/// Hugging Face `tokenizers` so that both sides encode with the same tokenizer; tests load it
/// back to check the `tokenizer.json` reader.
public func huggingFaceTokenizerJSON(gguf: GGUFFile) throws -> Data {
    let source = gguf.path
    guard gguf.string("tokenizer.ggml.model") == "gpt2" else {
        throw TextError.unsupported(what: "\(source): export to tokenizer.json of tokenizer.ggml.model",
                                    value: gguf.string("tokenizer.ggml.model") ?? "(missing)", supported: ["gpt2"])
    }
    guard let tokens = gguf.strings("tokenizer.ggml.tokens"), let merges = gguf.strings("tokenizer.ggml.merges") else {
        throw TextError.invalid("\(source): tokenizer.ggml.tokens or tokenizer.ggml.merges is missing")
    }
    let pre = gguf.string("tokenizer.ggml.pre") ?? "(missing)"
    guard let preTokenization = ggufPreTokenizers[pre] else {
        throw TextError.unsupported(what: "\(source): pre-tokenizer tokenizer.ggml.pre", value: pre, supported: ggufPreTokenizers.keys.sorted())
    }
    let types = gguf.ints("tokenizer.ggml.token_type") ?? []
    var vocab: [String: Int] = [:]
    var added: [[String: Any]] = []
    for (id, token) in tokens.enumerated() {
        let type = id < types.count ? TokenType(rawValue: types[id]) ?? .normal : .normal
        if type.isAdded {
            added.append(["id": id, "content": token, "single_word": false, "lstrip": false, "rstrip": false,
                          "normalized": false, "special": type == .control])
        }
        if vocab[token] == nil { vocab[token] = id }
    }
    func byteLevel(regex: Bool) -> [String: Any] {
        ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": regex]
    }
    let preTokenizer: [String: Any]
    switch preTokenization {
    case .smollm:
        preTokenizer = ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true], byteLevel(regex: true)]]
    case .gpt2:
        preTokenizer = byteLevel(regex: true)
    case .llama3, .qwen2:
        let pattern = PatternSplitter.regexSource[preTokenization == .llama3 ? .llama3 : .qwen2] ?? ""
        preTokenizer = ["type": "Sequence", "pretokenizers": [
            ["type": "Split", "pattern": ["Regex": pattern], "behavior": "Isolated", "invert": false], byteLevel(regex: false)]]
    }
    // The small parts through JSONSerialization; the vocabulary and merges written directly
    // (JSONSerialization takes seconds on 49k keys).
    func small(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed]), as: UTF8.self)
    }
    var out = "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"normalizer\": null, \"post_processor\": null"
    out += ", \"added_tokens\": " + (try small(added))
    out += ", \"pre_tokenizer\": " + (try small(preTokenizer))
    out += ", \"decoder\": " + (try small(byteLevel(regex: true)))
    out += ", \"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": null"
    out += ", \"end_of_word_suffix\": null, \"fuse_unk\": false, \"byte_fallback\": false"
    out += ", \"ignore_merges\": \(preTokenization == .llama3), \"vocab\": {"
    out.reserveCapacity(tokens.count * 16 + merges.count * 12)
    var first = true
    for (id, token) in tokens.enumerated() where vocab[token] == id {
        if !first { out += ", " }
        first = false
        out += jsonString(token) + ": " + String(id)
    }
    out += "}, \"merges\": ["
    for (i, merge) in merges.enumerated() {
        if i > 0 { out += ", " }
        out += jsonString(merge)
    }
    out += "]}}"
    return Data(out.utf8)
}

/// `tokenizer_config.json` naming BOS/EOS/UNK/PAD by text, as a model folder has it.
public func huggingFaceTokenizerConfigJSON(gguf: GGUFFile) throws -> Data {
    let tokens = gguf.strings("tokenizer.ggml.tokens") ?? []
    var config: [String: Any] = ["add_bos_token": gguf.bool("tokenizer.ggml.add_bos_token") ?? false]
    for (key, name) in [("tokenizer.ggml.bos_token_id", "bos_token"), ("tokenizer.ggml.eos_token_id", "eos_token"),
                        ("tokenizer.ggml.unknown_token_id", "unk_token"), ("tokenizer.ggml.padding_token_id", "pad_token")] {
        if let id = gguf.int(key), id >= 0, id < tokens.count { config[name] = tokens[id] }
    }
    if let template = gguf.string("tokenizer.chat_template") { config["chat_template"] = template }
    return try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
}
