/// A GGUF model file (versions 2 and 3), memory-mapped read-only.
///
/// Layout (ggml `docs/gguf.md`): magic "GGUF", version u32, tensor count u64, metadata count u64,
/// the metadata key/values, the tensor infos (name, dimensions, type, offset relative to the data
/// section), padding to `general.alignment`, then the tensor data. Every count, length, dimension
/// and offset is checked against the file size before it is used, so a truncated or hostile file
/// gives one clear error and never a crash or an allocation larger than the file.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// In file order.
    public let tensors: [GGUFTensorInfo]
    /// Alignment of tensor data (`general.alignment`, default 32).
    public let alignment: Int
    /// Absolute offset of the tensor data section.
    public let dataOffset: Int
    /// The file's size in bytes.
    public var fileSize: Int { mapping.size }
    /// Drops the resident pages of `range` if it lies in this file (see `MappedFile.releasePages`).
    public func releasePages(_ range: UnsafeRawBufferPointer) { mapping.releasePages(range) }

    private let mapping: MappedFile
    private let tensorIndex: [String: Int]

    /// Hard limits that keep a hostile header from asking for absurd work; real files are far below.
    static let maximumDimensions = 4
    static let maximumNesting = 4

    public init(path: String) throws {
        let mapping = try MappedFile(path: path)
        self.mapping = mapping
        self.path = path
        var reader = ByteReader(bytes: mapping.bytes, path: path)

        guard mapping.size >= 4 else {
            throw TensorError.malformedFile(path: path, what: "not a GGUF file (\(mapping.size) bytes, too short for the header)")
        }
        let magic = try reader.u32("magic")
        guard magic == 0x4655_4747 else {  // "GGUF" little-endian
            throw TensorError.malformedFile(path: path, what: "not a GGUF file (the first 4 bytes are not \"GGUF\")")
        }
        let version = try reader.u32("version")
        if version == 1 {
            throw TensorError.malformedFile(path: path, what: "GGUF version 1 is not supported (versions 2 and 3 are); convert the file with a current llama.cpp")
        }
        guard version == 2 || version == 3 else {
            if version.byteSwapped == 2 || version.byteSwapped == 3 {
                throw TensorError.malformedFile(path: path, what: "big-endian GGUF is not supported")
            }
            throw TensorError.malformedFile(path: path, what: "unsupported GGUF version \(version) (expected 2 or 3)")
        }
        self.version = version
        let tensorCount = try reader.count("tensor count", minimumBytesEach: 24)
        let metadataCount = try reader.count("metadata count", minimumBytesEach: 13)

        var metadata: [String: GGUFValue] = [:]
        metadata.reserveCapacity(metadataCount)
        for index in 0..<metadataCount {
            let keyOffset = reader.position
            let key = try reader.string("metadata key #\(index)")
            let valueType = try reader.u32("type of metadata key '\(key)'")
            let value = try reader.value(type: valueType, key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw TensorError.malformedFile(path: path, what: "metadata key '\(key)' appears twice (second at offset \(keyOffset))")
            }
        }
        self.metadata = metadata

        var alignment = 32
        if let declared = metadata["general.alignment"] {
            guard case .uint32(let value) = declared else {
                throw TensorError.malformedFile(path: path, what: "general.alignment has type \(declared.typeName), expected u32")
            }
            guard value > 0, value & (value - 1) == 0, value <= 1 << 20 else {
                throw TensorError.malformedFile(path: path, what: "general.alignment is \(value), expected a power of two up to 1 MiB")
            }
            alignment = Int(value)
        }
        self.alignment = alignment

        struct PendingTensor { var name: String; var type: GGMLType; var shape: [Int]; var relativeOffset: Int; var byteCount: Int }
        var pending: [PendingTensor] = []
        pending.reserveCapacity(tensorCount)
        var index: [String: Int] = [:]
        index.reserveCapacity(tensorCount)
        for tensorNumber in 0..<tensorCount {
            let name = try reader.string("name of tensor #\(tensorNumber)")
            let dimensionCount = try reader.u32("dimension count of tensor '\(name)'")
            guard dimensionCount >= 1, dimensionCount <= GGUFFile.maximumDimensions else {
                throw TensorError.malformedFile(path: path, what: "tensor '\(name)' has \(dimensionCount) dimensions, expected 1 to \(GGUFFile.maximumDimensions)")
            }
            var shape: [Int] = []
            var elements = 1
            for axis in 0..<Int(dimensionCount) {
                let raw = try reader.u64("dimension \(axis) of tensor '\(name)'")
                guard raw <= UInt64(Int32.max) else {
                    throw TensorError.malformedFile(path: path, what: "tensor '\(name)' dimension \(axis) is \(raw), larger than any real model")
                }
                let dimension = Int(raw)
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow else {
                    throw TensorError.malformedFile(path: path, what: "tensor '\(name)' shape \(shape + [dimension]) has too many elements")
                }
                elements = product
                shape.append(dimension)
            }
            let rawType = try reader.u32("type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw TensorError.malformedFile(path: path, what: "tensor '\(name)' has unknown type id \(rawType)")
            }
            guard shape[0] % type.blockSize == 0, let byteCount = type.byteCount(elements: elements) else {
                throw TensorError.malformedFile(path: path, what: "tensor '\(name)' of type \(type.name) has innermost dimension \(shape[0]), not a multiple of its block size \(type.blockSize)")
            }
            let rawOffset = try reader.u64("data offset of tensor '\(name)'")
            guard rawOffset <= UInt64(mapping.size) else {
                throw TensorError.malformedFile(path: path, what: "tensor '\(name)' data runs past end of file (offset \(rawOffset) into the data section, file size \(mapping.size))")
            }
            let relativeOffset = Int(rawOffset)
            guard relativeOffset % alignment == 0 else {
                throw TensorError.malformedFile(path: path, what: "tensor '\(name)' data offset \(relativeOffset) is not a multiple of the alignment \(alignment)")
            }
            guard index.updateValue(pending.count, forKey: name) == nil else {
                throw TensorError.malformedFile(path: path, what: "tensor '\(name)' appears twice")
            }
            pending.append(PendingTensor(name: name, type: type, shape: shape, relativeOffset: relativeOffset, byteCount: byteCount))
        }

        // The data section starts at the next multiple of the alignment after the tensor infos.
        let remainder = reader.position % alignment
        let dataOffset = remainder == 0 ? reader.position : reader.position + (alignment - remainder)
        guard dataOffset <= mapping.size || pending.isEmpty else {
            throw TensorError.malformedFile(path: path, what: "tensor data section would start at offset \(dataOffset), past the end of the file (\(mapping.size) bytes)")
        }
        self.dataOffset = dataOffset

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(pending.count)
        for tensor in pending {
            let absolute = dataOffset + tensor.relativeOffset  // both ≤ file size: no overflow
            guard absolute <= mapping.size, tensor.byteCount <= mapping.size - absolute else {
                throw TensorError.malformedFile(path: path, what: "tensor '\(tensor.name)' data runs past end of file (offset \(absolute), size \(tensor.byteCount), file size \(mapping.size))")
            }
            tensors.append(GGUFTensorInfo(name: tensor.name, type: tensor.type, shape: tensor.shape,
                                          offset: absolute, byteCount: tensor.byteCount))
        }
        self.tensors = tensors
        self.tensorIndex = index
    }

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's bytes, valid while this file object lives.
    public func data(for tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        mapping.slice(offset: tensor.offset, count: tensor.byteCount)
    }

    // MARK: Typed metadata access (nil when absent or of another type)

    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    public func double(_ key: String) -> Double? { metadata[key]?.doubleValue }
    public func bool(_ key: String) -> Bool? { metadata[key]?.boolValue }

    public func strings(_ key: String) -> [String]? {
        guard let items = metadata[key]?.arrayValue else { return nil }
        var result: [String] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard case .string(let s) = item else { return nil }
            result.append(s)
        }
        return result
    }

    public func ints(_ key: String) -> [Int]? {
        guard let items = metadata[key]?.arrayValue else { return nil }
        var result: [Int] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard let value = item.intValue else { return nil }
            result.append(value)
        }
        return result
    }

    public func floats(_ key: String) -> [Float]? {
        guard let items = metadata[key]?.arrayValue else { return nil }
        var result: [Float] = []
        result.reserveCapacity(items.count)
        for item in items {
            switch item {
            case .float32(let v): result.append(v)
            case .float64(let v): result.append(Float(v))
            default:
                guard let value = item.intValue else { return nil }
                result.append(Float(value))
            }
        }
        return result
    }
}

