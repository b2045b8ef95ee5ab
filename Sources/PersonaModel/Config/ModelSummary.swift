import Foundation
import PersonaCore
import PersonaTensor
import PersonaText

/// What `model info` shows about a model file: architecture, sizes, tensor types, memory,
/// tokenizer and chat template, as label/value rows and a per-type table.
public struct ModelSummary {
    public var rows: [(String, String)] = []
    /// type, tensors, parameters, bytes
    public var typeTable: [[String]] = []
    /// name, type, shape, bytes (every tensor, in file order)
    public var tensorTable: [[String]] = []
    /// key, type, value (GGUF metadata, sorted; long arrays summarised)
    public var metadataTable: [[String]] = []

    public init(_ model: ModelFile) {
        let config = model.config
        rows.append(("model", model.path))
        switch model.source {
        case .gguf:
            if let gguf = model.gguf {
                rows.append(("format", "GGUF v\(gguf.version), \(megabytes(gguf.fileSize)), \(gguf.tensors.count) tensors, alignment \(gguf.alignment)"))
                if let name = gguf.string("general.name") { rows.append(("name", name)) }
            }
        case .huggingFace:
            let files = model.safetensors?.files ?? []
            let bytes = files.reduce(0) { $0 + $1.fileSize }
            rows.append(("format", "Hugging Face folder, \(files.count) safetensors file\(files.count == 1 ? "" : "s"), \(megabytes(bytes))"))
        }
        rows.append(("architecture", "\(config.architecture): \(config.nLayers) layers, d_model \(config.dModel), d_ff \(config.dFF), \(config.nHeads) heads, \(config.nKVHeads) KV heads, head dim \(config.headDim)"))
        rows.append(("parameters", "\(millions(config.parameterCount)) (\(grouped(config.parameterCount)))"))
        var rope = "θ \(trimmed(config.ropeTheta)), \(config.ropeDimensions) of \(config.headDim) dims rotated"
        switch config.ropeScaling {
        case .none: rope += ", no scaling"
        case .linear(let factor): rope += ", linear scaling ×\(trimmed(factor))"
        case .llama3(let factor, let low, let high, let original):
            rope += ", llama3 scaling ×\(trimmed(factor)) (low \(trimmed(low)), high \(trimmed(high)), original context \(original))"
        }
        if model.ropeFrequencyFactors != nil { rope += ", frequency factors from rope_freqs.weight" }
        rows.append(("rope", rope))
        rows.append(("rms norm eps", String(format: "%g", config.rmsNormEps)))
        rows.append(("context", grouped(config.contextLength) + " tokens"))
        rows.append(("vocabulary", grouped(config.vocabSize)))
        rows.append(("output head", config.tiedOutput ? "tied to token_embd.weight" : "output.weight"))

        // Tensor types and sizes.
        var byType: [GGMLType: (count: Int, elements: Int, bytes: Int)] = [:]
        var storedBytes = 0
        for name in model.tensorNames {
            guard let view = try? model.tensor(name) else { continue }
            let entry = byType[view.type] ?? (0, 0, 0)
            byType[view.type] = (entry.count + 1, entry.elements + view.elementCount, entry.bytes + view.data.count)
            storedBytes += view.data.count
            tensorTable.append([name, view.type.name, "[" + view.shape.map(String.init).joined(separator: ", ") + "]", grouped(view.data.count)])
        }
        typeTable = [["type", "tensors", "parameters", "bytes"]]
        for (type, entry) in byType.sorted(by: { $0.value.bytes > $1.value.bytes }) {
            typeTable.append([type.name, String(entry.count), grouped(entry.elements), megabytes(entry.bytes)])
        }
        let float32Bytes = config.parameterCount * 4
        let kvPerToken = 2 * config.nLayers * config.kvDim * 4
        rows.append(("memory", "weights \(megabytes(storedBytes)) as stored (memory-mapped), \(megabytes(float32Bytes)) as float32; KV cache \(megabytes(kvPerToken * 1024)) per 1,024 tokens (float32)"))

        if let gguf = model.gguf {
            for (key, value) in gguf.metadata.sorted(by: { $0.key < $1.key }) {
                var text = value.summary.replacingOccurrences(of: "\n", with: "\\n")
                if text.count > 100 { text = String(text.prefix(100)) + "…" }
                metadataTable.append([key, value.typeName, text])
            }
        }

        // Tokenizer and chat template.
        if let gguf = model.gguf {
            describeTokenizer(gguf)
        } else if let directory = model.huggingFaceDirectory {
            describeHuggingFaceTokenizer(directory)
        }
    }

