import PersonaTensor

extension WeightMatrix {
    /// A matrix over a tensor's stored bytes, without copying: GGUF shape [columns, rows]
    /// (innermost first). Q8_0 and Q4_1 get fused kernels; other dequantizable formats are
    /// read a row tile at a time.
    public static func fromTensor(name: String, type: GGMLType, shape: [Int], data: UnsafeRawBufferPointer,
                                  owner: AnyObject) throws -> WeightMatrix {
        guard shape.count == 2 || (shape.count > 2 && shape[2...].allSatisfy { $0 == 1 }) else {
            throw ModelError.badWeight(tensor: name, expected: "a matrix", actual: "shape \(shape)")
        }
        let columns = shape[0], rows = shape[1]
        guard type.isDequantizable, columns > 0, rows > 0, columns % type.blockSize == 0 else {
            throw ModelError.badWeight(tensor: name, expected: "a supported format with rows of whole blocks",
                                       actual: "\(type.name), shape \(shape)")
        }
        let rowBytes = rowByteCount(type, rowLength: columns)
        let (needed, overflow) = rowBytes.multipliedReportingOverflow(by: rows)
        guard !overflow, let base = data.baseAddress, data.count >= needed else {
            throw ModelError.badWeight(tensor: name, expected: "\(needed) bytes", actual: "\(data.count)")
        }
        switch type {
        case .f32:
            guard Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 else {
                throw ModelError.badWeight(tensor: name, expected: "4-byte aligned data", actual: "offset \(Int(bitPattern: base) % 4)")
            }
            return WeightMatrix(name: name, rows: rows, columns: columns,
                                storage: .f32(base.assumingMemoryBound(to: Float.self)), owner: owner)
        case .q8_0:
            return WeightMatrix(name: name, rows: rows, columns: columns, storage: .q8_0(base), owner: owner)
        case .q4_1:
            return WeightMatrix(name: name, rows: rows, columns: columns, storage: .q4_1(base), owner: owner)
        default:
            return WeightMatrix(name: name, rows: rows, columns: columns,
                                storage: .blocks(base, name: type.name, rowBytes: rowBytes,
                                                 dequantizeRow: { dequantize(type, $0, count: $1, into: $2) }),
                                owner: owner)
        }
    }
}

extension WeightVector {
    /// A float32 vector over a tensor's bytes; other formats are dequantized into a copy.
    public static func fromTensor(name: String, type: GGMLType, shape: [Int], data: UnsafeRawBufferPointer,
                                  owner: AnyObject) throws -> WeightVector {
        let count = shape.reduce(1, *)
        guard type.isDequantizable, let needed = type.byteCount(elements: count), let base = data.baseAddress,
              data.count >= needed else {
            throw ModelError.badWeight(tensor: name, expected: "a vector of \(count) values", actual: "\(type.name), \(data.count) bytes")
        }
        if type == .f32 && Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
            return WeightVector(name: name, pointer: base.assumingMemoryBound(to: Float.self), count: count, owner: owner)
        }
        let copy = FloatBuffer(count: count)
        dequantize(type, base, count: count, into: copy.pointer)
        return .owning(name: name, copy)
    }
}

extension LlamaWeights {
    /// The weights named as GGUF names them (`token_embd.weight`, `blk.N.attn_q.weight`, …),
    /// looked up through `tensor`, which returns (type, shape innermost first, bytes) or nil.
    /// `owner` keeps the mapped file alive as long as the weights.
    public static func load(config c: LlamaConfig, owner: AnyObject,
                            tensor: (String) -> (type: GGMLType, shape: [Int], data: UnsafeRawBufferPointer)?) throws -> LlamaWeights {
        func lookup(_ name: String) throws -> (type: GGMLType, shape: [Int], data: UnsafeRawBufferPointer) {
            guard let t = tensor(name) else { throw ModelError.badWeight(tensor: name, expected: "present", actual: "missing") }
            return t
        }
        func matrix(_ name: String) throws -> WeightMatrix {
            let t = try lookup(name)
            return try .fromTensor(name: name, type: t.type, shape: t.shape, data: t.data, owner: owner)
        }
        func vector(_ name: String) throws -> WeightVector {
            let t = try lookup(name)
            return try .fromTensor(name: name, type: t.type, shape: t.shape, data: t.data, owner: owner)
        }
        let embedding = try matrix("token_embd.weight")
        var layers: [LayerWeights] = []
        for l in 0..<c.nLayers {
            let p = "blk.\(l)."
            layers.append(LayerWeights(
                attentionNorm: try vector(p + "attn_norm.weight"),
                q: try matrix(p + "attn_q.weight"), k: try matrix(p + "attn_k.weight"),
                v: try matrix(p + "attn_v.weight"), o: try matrix(p + "attn_output.weight"),
                ffnNorm: try vector(p + "ffn_norm.weight"),
                gate: try matrix(p + "ffn_gate.weight"), up: try matrix(p + "ffn_up.weight"),
                down: try matrix(p + "ffn_down.weight")))
        }
        let outputNorm = try vector("output_norm.weight")
        let output = tensor("output.weight") == nil ? embedding : try matrix("output.weight")
        let weights = LlamaWeights(embedding: embedding, layers: layers, outputNorm: outputNorm, output: output)
        try weights.validate(against: c)
        return weights
    }
}
