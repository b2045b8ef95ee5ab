import Foundation
import PersonaCore

/// The few safetensors operations adapter files need: read 2-D F32/F16/BF16 tensors as
/// float32, and write F32 tensors. Layout: u64 little-endian header length, a JSON header
/// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}, then the data.
/// Every length and offset is checked against the file before use.
enum SafetensorsCodec {
    struct Tensor {
        var shape: [Int]
        var values: [Float]
    }

    static func read(path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainError.badFile(path: path, reason: "cannot be read")
        }
        guard data.count >= 8 else { throw TrainError.badFile(path: path, reason: "is \(data.count) bytes; a safetensors file starts with an 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8), headerLength <= 100_000_000 else {
            throw TrainError.badFile(path: path, reason: "header length \(headerLength) exceeds the file size \(data.count)")
        }
        let headerEnd = 8 + Int(headerLength)
        guard let json = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) as? [String: Any] else {
            throw TrainError.badFile(path: path, reason: "header (bytes 8..<\(headerEnd)) is not a JSON object")
        }
        let payload = data.count - headerEnd
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in json {
            if name == "__metadata__" {
                for (k, v) in (value as? [String: Any]) ?? [:] { metadata[k] = v as? String }
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw TrainError.badFile(path: path, reason: "tensor \(name): header entry lacks dtype, shape or data_offsets")
            }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F16", "BF16": width = 2
            default: throw TrainError.badFile(path: path, reason: "tensor \(name) has dtype \(dtype); expected F32, F16 or BF16")
            }
            var count = 1
            for dim in shape {
                guard dim >= 0, dim <= 1 << 31 else { throw TrainError.badFile(path: path, reason: "tensor \(name) has dimension \(dim)") }
                let (product, overflow) = count.multipliedReportingOverflow(by: dim)
                guard !overflow, product <= payload else { throw TrainError.badFile(path: path, reason: "tensor \(name) shape \(shape) exceeds the file") }
                count = product
            }
            guard offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] <= payload, offsets[1] - offsets[0] == count * width else {
                throw TrainError.badFile(path: path, reason: "tensor \(name) data_offsets \(offsets) do not fit shape \(shape) × \(width) bytes within \(payload) data bytes")
            }
            var values = [Float](repeating: 0, count: count)
            data.withUnsafeBytes { raw in
                let base = raw.baseAddress! + headerEnd + offsets[0]
                for i in 0..<count {
                    switch dtype {
                    case "F32": values[i] = Float(bitPattern: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
                    case "F16": values[i] = Float(Float16(bitPattern: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian))
                    default: values[i] = Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
                    }
                }
            }
            tensors[name] = Tensor(shape: shape, values: values)
        }
        return (tensors, metadata)
    }

    /// Serialises float32 tensors in the given order (names sorted in the header, as the
    /// Python writer does; data in the given order).
    static func encode(_ tensors: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)], metadata: [String: String]) -> Data {
        var entries: [String] = []
        var offset = 0
        for t in tensors {
            let bytes = t.values.count * 4
            entries.append("\(jsonString(t.name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        let meta = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }.joined(separator: ",")
        var header = "{\"__metadata__\":{\(meta)}" + (entries.isEmpty ? "" : ",") + entries.joined(separator: ",") + "}"
        while (header.utf8.count + 8) % 8 != 0 { header += " " }
        var data = Data()
        var length = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        data.reserveCapacity(data.count + offset)
        for t in tensors {
            // x86-64 and arm64 are little-endian, as the format is.
            data.append(UnsafeRawBufferPointer(t.values).bindMemory(to: UInt8.self))
        }
        return data
    }
}
