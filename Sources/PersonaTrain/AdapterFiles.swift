import Foundation
import PersonaCore

/// PEFT adapter files: `adapter_model.safetensors` + `adapter_config.json`, loadable by
/// Hugging Face peft onto the same base model, and PEFT adapters trained elsewhere.
///
/// Name table (PEFT ↔ persona), for layer N:
///   base_model.model.model.layers.N.self_attn.{q,k,v,o}_proj.lora_{A,B}.weight  ↔ blk.N.attn_{q,k,v,output}
///   base_model.model.model.layers.N.mlp.{gate,up,down}_proj.lora_{A,B}.weight    ↔ blk.N.ffn_{gate,up,down}
/// (`.lora_A.default.weight`, as some peft versions write, is accepted on load.)
///
/// Q/K permutation: the GGUF converter permuted the rows of attn_q and attn_k so that ggml's
/// interleaved RoPE gives the same result as Hugging Face's rotate-half RoPE on the original
/// rows. Within each head (n_head for q, n_head_kv for k) of size hd:
///   GGUF row h·hd + 2i + j  =  HF row h·hd + j·hd/2 + i     (i < hd/2, j ∈ {0, 1})
/// persona applies LoRA in the GGUF convention, so the output rows of q_proj/k_proj lora_B
/// are permuted this way on load and un-permuted on save. lora_A (input side) and every
/// other projection are unaffected.
public enum AdapterFiles {
    public static let weightsFile = "adapter_model.safetensors"
    public static let configFile = "adapter_config.json"

    /// GGUF row of each HF row of a q or k projection (`heads` = n_head or n_head_kv).
    public static func ggufRow(ofHFRow row: Int, headDim: Int) -> Int {
        let h = row / headDim, within = row % headDim, half = headDim / 2
        let j = within / half, i = within % half
        return h * headDim + 2 * i + j
    }

    static func needsPermutation(_ target: LoRATarget) -> Bool { target == .q || target == .k }

    /// Writes the adapter as PEFT does, into directory `path` (created 0700; files 0600, atomic).
    public static func save(_ adapter: LoRAAdapter, to path: String) throws {
        try PrivateFiles.makeDirectory(path)
        let data = try encodeWeights(adapter)
        try PrivateFiles.writeAtomically(data, to: path + "/" + weightsFile)
        try PrivateFiles.writeAtomically(configJSON(adapter), to: path + "/" + configFile)
    }

    /// The safetensors bytes of the adapter in PEFT naming and HF row order.
    static func encodeWeights(_ adapter: LoRAAdapter) throws -> Data {
        var hfOrder = [Float](repeating: 0, count: adapter.parameterCount)
        copyConverting(adapter, toHF: true, from: UnsafeBufferPointer(adapter.parameters), into: &hfOrder)
        return try hfOrder.withUnsafeBufferPointer { all in
            let list = adapter.tensors.map { e in
                (name: e.name, shape: [e.rows, e.columns], values: UnsafeBufferPointer(rebasing: all[e.offset..<(e.offset + e.count)]))
            }
            return try SafetensorsCodec.encode(list, metadata: ["format": "pt"])
        }
    }

    /// Copies a flat adapter-layout buffer converting q/k lora_B rows between GGUF and HF order.
    static func copyConverting(_ adapter: LoRAAdapter, toHF: Bool, from source: UnsafeBufferPointer<Float>, into destination: inout [Float]) {
        for i in 0..<adapter.parameterCount { destination[i] = source[i] }
        let hd = adapter.shape.headDim, r = adapter.config.rank
        for layer in 0..<adapter.shape.layers {
            for target in adapter.config.targets where needsPermutation(target) {
                guard let slot = adapter.slot(layer: layer, target: target) else { continue }
                for hfRow in 0..<slot.outDim {
                    let g = ggufRow(ofHFRow: hfRow, headDim: hd)
                    let (from, to) = toHF ? (g, hfRow) : (hfRow, g)
                    for c in 0..<r { destination[slot.bOffset + to * r + c] = source[slot.bOffset + from * r + c] }
                }
            }
        }
    }

