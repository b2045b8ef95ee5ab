import Foundation

/// The tokenizer of a Hugging Face model folder: `tokenizer.json` (model, normalizer,
/// pre-tokenizer, added tokens) and `tokenizer_config.json` (BOS/EOS, whether BOS is added).
public func loadTokenizer(huggingFaceDirectory directory: String) throws -> Tokenizer {
    let path = (directory as NSString).appendingPathComponent("tokenizer.json")
    let json = try readJSONObject(path)
    let config = try? readJSONObject((directory as NSString).appendingPathComponent("tokenizer_config.json"))
    return try HuggingFaceTokenizerDescription(json: json, config: config, source: path).makeTokenizer()
}

/// The chat template of a Hugging Face model folder (`tokenizer_config.json` `chat_template`,
/// or `chat_template.jinja`), or nil when it has none.
public func loadChatTemplate(huggingFaceDirectory directory: String) throws -> ChatTemplate? {
    let configPath = (directory as NSString).appendingPathComponent("tokenizer_config.json")
    let config = FileManager.default.fileExists(atPath: configPath) ? try readJSONObject(configPath) : [:]
    var source: String? = nil
    var origin = configPath + " (chat_template)"
    if let text = config["chat_template"] as? String { source = text }
    else if let list = config["chat_template"] as? [[String: Any]] {
        source = (list.first { ($0["name"] as? String) == "default" } ?? list.first)?["template"] as? String
    }
    let jinja = (directory as NSString).appendingPathComponent("chat_template.jinja")
    if source == nil, let text = try? String(contentsOfFile: jinja, encoding: .utf8) { source = text; origin = jinja }
    guard let source else { return nil }
    return try ChatTemplate.recognise(source, origin: origin, bosText: tokenContent(config["bos_token"]),
                                      eosText: tokenContent(config["eos_token"]))
}

func readJSONObject(_ path: String) throws -> [String: Any] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw TextError.invalid("\(path): cannot read the file")
    }
    do {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TextError.invalid("\(path): the top level is not a JSON object")
        }
        return object
    } catch let error as TextError {
        throw error
    } catch {
        throw TextError.invalid("\(path): not valid JSON (\(error.localizedDescription))")
    }
}

/// `"<s>"` or `{"content": "<s>", …}`.
func tokenContent(_ value: Any?) -> String? {
    if let s = value as? String { return s }
    return (value as? [String: Any])?["content"] as? String
}

/// What `tokenizer.json` says, reduced to the choices the two tokenizers take.
struct HuggingFaceTokenizerDescription {
    let json: [String: Any]
    let config: [String: Any]?
    let source: String

    static let supportedPreTokenizers = [
        "ByteLevel", "Sequence[Digits(individual_digits), ByteLevel]", "Sequence[Split(Llama 3 or Qwen2 pattern), ByteLevel]",
        "Metaspace", "none with a Prepend/Replace ▁ normalizer",
    ]

