import Foundation

extension LlamaConfig {
    /// `model_type` values of config.json this reader accepts (same block structure as Llama).
    public static let supportedHuggingFaceModelTypes = ["llama", "mistral"]

    /// Reads a Hugging Face `config.json` (transformers `LlamaConfig` / `MistralConfig` fields and
    /// defaults) and checks it.
    public init(huggingFaceConfig path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ModelError.invalid("\(path): cannot read the file (\(error.localizedDescription))")
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelError.invalid("\(path): not a JSON object")
        }
        func integer(_ key: String) -> Int? {
            if let value = json[key] as? Int { return value }
            if let value = json[key] as? Double, value.rounded() == value, abs(value) < 1e15 { return Int(value) }
            return nil
        }
        func required(_ key: String) throws -> Int {
            guard let value = integer(key) else { throw ModelError.invalid("\(path): missing or non-integer \"\(key)\"") }
            return value
        }
        func number(_ value: Any?) -> Double? { (value as? Double) ?? (value as? Int).map(Double.init) }

        let modelType = json["model_type"] as? String ?? "llama"
        guard Self.supportedHuggingFaceModelTypes.contains(modelType) else {
            throw ModelError.invalid("\(path): model_type '\(modelType)' is not supported (supported: llama, mistral)")
        }
        if let activation = json["hidden_act"] as? String, activation != "silu" {
            throw ModelError.invalid("\(path): hidden_act '\(activation)' is not supported (Llama uses silu)")
        }
        for flag in ["attention_bias", "mlp_bias"] where (json[flag] as? Bool) == true {
            throw ModelError.invalid("\(path): \(flag) = true is not supported (Llama has no biases)")
        }
        let dModel = try required("hidden_size")
        let nHeads = try required("num_attention_heads")
        if integer("head_dim") == nil, nHeads > 0, dModel % nHeads != 0 {
            throw ModelError.invalid("\(path): hidden_size \(dModel) is not a multiple of num_attention_heads \(nHeads) and there is no head_dim")
        }
        let headDim = integer("head_dim") ?? (nHeads > 0 ? dModel / nHeads : 0)

        // transformers 5 nests θ and the scaling under "rope_parameters"; 4.x uses rope_theta + rope_scaling.
        let ropeParameters = json["rope_parameters"] as? [String: Any]
        let scalingFields = (json["rope_scaling"] as? [String: Any]) ?? ropeParameters
        var scaling = RopeScaling.none
        if let fields = scalingFields {
            let kind = (fields["rope_type"] as? String) ?? (fields["type"] as? String) ?? "default"
            switch kind {
            case "default": break
            case "linear":
                guard let factor = number(fields["factor"]) else { throw ModelError.invalid("\(path): linear rope scaling without a factor") }
                scaling = .linear(factor: factor)
            case "llama3":
                guard let factor = number(fields["factor"]), let low = number(fields["low_freq_factor"]),
                      let high = number(fields["high_freq_factor"]),
                      let original = number(fields["original_max_position_embeddings"]),
                      original.rounded() == original, original >= 1, original <= Double(1 << 24) else {
                    throw ModelError.invalid("\(path): llama3 rope scaling needs factor, low_freq_factor, high_freq_factor and an integer original_max_position_embeddings")
                }
                scaling = .llama3(factor: factor, lowFreqFactor: low, highFreqFactor: high, originalContext: Int(original))
            default:
                throw ModelError.invalid("\(path): rope scaling '\(kind)' is not supported (supported: default, linear, llama3)")
            }
        }
        let theta = number(json["rope_theta"]) ?? number(ropeParameters?["rope_theta"]) ?? 10_000
        let partialRotary = number(json["partial_rotary_factor"]) ?? 1
        guard partialRotary.isFinite, partialRotary > 0, partialRotary <= 1 else {
            throw ModelError.invalid("\(path): partial_rotary_factor \(partialRotary) must be in (0, 1]")
        }
        self.init(architecture: modelType,
                  vocabSize: try required("vocab_size"),
                  dModel: dModel,
                  nLayers: try required("num_hidden_layers"),
                  nHeads: nHeads,
                  nKVHeads: integer("num_key_value_heads") ?? nHeads,
                  headDim: headDim,
                  dFF: try required("intermediate_size"),
                  ropeTheta: theta,
                  ropeDimensions: Int(Double(headDim) * partialRotary),
                  ropeScaling: scaling,
                  rmsNormEps: number(json["rms_norm_eps"]) ?? 1e-6,
                  contextLength: integer("max_position_embeddings") ?? 2048,
                  tiedOutput: (json["tie_word_embeddings"] as? Bool) ?? false)
        try validate(source: path)
    }
}
