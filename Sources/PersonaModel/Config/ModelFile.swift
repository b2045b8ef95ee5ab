import Foundation
import PersonaTensor

/// One tensor of a model in canonical (GGUF) naming and layout; `data` points into the model
/// file's mapping (or an owned copy) and stays valid while the `ModelFile` lives.
public struct TensorView {
    public let name: String
    public let type: GGMLType
    /// Innermost (contiguous) dimension first: a [576, 1536] view is 1536 rows of 576.
    public let shape: [Int]
    public let data: UnsafeRawBufferPointer

    public var elementCount: Int { shape.reduce(1, *) }
    /// Rows of the innermost dimension (1 for a vector).
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }
    public var rowLength: Int { shape.first ?? 0 }
}

/// A model's weights and configuration, from a GGUF file or a Hugging Face folder
/// (`config.json` + `*.safetensors`), seen through GGUF names and conventions.
/// Opening checks the configuration and the presence, type and shape of every tensor the
/// forward pass needs, so later code can index without further validation.
public final class ModelFile: @unchecked Sendable {
    public enum Source: Equatable, Sendable { case gguf, huggingFace }

    public let path: String
    public let source: Source
    public let config: LlamaConfig
    /// The GGUF file (metadata, tokenizer arrays); nil for Hugging Face folders.
    public let gguf: GGUFFile?
    /// The safetensors weights; nil for GGUF files.
    public let safetensors: SafetensorsCheckpoint?
    /// The folder of a Hugging Face model (tokenizer.json lives there); nil for GGUF.
    public var huggingFaceDirectory: String? { source == .huggingFace ? path : nil }
    /// GGUF `rope_freqs.weight` (Llama 3.1 frequency factors as llama.cpp stores them), if present.
    public let ropeFrequencyFactors: [Float]?

    /// Q/K rows permuted into GGUF order, made on first use (Hugging Face sources only).
    private var permuted: [String: UnsafeMutableRawBufferPointer] = [:]
    private let lock = NSLock()