    func makeTokenizer() throws -> Tokenizer {
        guard let model = json["model"] as? [String: Any] else { throw TextError.invalid("\(source): no \"model\" object") }
        let modelType = model["type"] as? String ?? "BPE"
        guard modelType == "BPE" else {
            throw TextError.unsupported(what: "\(source): tokenizer model type", value: modelType, supported: ["BPE"])
        }
        guard let vocab = model["vocab"] as? [String: Any] else { throw TextError.invalid("\(source): model.vocab is not an object") }
        let merges = try mergeStrings(model["merges"])

        // Vocabulary by id, with added tokens.
        var byId: [Int: (String, TokenType)] = [:]
        for (token, value) in vocab {
            guard let id = (value as? NSNumber)?.intValue, id >= 0, id < 10_000_000 else {
                throw TextError.invalid("\(source): model.vocab[\(token.debugDescription)] is not a token id")
            }
            byId[id] = (token, .normal)
        }
        for item in json["added_tokens"] as? [[String: Any]] ?? [] {
            guard let id = (item["id"] as? NSNumber)?.intValue, id >= 0, id < 10_000_000, let content = item["content"] as? String else {
                throw TextError.invalid("\(source): an added_tokens entry lacks an id or content")
            }
            byId[id] = (content, (item["special"] as? Bool ?? false) ? .control : .userDefined)
        }
        let count = (byId.keys.max() ?? -1) + 1
        guard count > 0 else { throw TextError.invalid("\(source): the vocabulary is empty") }
        var tokens = [String](repeating: "", count: count)
        var types = [TokenType](repeating: .unused, count: count)
        for (id, entry) in byId { tokens[id] = entry.0; types[id] = entry.1 }

        func idOf(_ key: String) -> Int32? {
            guard let text = tokenContent(config?[key]) else { return nil }
            return byId.first { $0.value.0 == text }.map { Int32($0.key) }
        }
        let unknownText = model["unk_token"] as? String
        let ids = SpecialTokenIds(bos: idOf("bos_token"), eos: idOf("eos_token"),
                                  unknown: idOf("unk_token") ?? unknownText.flatMap { u in byId.first { $0.value.0 == u }.map { Int32($0.key) } },
                                  padding: idOf("pad_token"), addsBOS: config?["add_bos_token"] as? Bool ?? false)

        let pre = json["pre_tokenizer"] as? [String: Any]
        let normalizer = json["normalizer"] as? [String: Any]
        if let byteLevel = try byteLevelPreTokenization(pre) {
            if let normalizer, normalizer["type"] as? String != "NFC" {
                throw TextError.unsupported(what: "\(source): normalizer", value: describe(normalizer), supported: ["none", "NFC"])
            }
            return try ByteLevelBPETokenizer(tokens: tokens, types: types, merges: merges, preTokenization: byteLevel,
                                             ignoresMerges: model["ignore_merges"] as? Bool ?? false,
                                             normalizesNFC: normalizer != nil, specialTokenIds: ids, source: source)
        }
        let (prefix, split) = try sentencePieceLayout(pre: pre, normalizer: normalizer)
        return try SentencePieceTokenizer(tokens: tokens, types: types, merging: .merges(merges), prefix: prefix,
                                          splitsOnSpace: split, specialTokenIds: ids, source: source)
    }

    /// Merges as `"left right"`, from either the string or the pair form.
    private func mergeStrings(_ value: Any?) throws -> [String] {
        guard let list = value as? [Any] else { return [] }
        return try list.enumerated().map { index, item in
            if let s = item as? String { return s }
            if let pair = item as? [String], pair.count == 2, !pair[0].contains(" "), !pair[1].contains(" ") {
                return pair[0] + " " + pair[1]
            }
            throw TextError.invalid("\(source): model.merges[\(index)] is neither \"a b\" nor a pair of tokens without spaces")
        }
    }

    private func describe(_ object: [String: Any]?) -> String {
        guard let object else { return "none" }
        let type = object["type"] as? String ?? "?"
        if type == "Sequence" {
            let items = (object["pretokenizers"] ?? object["normalizers"]) as? [[String: Any]] ?? []
            return "Sequence[" + items.map { describe($0) }.joined(separator: ", ") + "]"
        }
        if type == "Split", let pattern = (object["pattern"] as? [String: Any])?["Regex"] as? String {
            return "Split(\(pattern))"
        }
        return type
    }

