/// One of the seven projections of a Llama block that LoRA can adapt.
public enum LoRATarget: String, CaseIterable, Sendable, Codable {
    case q, k, v, o, gate, up, down

    /// The module path inside a Hugging Face Llama layer (`self_attn.q_proj`, `mlp.gate_proj`).
    public var peftModule: String {
        switch self {
        case .q, .k, .v, .o: return "self_attn.\(rawValue)_proj"
        case .gate, .up, .down: return "mlp.\(rawValue)_proj"
        }
    }

    /// The name in PEFT's `target_modules` (`q_proj`).
    public var peftName: String { "\(rawValue)_proj" }

    /// Accepts `q`, `q_proj`, `self_attn.q_proj`.
    public init?(name: String) {
        var n = Substring(name)
        if let dot = n.lastIndex(of: ".") { n = n[n.index(after: dot)...] }
        if n.hasSuffix("_proj") { n = n.dropLast(5) }
        self.init(rawValue: String(n))
    }
}

/// LoRA hyper-parameters, as PEFT's LoraConfig names them.
public struct LoRAConfig: Equatable, Sendable {
    public var rank: Int
    public var alpha: Double
    public var dropout: Double
    /// In canonical order (q, k, v, o, gate, up, down).
    public var targets: [LoRATarget]
    /// rsLoRA scales by alpha / √r instead of alpha / r.
    public var useRSLoRA: Bool

    public init(rank: Int = 8, alpha: Double = 16, dropout: Double = 0,
                targets: [LoRATarget] = LoRATarget.allCases, useRSLoRA: Bool = false) throws {
        guard rank >= 1 && rank <= 1024 else { throw TrainError.badSetting(name: "rank", value: String(rank), expected: "an integer from 1 to 1024") }
        guard alpha.isFinite && alpha > 0 else { throw TrainError.badSetting(name: "alpha", value: String(alpha), expected: "a positive number") }
        guard dropout >= 0 && dropout < 1 else { throw TrainError.badSetting(name: "dropout", value: String(dropout), expected: "a number in [0, 1)") }
        guard !targets.isEmpty else { throw TrainError.badSetting(name: "targets", value: "", expected: "one or more of q,k,v,o,gate,up,down") }
        self.rank = rank; self.alpha = alpha; self.dropout = dropout
        self.targets = LoRATarget.allCases.filter { targets.contains($0) }
        self.useRSLoRA = useRSLoRA
    }

    /// The factor s of y = W x + s · B (A x).
    public var scaling: Float {
        Float(useRSLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank))
    }

    /// Parses `q,k,v,o,gate,up,down` (or PEFT names, or `all`).
    public static func parseTargets(_ text: String) throws -> [LoRATarget] {
        if text == "all" { return LoRATarget.allCases }
        var result: [LoRATarget] = []
        for part in text.split(separator: ",") {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let target = LoRATarget(name: name) else {
                throw TrainError.badSetting(name: "targets", value: name, expected: "a list of q,k,v,o,gate,up,down")
            }
            if !result.contains(target) { result.append(target) }
        }
        guard !result.isEmpty else { throw TrainError.badSetting(name: "targets", value: text, expected: "a list of q,k,v,o,gate,up,down") }
        return result
    }
}

import Foundation