    public static func open(path: String) throws -> ModelFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.invalid("\(path): no such file or folder")
        }
        if isDirectory.boolValue { return try ModelFile(huggingFaceDirectory: path) }
        if path.hasSuffix(".safetensors") {
            throw ModelError.invalid("\(path): give the model's folder (with config.json), not one .safetensors file")
        }
        return try ModelFile(ggufPath: path)
    }

    private init(ggufPath: String) throws {
        let file = try GGUFFile(path: ggufPath)
        path = ggufPath
        source = .gguf
        gguf = file
        safetensors = nil
        config = try LlamaConfig(gguf: file)
        if let factors = file.tensor(named: "rope_freqs.weight") {
            guard factors.type == .f32, factors.elementCount == config.ropeDimensions / 2 else {
                throw ModelError.invalid("\(ggufPath): tensor 'rope_freqs.weight' is \(factors.type.name) \(factors.shape), expected F32 [\(config.ropeDimensions / 2)]")
            }
            let bytes = file.data(for: factors)
            ropeFrequencyFactors = (0..<factors.elementCount).map {
                Float(bitPattern: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))
            }
        } else {
            ropeFrequencyFactors = nil
        }
        try checkTensors()
    }

    private init(huggingFaceDirectory directory: String) throws {
        let configPath = directory + "/config.json"
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw ModelError.invalid("\(directory): no config.json; not a Hugging Face model folder")
        }
        var config = try LlamaConfig(huggingFaceConfig: configPath)
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        // Some checkpoints that tie the head still save lm_head; one that does not tie must have it.
        if !config.tiedOutput && checkpoint.tensor(named: "lm_head.weight") == nil {
            if checkpoint.tensor(named: "model.embed_tokens.weight") != nil {
                config.tiedOutput = true
            }
        }
        path = directory
        source = .huggingFace
        gguf = nil
        safetensors = checkpoint
        self.config = config
        ropeFrequencyFactors = nil
        try checkTensors()
    }

    deinit {
        for (_, buffer) in permuted { buffer.deallocate() }
    }

    /// Frees the row-permuted Q/K copies of a Hugging Face checkpoint (made again on next use).
    /// Only for a caller that no longer reads any `TensorView` or matrix over them, such as
    /// a load that quantized the projections into buffers of its own.
    public func releasePermutedCopies() {
        lock.lock()
        defer { lock.unlock() }
        for (_, buffer) in permuted { buffer.deallocate() }
        permuted = [:]
    }

    /// Drops the resident pages of a tensor's stored bytes in the mapped file (read back from
    /// disk if used again): for a load that copied the tensor into a format of its own.
    public func releasePages(ofTensor ggufName: String) {
        guard let (_, _, data) = try? info(ggufName) else { return }
        gguf?.releasePages(data)
        safetensors?.releasePages(data)
    }

    /// Canonical names of the tensors the model has, in forward order.
    public var tensorNames: [String] { TensorNames.expectedNames(config) }

    public func hasTensor(_ ggufName: String) -> Bool { (try? info(ggufName)) != nil }

    /// The tensor in GGUF naming and layout. Throws for names the model does not have
    /// (`output.weight` of a tied model, for example).
    public func tensor(_ ggufName: String) throws -> TensorView {
        let (type, shape, data) = try info(ggufName)
        guard source == .huggingFace, let rows = TensorNames.ropePermutation(forGGUF: ggufName) else {
            return TensorView(name: ggufName, type: type, shape: shape, data: data)
        }
        lock.lock()
        defer { lock.unlock() }
        if let copy = permuted[ggufName] {
            return TensorView(name: ggufName, type: type, shape: shape, data: UnsafeRawBufferPointer(copy))
        }
        let groups = rows == .query ? config.nHeads : config.nKVHeads
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
        if let source = data.baseAddress, let destination = copy.baseAddress {
            permuteRowsHuggingFaceToGGUF(source, into: destination, rowBytes: rowByteCount(type, rowLength: shape[0]),
                                         groups: groups, headDim: config.headDim)
        }
        permuted[ggufName] = copy
        return TensorView(name: ggufName, type: type, shape: shape, data: UnsafeRawBufferPointer(copy))
    }

    /// The whole tensor converted to Float (a copy), innermost dimension fastest.
    public func floats(_ ggufName: String, threads: Int = 1) throws -> [Float] {
        let view = try tensor(ggufName)
        var values = [Float](repeating: 0, count: view.elementCount)
        guard let source = view.data.baseAddress, view.elementCount > 0 else { return values }
        values.withUnsafeMutableBufferPointer { out in
            dequantizeRowsParallel(view.type, source, rowLength: view.rowLength, rows: 0..<view.rowCount,
                                   into: out.baseAddress!, threads: threads)
        }
        return values
    }

    /// Type, GGUF shape and bytes of a canonical tensor, before any permutation.
    private func info(_ ggufName: String) throws -> (GGMLType, [Int], UnsafeRawBufferPointer) {
        if let gguf {
            guard let tensor = gguf.tensor(named: ggufName) else {
                throw ModelError.invalid("\(path): no tensor '\(ggufName)'")
            }
            return (tensor.type, tensor.shape, gguf.data(for: tensor))
        }
        guard let checkpoint = safetensors,
              let name = TensorNames.huggingFaceName(forGGUF: ggufName),
              let tensor = checkpoint.tensor(named: name), let data = checkpoint.data(for: name) else {
            throw ModelError.invalid("\(path): no tensor '\(ggufName)' (\(TensorNames.huggingFaceName(forGGUF: ggufName) ?? "no Hugging Face name"))")
        }
        if ggufName == "output.weight" && config.tiedOutput {
            throw ModelError.invalid("\(path): no tensor 'output.weight' (the head is tied to token_embd.weight)")
        }
        guard let type = tensor.dtype.ggmlType else {
            throw ModelError.invalid("\(path): tensor '\(name)' has dtype \(tensor.dtype.rawValue); weights must be F32, F16 or BF16")
        }
        return (type, Array(tensor.shape.reversed()), data)
    }

    private func checkTensors() throws {
        for name in tensorNames {
            let (type, shape, _) = try info(name)
            guard type.isDequantizable else {
                throw ModelError.invalid("\(path): tensor '\(name)' has type \(type.name), which this workbench cannot read (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)")
            }
            if let expected = TensorNames.expectedShape(name, config), expected != shape {
                throw ModelError.invalid("\(path): tensor '\(name)' has shape \(shape), expected \(expected) from the configuration")
            }
        }
    }
}