    /// The byte-level pre-tokenization, nil when the pre-tokenizer is not byte-level at all.
    private func byteLevelPreTokenization(_ pre: [String: Any]?) throws -> ByteLevelPreTokenization? {
        guard let pre else { return nil }
        let type = pre["type"] as? String
        func unsupported() -> TextError {
            TextError.unsupported(what: "\(source): pre_tokenizer", value: describe(pre), supported: HuggingFaceTokenizerDescription.supportedPreTokenizers)
        }
        func checkByteLevel(_ b: [String: Any], regex: Bool) throws {
            if b["add_prefix_space"] as? Bool == true || (b["use_regex"] as? Bool ?? true) != regex { throw unsupported() }
        }
        if type == "ByteLevel" { try checkByteLevel(pre, regex: true); return .gpt2 }
        guard type == "Sequence", let stages = pre["pretokenizers"] as? [[String: Any]] else {
            if type == "Metaspace" { return nil }
            throw unsupported()
        }
        let types = stages.map { $0["type"] as? String ?? "" }
        guard types.last == "ByteLevel" else {
            if types.contains("ByteLevel") { throw unsupported() }
            if types == ["Metaspace"] { return nil }
            throw unsupported()
        }
        if types == ["Digits", "ByteLevel"], stages[0]["individual_digits"] as? Bool == true {
            try checkByteLevel(stages[1], regex: true); return .smollm
        }
        if types == ["Split", "ByteLevel"], let pattern = (stages[0]["pattern"] as? [String: Any])?["Regex"] as? String,
           (stages[0]["behavior"] as? String ?? "Isolated") == "Isolated", stages[0]["invert"] as? Bool != true {
            try checkByteLevel(stages[1], regex: false)
            if pattern == PatternSplitter.regexSource[.llama3] { return .llama3 }
            if pattern == PatternSplitter.regexSource[.qwen2] { return .qwen2 }
            if pattern == PatternSplitter.regexSource[.gpt2] { return .gpt2 }
        }
        throw unsupported()
    }

    /// SentencePiece layout from a Metaspace pre-tokenizer or a Prepend/Replace normalizer.
    private func sentencePieceLayout(pre: [String: Any]?, normalizer: [String: Any]?) throws -> (SentencePieceTokenizer.PrefixPolicy, Bool) {
        func metaspace(_ m: [String: Any]) throws -> (SentencePieceTokenizer.PrefixPolicy, Bool) {
            let split = m["split"] as? Bool ?? true
            if let scheme = m["prepend_scheme"] as? String {
                switch scheme {
                case "first": return (.first, split)
                case "always": return (.everySegment, split)
                case "never": return (.never, split)
                default: throw TextError.unsupported(what: "\(source): Metaspace prepend_scheme", value: scheme, supported: ["first", "always", "never"])
                }
            }
            return (m["add_prefix_space"] as? Bool ?? true ? .everySegment : .never, split)
        }
        if let pre {
            if pre["type"] as? String == "Metaspace" { return try metaspace(pre) }
            if pre["type"] as? String == "Sequence", let stages = pre["pretokenizers"] as? [[String: Any]],
               stages.count == 1, stages[0]["type"] as? String == "Metaspace" { return try metaspace(stages[0]) }
            throw TextError.unsupported(what: "\(source): pre_tokenizer", value: describe(pre), supported: HuggingFaceTokenizerDescription.supportedPreTokenizers)
        }
        // Legacy Llama: normalizer Sequence[Prepend("▁"), Replace(" ", "▁")].
        let steps = (normalizer?["type"] as? String == "Sequence" ? normalizer?["normalizers"] as? [[String: Any]] : normalizer.map { [$0] }) ?? []
        var prepends = false, replacesSpaces = false
        for step in steps {
            switch step["type"] as? String {
            case "Prepend": prepends = (step["prepend"] as? String) == "▁"
            case "Replace":
                let pattern = (step["pattern"] as? [String: Any])?["String"] as? String
                replacesSpaces = pattern == " " && (step["content"] as? String) == "▁"
            default:
                throw TextError.unsupported(what: "\(source): normalizer", value: describe(normalizer), supported: ["Prepend(▁)", "Replace(' ', ▁)", "NFC with byte-level"])
            }
        }
        guard replacesSpaces else {
            throw TextError.unsupported(what: "\(source): pre_tokenizer", value: "none (and no ▁ normalizer)", supported: HuggingFaceTokenizerDescription.supportedPreTokenizers)
        }
        return (prepends ? .everySegment : .never, false)
    }
}
