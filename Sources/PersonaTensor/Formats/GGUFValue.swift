/// One metadata value of a GGUF file, with the type the file declared for it.
public indirect enum GGUFValue {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array([GGUFValue])

    /// Any integer type, when it fits in Int.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// Any float type, or an integer converted.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return intValue.map(Double.init)
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The GGUF type name, for messages and `model info`.
    public var typeName: String {
        switch self {
        case .uint8: return "u8"
        case .int8: return "i8"
        case .uint16: return "u16"
        case .int16: return "i16"
        case .uint32: return "u32"
        case .int32: return "i32"
        case .uint64: return "u64"
        case .int64: return "i64"
        case .float32: return "f32"
        case .float64: return "f64"
        case .bool: return "bool"
        case .string: return "string"
        case .array(let items): return "array[\(items.first?.typeName ?? "")×\(items.count)]"
        }
    }

    /// A short human rendering (arrays summarised).
    public var summary: String {
        switch self {
        case .uint8(let v): return String(v)
        case .int8(let v): return String(v)
        case .uint16(let v): return String(v)
        case .int16(let v): return String(v)
        case .uint32(let v): return String(v)
        case .int32(let v): return String(v)
        case .uint64(let v): return String(v)
        case .int64(let v): return String(v)
        case .float32(let v): return String(v)
        case .float64(let v): return String(v)
        case .bool(let v): return String(v)
        case .string(let s): return s
        case .array(let items):
            let shown = items.prefix(4).map(\.summary).joined(separator: ", ")
            return "[\(shown)\(items.count > 4 ? ", … (\(items.count) items)" : "")]"
        }
    }
}

/// Where a tensor's data lies in a GGUF file, and its type and shape.
public struct GGUFTensorInfo {
    public let name: String
    public let type: GGMLType
    /// GGUF order: innermost (contiguous) dimension first.
    public let shape: [Int]
    /// Absolute byte offset of the data in the file.
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }

    public init(name: String, type: GGMLType, shape: [Int], offset: Int, byteCount: Int) {
        self.name = name; self.type = type; self.shape = shape; self.offset = offset; self.byteCount = byteCount
    }
}