    private mutating func describeTokenizer(_ gguf: GGUFFile) {
        do {
            let tokenizer = try loadTokenizer(gguf: gguf)
            var kind = tokenizer.kindDescription
            if let merges = gguf.metadata["tokenizer.ggml.merges"]?.arrayValue?.count { kind += ", \(grouped(merges)) merges" }
            rows.append(("tokenizer", kind))
            rows.append(("tokens", grouped(tokenizer.vocabularySize)))
            let ids = tokenizer.specialTokenIds
            var roles: [String] = []
            for (role, id) in [("bos", ids.bos), ("eos", ids.eos), ("unk", ids.unknown), ("pad", ids.padding)] {
                if let id { roles.append("\(role) \(id) \(tokenizer.tokenText(id) ?? "?")") }
            }
            roles.append(ids.addsBOS ? "BOS added to sequences" : "no BOS added")
            rows.append(("special roles", roles.joined(separator: ", ")))
            let specials = tokenizer.specialTokenIdList
            let shown = specials.prefix(8).compactMap { tokenizer.tokenText($0) }.joined(separator: " ")
            rows.append(("special tokens", "\(specials.count): \(shown)\(specials.count > 8 ? " …" : "")"))
        } catch {
            rows.append(("tokenizer", "unusable: " + describeError(error)))
            rawTokenizerMetadata(gguf)
        }
        do {
            if let template = try ChatTemplate.forModel(gguf: gguf) {
                var text = template.family.rawValue
                if let system = template.defaultSystemPrompt { text += " (default system prompt: \"\(system)\")" }
                rows.append(("chat template", text))
            } else {
                rows.append(("chat template", "none in the file"))
            }
        } catch {
            rows.append(("chat template", "unrecognised: " + describeError(error)))
        }
    }

    /// The raw tokenizer.ggml.* facts, for files whose tokenizer cannot be built.
    private mutating func rawTokenizerMetadata(_ gguf: GGUFFile) {
        let model = gguf.string("tokenizer.ggml.model") ?? "(none)"
        let pre = gguf.string("tokenizer.ggml.pre") ?? "(none)"
        let count = gguf.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count ?? 0
        rows.append(("tokenizer metadata", "model \(model), pre \(pre), \(grouped(count)) tokens"))
    }

    private mutating func describeHuggingFaceTokenizer(_ directory: String) {
        let path = directory + "/tokenizer.json"
        guard let data = FileManager.default.contents(atPath: path),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            rows.append(("tokenizer", "no readable tokenizer.json"))
            return
        }
        let model = json["model"] as? [String: Any]
        let kind = model?["type"] as? String ?? "unknown"
        let vocab = (model?["vocab"] as? [String: Any])?.count ?? 0
        let added = (json["added_tokens"] as? [[String: Any]]) ?? []
        let specials = added.filter { ($0["special"] as? Bool) == true }.compactMap { $0["content"] as? String }
        rows.append(("tokenizer", "tokenizer.json \(kind), \(grouped(vocab)) tokens + \(added.count) added"))
        rows.append(("special tokens", "\(specials.count): \(specials.prefix(8).joined(separator: " "))\(specials.count > 8 ? " …" : "")"))
        let configPath = directory + "/tokenizer_config.json"
        if let data = FileManager.default.contents(atPath: configPath),
           let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
           let template = config["chat_template"] as? String {
            do {
                rows.append(("chat template", try ChatTemplate.recognise(template, origin: configPath).family.rawValue))
            } catch {
                rows.append(("chat template", "unrecognised: " + describeError(error)))
            }
        } else {
            rows.append(("chat template", "none (no chat_template in tokenizer_config.json)"))
        }
    }
}

func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
func millions(_ count: Int) -> String { String(format: "%.1f M", Double(count) / 1_000_000) }
func trimmed(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x) }
func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (n < 0 ? "-" : "") + out
}