/// A bounds-checked little-endian cursor over the mapped header.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var position = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes; self.path = path
    }

    private func need(_ count: Int, _ what: @autoclosure () -> String) throws {
        guard count <= bytes.count - position else {
            throw TensorError.malformedFile(path: path, what: "\(what()) runs past end of file (offset \(position), needs \(count) bytes, file size \(bytes.count))")
        }
    }

    @inline(__always)
    private mutating func load<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, what())
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
        position += MemoryLayout<T>.size
        return value
    }

    mutating func u8(_ what: @autoclosure () -> String) throws -> UInt8 { try load(UInt8.self, what()) }
    mutating func u16(_ what: @autoclosure () -> String) throws -> UInt16 { try load(UInt16.self, what()) }
    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 { try load(UInt32.self, what()) }
    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 { try load(UInt64.self, what()) }

    /// A u64 count of items that each take at least `minimumBytesEach` bytes: a count the rest
    /// of the file cannot hold is rejected before anything is allocated for it.
    mutating func count(_ what: @autoclosure () -> String, minimumBytesEach: Int) throws -> Int {
        let start = position
        let raw = try u64(what())
        let remaining = bytes.count - position
        guard raw <= UInt64(remaining / max(minimumBytesEach, 1)) else {
            throw TensorError.malformedFile(path: path, what: "\(what()) is \(raw) at offset \(start), more than the remaining \(remaining) bytes can hold")
        }
        return Int(raw)
    }

    /// A GGUF string: u64 byte length, then UTF-8 bytes (invalid sequences become U+FFFD).
    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let start = position
        let length = try u64(what())
        guard length <= UInt64(bytes.count - position) else {
            throw TensorError.malformedFile(path: path, what: "\(what()) string length \(length) runs past end of file (offset \(start), file size \(bytes.count))")
        }
        let count = Int(length)
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)]), as: UTF8.self)
        position += count
        return text
    }

    /// One metadata value of the given GGUF type id.
    mutating func value(type: UInt32, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try u8("value of '\(key)'"))
        case 1: return .int8(Int8(bitPattern: try u8("value of '\(key)'")))
        case 2: return .uint16(try u16("value of '\(key)'"))
        case 3: return .int16(Int16(bitPattern: try u16("value of '\(key)'")))
        case 4: return .uint32(try u32("value of '\(key)'"))
        case 5: return .int32(Int32(bitPattern: try u32("value of '\(key)'")))
        case 6: return .float32(Float(bitPattern: try u32("value of '\(key)'")))
        case 7:
            let offset = position
            let byte = try u8("value of '\(key)'")
            guard byte <= 1 else {
                throw TensorError.malformedFile(path: path, what: "metadata '\(key)' is a bool with byte value \(byte) at offset \(offset), expected 0 or 1")
            }
            return .bool(byte == 1)
        case 8: return .string(try string("value of '\(key)'"))
        case 9:
            guard depth < GGUFFile.maximumNesting else {
                throw TensorError.malformedFile(path: path, what: "metadata '\(key)' nests arrays deeper than \(GGUFFile.maximumNesting) levels")
            }
            let elementType = try u32("element type of '\(key)'")
            let minimumBytes: Int
            switch elementType {
            case 0, 1, 7: minimumBytes = 1
            case 2, 3: minimumBytes = 2
            case 4, 5, 6: minimumBytes = 4
            case 8, 10, 11, 12: minimumBytes = 8
            case 9: minimumBytes = 12
            default:
                throw TensorError.malformedFile(path: path, what: "metadata '\(key)' is an array of unknown type id \(elementType) (offset \(position - 4))")
            }
            let count = try self.count("element count of '\(key)'", minimumBytesEach: minimumBytes)
            if elementType == 8 { return .array(try stringArray(count: count, key: key)) }
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count {
                items.append(try value(type: elementType, key: key, depth: depth + 1))
            }
            return .array(items)
        case 10: return .uint64(try u64("value of '\(key)'"))
        case 11: return .int64(Int64(bitPattern: try u64("value of '\(key)'")))
        case 12: return .float64(Double(bitPattern: try u64("value of '\(key)'")))
        default:
            throw TensorError.malformedFile(path: path, what: "metadata '\(key)' has unknown value type id \(type) (offset \(position - 4))")
        }
    }

    /// The tokenizer's 49k-entry string arrays dominate header parsing: this loop keeps the
    /// per-string work to one bounds check and one String construction.
    private mutating func stringArray(count: Int, key: String) throws -> [GGUFValue] {
        var items: [GGUFValue] = []
        items.reserveCapacity(count)
        let total = bytes.count
        guard let base = bytes.baseAddress else {
            if count == 0 { return [] }
            throw TensorError.malformedFile(path: path, what: "metadata '\(key)' runs past end of file")
        }
        for item in 0..<count {
            guard total - position >= 8 else {
                throw TensorError.malformedFile(path: path, what: "metadata '\(key)' item \(item) runs past end of file (offset \(position), file size \(total))")
            }
            let length = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            guard length <= UInt64(total - position - 8) else {
                throw TensorError.malformedFile(path: path, what: "metadata '\(key)' item \(item) string length \(length) runs past end of file (offset \(position), file size \(total))")
            }
            let start = position + 8
            let text = String(decoding: UnsafeRawBufferPointer(start: base + start, count: Int(length)), as: UTF8.self)
            items.append(.string(text))
            position = start + Int(length)
        }
        return items
    }
}
