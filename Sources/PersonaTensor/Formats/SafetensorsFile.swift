import Foundation

/// The element types of a safetensors file. Only F32, F16 and BF16 map to a `GGMLType` (and so
/// can be used as weights); the others are recognised so that errors can name them.
public enum SafetensorsDType: String, CaseIterable, Sendable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"
    case u16 = "U16", u32 = "U32", u64 = "U64", f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    public var bytesPerElement: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: return 1
        }
    }

    /// The equivalent GGML type, for the types weights can have.
    public var ggmlType: GGMLType? {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        default: return nil
        }
    }

    public init?(ggmlType: GGMLType) {
        switch ggmlType {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        default: return nil
        }
    }
}

/// Where a tensor lies in a safetensors file.
public struct SafetensorsTensorInfo {
    public let name: String
    public let dtype: SafetensorsDType
    /// As stored: outermost dimension first (row-major, PyTorch order).
    public let shape: [Int]
    /// Absolute byte offset in the file.
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
}

/// One `.safetensors` file, memory-mapped read-only.
///
/// Layout: u64 little-endian header length N, N bytes of JSON
/// (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`),
/// then the data; offsets are relative to the byte after the header. Every length and offset
/// is checked against the file size, tensors must not overlap, and size must equal shape × dtype.
public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    /// The free-form `__metadata__` strings.
    public let metadata: [String: String]
    /// Sorted by offset.
    public let tensors: [SafetensorsTensorInfo]
    public var fileSize: Int { mapping.size }
    /// Drops the resident pages of `range` if it lies in this file (see `MappedFile.releasePages`).
    public func releasePages(_ range: UnsafeRawBufferPointer) { mapping.releasePages(range) }

    private let mapping: MappedFile
    private let index: [String: Int]

    /// Headers of real checkpoints are well under a few MB; this bounds the JSON parse.
    static let maximumHeaderBytes = 100 << 20

    public init(path: String) throws {
        let mapping = try MappedFile(path: path)
        self.mapping = mapping
        self.path = path
        func fail(_ what: String) -> TensorError { .malformedFile(path: path, what: what) }

        guard mapping.size >= 8 else {
            throw fail("not a safetensors file (\(mapping.size) bytes, too short for the 8-byte header length)")
        }
        let headerLength = UInt64(littleEndian: mapping.bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(mapping.size - 8) else {
            throw fail("header length \(headerLength) runs past end of file (file size \(mapping.size))")
        }
        guard headerLength <= UInt64(Self.maximumHeaderBytes) else {
            throw fail("header length \(headerLength) is larger than the \(Self.maximumHeaderBytes)-byte limit")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = mapping.size - dataStart
        let header = Data(mapping.slice(offset: 8, count: Int(headerLength)))
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: header)
        } catch {
            throw fail("header is not valid JSON (\(headerLength) bytes from offset 8)")
        }
        guard let entries = parsed as? [String: Any] else {
            throw fail("header is not a JSON object")
        }

        var metadata: [String: String] = [:]
        var tensors: [SafetensorsTensorInfo] = []
        tensors.reserveCapacity(entries.count)
        for (name, entry) in entries {
            if name == "__metadata__" {
                guard let strings = entry as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (key, value) in strings {
                    guard let text = value as? String else { throw fail("__metadata__ value '\(key)' is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let fields = entry as? [String: Any] else { throw fail("tensor '\(name)' entry is not an object") }
            guard let dtypeName = fields["dtype"] as? String else { throw fail("tensor '\(name)' has no dtype") }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw fail("tensor '\(name)' has unknown dtype '\(dtypeName)'")
            }
            guard let shapeValues = fields["shape"] as? [Any], shapeValues.count <= 8 else {
                throw fail("tensor '\(name)' has no shape list (or more than 8 dimensions)")
            }
            var shape: [Int] = []
            var elements = 1
            for value in shapeValues {
                guard let dimension = Self.exactInt(value), dimension >= 0, dimension <= Int(Int32.max) else {
                    throw fail("tensor '\(name)' shape \(shapeValues) has a dimension that is not a non-negative integer")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw fail("tensor '\(name)' shape \(shapeValues) has too many elements") }
                elements = product
                shape.append(dimension)
            }
            guard let offsets = fields["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = Self.exactInt(offsets[0]), let end = Self.exactInt(offsets[1]) else {
                throw fail("tensor '\(name)' data_offsets is not a pair of integers")
            }
            guard begin >= 0, begin <= end else {
                throw fail("tensor '\(name)' data_offsets [\(begin), \(end)] are out of order")
            }
            guard end <= dataSize else {
                throw fail("tensor '\(name)' data runs past end of file (offset \(dataStart + begin), size \(end - begin), file size \(mapping.size))")
            }
            let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.bytesPerElement)
            guard !overflow, expected == end - begin else {
                throw fail("tensor '\(name)' has \(end - begin) bytes of data, expected \(elements) × \(dtype.bytesPerElement) for \(dtype.rawValue) \(shape)")
            }
            tensors.append(SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, offset: dataStart + begin, byteCount: end - begin))
        }
        tensors.sort { ($0.offset, $0.byteCount) < ($1.offset, $1.byteCount) }
        for (previous, next) in zip(tensors, tensors.dropFirst()) where previous.offset + previous.byteCount > next.offset {
            throw fail("tensors '\(previous.name)' and '\(next.name)' overlap (offsets \(previous.offset) and \(next.offset))")
        }
        self.metadata = metadata
        self.tensors = tensors
        var index: [String: Int] = [:]
        for (i, tensor) in tensors.enumerated() { index[tensor.name] = i }
        self.index = index
    }

    public func tensor(named name: String) -> SafetensorsTensorInfo? { index[name].map { tensors[$0] } }

    /// The tensor's bytes, valid while this file object lives.
    public func data(for tensor: SafetensorsTensorInfo) -> UnsafeRawBufferPointer {
        mapping.slice(offset: tensor.offset, count: tensor.byteCount)
    }

    /// An integral JSON number (rejecting fractions and values beyond Int). Linux Foundation
    /// bridges JSON true/false to 1/0 indistinguishably; sizes are cross-checked anyway.
    static func exactInt(_ value: Any) -> Int? {
        if let int = value as? Int { return int }
        if let double = value as? Double, double.rounded() == double, abs(double) < 9e15 { return Int(double) }
        return nil
    }
}
