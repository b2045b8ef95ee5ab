import Foundation
import PersonaCore

/// Writes a safetensors file (adapters, test fixtures): tensors in the order added, header
/// padded with spaces to a multiple of 8 bytes as the reference implementation does.
public struct SafetensorsWriter {
    private var entries: [(name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8])] = []
    public var metadata: [String: String] = [:]

    public init() {}

    /// `shape` outermost first (PyTorch order).
    public mutating func add(_ name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) throws {
        let expected = shape.reduce(1, *) * dtype.bytesPerElement
        guard expected == bytes.count else {
            throw TensorError.invalid("safetensors writer: tensor '\(name)' has \(bytes.count) bytes, expected \(expected) for \(dtype.rawValue) \(shape)")
        }
        entries.append((name, dtype, shape, bytes))
    }

    public mutating func add(_ name: String, shape: [Int], values: [Float]) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        try add(name, dtype: .f32, shape: shape, bytes: bytes)
    }

    public func bytes() -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let fields = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            parts.append("\"__metadata__\":{" + fields.joined(separator: ",") + "}")
        }
        var offset = 0
        for entry in entries {
            let shape = entry.shape.map(String.init).joined(separator: ",")
            parts.append("\(jsonString(entry.name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + entry.bytes.count)]}")
            offset += entry.bytes.count
        }
        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for entry in entries { out.append(contentsOf: entry.bytes) }
        return out
    }

    public func write(to path: String) throws {
        try PrivateFiles.writeAtomically(Data(bytes()), to: path)
    }
}
