import Foundation

/// Writes small GGUF v3 files: test fixtures (tiny random models, fuzz seeds) and exports.
/// Tensors are laid out in the order added, each padded to the alignment.
public struct GGUFWriter {
    public var alignment: Int
    private var metadata: [(String, GGUFValue)] = []
    private var tensors: [(name: String, type: GGMLType, shape: [Int], bytes: [UInt8])] = []

    public init(alignment: Int = 32) { self.alignment = alignment }

    public mutating func add(_ key: String, _ value: GGUFValue) { metadata.append((key, value)) }

    /// `shape` innermost first; `bytes` already in the type's block layout.
    public mutating func addTensor(_ name: String, type: GGMLType, shape: [Int], bytes: [UInt8]) throws {
        let elements = shape.reduce(1, *)
        guard let expected = type.byteCount(elements: elements), expected == bytes.count else {
            throw TensorError.invalid("GGUF writer: tensor '\(name)' has \(bytes.count) bytes, expected \(type.byteCount(elements: elements).map(String.init) ?? "a whole number of blocks") for \(type.name) \(shape)")
        }
        tensors.append((name, type, shape, bytes))
    }

    /// A Float32 tensor.
    public mutating func addTensor(_ name: String, shape: [Int], values: [Float]) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        try addTensor(name, type: .f32, shape: shape, bytes: bytes)
    }

    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func putString(_ s: String) { put(UInt64(s.utf8.count)); out.append(contentsOf: s.utf8) }
        func typeID(_ v: GGUFValue) -> UInt32 {
            switch v {
            case .uint8: return 0
            case .int8: return 1
            case .uint16: return 2
            case .int16: return 3
            case .uint32: return 4
            case .int32: return 5
            case .float32: return 6
            case .bool: return 7
            case .string: return 8
            case .array: return 9
            case .uint64: return 10
            case .int64: return 11
            case .float64: return 12
            }
        }
        func putValue(_ v: GGUFValue) {
            switch v {
            case .uint8(let x): put(x)
            case .int8(let x): put(x)
            case .uint16(let x): put(x)
            case .int16(let x): put(x)
            case .uint32(let x): put(x)
            case .int32(let x): put(x)
            case .float32(let x): put(x.bitPattern)
            case .bool(let x): put(UInt8(x ? 1 : 0))
            case .string(let s): putString(s)
            case .array(let items):
                put(items.first.map(typeID) ?? 0)
                put(UInt64(items.count))
                for item in items { putValue(item) }
            case .uint64(let x): put(x)
            case .int64(let x): put(x)
            case .float64(let x): put(x.bitPattern)
            }
        }
        func pad() { while out.count % alignment != 0 { out.append(0) } }

        put(UInt32(0x4655_4747))
        put(UInt32(3))
        put(UInt64(tensors.count))
        var entries = metadata
        if alignment != 32, !entries.contains(where: { $0.0 == "general.alignment" }) {
            entries.append(("general.alignment", .uint32(UInt32(alignment))))
        }
        put(UInt64(entries.count))
        for (key, value) in entries {
            putString(key); put(typeID(value)); putValue(value)
        }
        var offset = 0
        for tensor in tensors {
            putString(tensor.name)
            put(UInt32(tensor.shape.count))
            for dimension in tensor.shape { put(UInt64(dimension)) }
            put(tensor.type.rawValue)
            put(UInt64(offset))
            offset += (tensor.bytes.count + alignment - 1) / alignment * alignment
        }
        pad()
        for tensor in tensors {
            out.append(contentsOf: tensor.bytes)
            pad()
        }
        return out
    }

    public func write(to path: String) throws {
        try Data(bytes()).write(to: URL(fileURLWithPath: path))
    }
}