    public static func configJSON(_ adapter: LoRAAdapter) -> String {
        let c = adapter.config
        let targets = c.targets.map { jsonString($0.peftName) }.joined(separator: ", ")
        return """
        {
          "alpha_pattern": {},
          "base_model_name_or_path": \(jsonString(adapter.baseModel)),
          "bias": "none",
          "fan_in_fan_out": false,
          "inference_mode": true,
          "init_lora_weights": true,
          "layers_pattern": null,
          "layers_to_transform": null,
          "lora_alpha": \(formatNumber(c.alpha)),
          "lora_dropout": \(formatNumber(c.dropout)),
          "modules_to_save": null,
          "peft_type": "LORA",
          "r": \(c.rank),
          "rank_pattern": {},
          "revision": null,
          "target_modules": [\(targets)],
          "task_type": "CAUSAL_LM",
          "use_dora": false,
          "use_rslora": \(c.useRSLoRA)
        }

        """
    }

    static func formatNumber(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }

    /// Reads a PEFT adapter directory (F32, F16 or BF16 tensors) for a model of `shape`.
    public static func load(from path: String, name: String, shape: ModelShape) throws -> LoRAAdapter {
        let configPath = path + "/" + configFile
        guard let configData = FileManager.default.contents(atPath: configPath) else {
            throw TrainError.badFile(path: configPath, reason: "cannot be read (is \(path) a PEFT adapter folder?)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: configData) as? [String: Any] else {
            throw TrainError.badFile(path: configPath, reason: "is not a JSON object")
        }
        guard let rank = json["r"] as? Int else { throw TrainError.badFile(path: configPath, reason: "lacks an integer \"r\"") }
        let alpha = (json["lora_alpha"] as? Double) ?? Double(rank)
        let dropout = (json["lora_dropout"] as? Double) ?? 0
        let rs = (json["use_rslora"] as? Bool) ?? false
        if let peftType = json["peft_type"] as? String, peftType != "LORA" {
            throw TrainError.badFile(path: configPath, reason: "peft_type is \(peftType); only LORA adapters can be loaded")
        }
        if (json["use_dora"] as? Bool) == true { throw TrainError.badFile(path: configPath, reason: "DoRA adapters are not supported") }
        var targets: [LoRATarget] = []
        if let list = json["target_modules"] as? [String] {
            for t in list {
                guard let target = LoRATarget(name: t) else {
                    throw TrainError.badFile(path: configPath, reason: "target module \(t) is not one of q,k,v,o,gate,up,down _proj")
                }
                targets.append(target)
            }
        } else if let single = json["target_modules"] as? String {
            throw TrainError.badFile(path: configPath, reason: "target_modules is a pattern (\(single)); a list of module names is needed")
        }
        let config: LoRAConfig
        do { config = try LoRAConfig(rank: rank, alpha: alpha, dropout: dropout, targets: targets, useRSLoRA: rs) }
        catch { throw TrainError.badFile(path: configPath, reason: describeError(error)) }
        let adapter = LoRAAdapter(name: name, config: config, shape: shape,
                                  baseModel: (json["base_model_name_or_path"] as? String) ?? "")
        try fill(adapter, fromSafetensors: path + "/" + weightsFile)
        return adapter
    }

    /// Fills every tensor of `adapter` from a PEFT-named safetensors file (HF row order).
    public static func fill(_ adapter: LoRAAdapter, fromSafetensors path: String) throws {
        let (tensors, _) = try SafetensorsCodec.read(path: path)
        var hf = [Float](repeating: 0, count: adapter.parameterCount)
        var used = 0
        for e in adapter.tensors {
            let alternative = e.name.replacingOccurrences(of: ".weight", with: ".default.weight")
            guard let t = tensors[e.name] ?? tensors[alternative] else {
                throw TrainError.badFile(path: path, reason: "tensor \(e.name) is missing")
            }
            guard t.shape == [e.rows, e.columns] else {
                throw TrainError.shapeMismatch(tensor: "\(path): \(e.name)", expected: [e.rows, e.columns], actual: t.shape)
            }
            for i in 0..<e.count { hf[e.offset + i] = t.values[i] }
            used += 1
        }
        let loraTensors = tensors.keys.filter { $0.contains("lora_") }.count
        if loraTensors > used {
            throw TrainError.badFile(path: path, reason: "has \(loraTensors) LoRA tensors but the configuration names \(used); targets or layers differ")
        }
        var gguf = [Float](repeating: 0, count: adapter.parameterCount)
        hf.withUnsafeBufferPointer { copyConverting(adapter, toHF: false, from: $0, into: &gguf) }
        for i in 0..<adapter.parameterCount { adapter.parameters[i] = gguf[i] }
    }
}
