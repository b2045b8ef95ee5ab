import PersonaCore

/// A set of LoRA matrices for every targeted projection of every layer, with their gradients.
/// All A and B matrices live in one flat float buffer (and the gradients in another of the
/// same layout) so that the optimizer, clipping and norms are single loops.
///
/// Layout and tensor order follow PEFT: layer 0…N−1, projections q, k, v, o, gate, up, down,
/// lora_A ([r, in]) then lora_B ([out, r]).
public final class LoRAAdapter {
    public struct Slot: Sendable {
        public var layer: Int
        public var target: LoRATarget
        public var inDim: Int
        public var outDim: Int
        /// Offsets of A ([r, in]) and B ([out, r]) in `parameters` / `gradients`.
        public var aOffset: Int
        public var bOffset: Int
    }

    public struct TensorEntry: Sendable {
        /// PEFT's name: `base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight`.
        public var name: String
        public var offset: Int
        public var rows: Int
        public var columns: Int
        public var count: Int { rows * columns }
    }

    public var name: String
    public let config: LoRAConfig
    public let shape: ModelShape
    /// What PEFT records as `base_model_name_or_path`.
    public var baseModel: String
    /// Every A and B, in `tensors` order.
    public let parameters: UnsafeMutableBufferPointer<Float>
    /// Gradients in the same layout; the trainer zeroes them.
    public let gradients: UnsafeMutableBufferPointer<Float>
    public let tensors: [TensorEntry]
    private let slotTable: [Slot?] // [layers × 7]

    /// A new adapter with PEFT's initialisation: A Kaiming-uniform with a = √5 (as torch's
    /// `kaiming_uniform_`, which gives U(−1/√in, 1/√in)), B zero, so the adapted model starts
    /// equal to the base.
    public convenience init(name: String, config: LoRAConfig, shape: ModelShape, baseModel: String = "",
                            rng: inout SeededGenerator) {
        self.init(name: name, config: config, shape: shape, baseModel: baseModel)
        for layer in 0..<shape.layers {
            for target in config.targets {
                guard let s = slot(layer: layer, target: target) else { continue }
                let bound = 1 / Float(s.inDim).squareRoot()
                for i in 0..<(config.rank * s.inDim) {
                    parameters[s.aOffset + i] = (2 * rng.nextFloat() - 1) * bound
                }
            }
        }
    }

    /// An adapter with all matrices zero (filled by a loader).
    public init(name: String, config: LoRAConfig, shape: ModelShape, baseModel: String = "") {
        self.name = name; self.config = config; self.shape = shape; self.baseModel = baseModel
        var entries: [TensorEntry] = []
        var table = [Slot?](repeating: nil, count: shape.layers * LoRATarget.allCases.count)
        var offset = 0
        let r = config.rank
        for layer in 0..<shape.layers {
            for (ti, target) in LoRATarget.allCases.enumerated() where config.targets.contains(target) {
                let (outDim, inDim) = shape.dimensions(of: target)
                let prefix = "base_model.model.model.layers.\(layer).\(target.peftModule)"
                let aOffset = offset
                entries.append(TensorEntry(name: prefix + ".lora_A.weight", offset: offset, rows: r, columns: inDim))
                offset += r * inDim
                let bOffset = offset
                entries.append(TensorEntry(name: prefix + ".lora_B.weight", offset: offset, rows: outDim, columns: r))
                offset += outDim * r
                table[layer * LoRATarget.allCases.count + ti] = Slot(layer: layer, target: target, inDim: inDim, outDim: outDim,
                                                                    aOffset: aOffset, bOffset: bOffset)
            }
        }
        tensors = entries
        slotTable = table
        parameters = .allocate(capacity: max(1, offset))
        parameters.initialize(repeating: 0)
        gradients = .allocate(capacity: max(1, offset))
        gradients.initialize(repeating: 0)
        parameterCount = offset
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
    }

    /// Number of trainable values (A and B of every slot).
    public let parameterCount: Int

    public func slot(layer: Int, target: LoRATarget) -> Slot? {
        guard layer >= 0 && layer < shape.layers, let ti = LoRATarget.allCases.firstIndex(of: target) else { return nil }
        return slotTable[layer * LoRATarget.allCases.count + ti]
    }

    public func tensor(named name: String) -> TensorEntry? { tensors.first { $0.name == name } }

    public func zeroGradients() {
        for i in 0..<parameterCount { gradients[i] = 0 }
    }

    /// √(Σ g²) over every gradient, accumulated in Double.
    public func gradientNorm() -> Double {
        var s = 0.0
        for i in 0..<parameterCount { s += Double(gradients[i]) * Double(gradients[i]) }
        return s.squareRoot()
    }

    /// L2 norm of one tensor's gradient.
    public func gradientNorm(of entry: TensorEntry) -> Double {
        var s = 0.0
        for i in entry.offset..<(entry.offset + entry.count) { s += Double(gradients[i]) * Double(gradients[i]) }
        return s.squareRoot()
    }

    /// An independent copy (values only; gradients zero).
    public func copy(named newName: String) -> LoRAAdapter {
        let c = LoRAAdapter(name: newName, config: config, shape: shape, baseModel: baseModel)
        for i in 0..<parameterCount { c.parameters[i] = parameters[i] }
        return c
    }
}
