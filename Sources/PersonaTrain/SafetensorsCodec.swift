import Foundation
import PersonaCore
import PersonaTensor

/// The few safetensors operations adapter files need, over PersonaTensor's reader and writer
/// (which check every length and offset against the file): read F32/F16/BF16 tensors as
/// float32, and write F32 tensors.
enum SafetensorsCodec {
    struct Tensor {
        var shape: [Int]
        var values: [Float]
    }

    static func read(path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(path: path)
        } catch let error as TensorError {
            throw TrainError.badFile(path: path, reason: Self.reason(error, path: path))
        }
        var tensors: [String: Tensor] = [:]
        for info in file.tensors {
            guard let type = info.dtype.ggmlType else {
                throw TrainError.badFile(path: path, reason: "tensor '\(info.name)' has dtype \(info.dtype.rawValue); expected F32, F16 or BF16")
            }
            var values = [Float](repeating: 0, count: info.elementCount)
            if let base = file.data(for: info).baseAddress, !values.isEmpty {
                values.withUnsafeMutableBufferPointer { dequantize(type, base, count: info.elementCount, into: $0.baseAddress!) }
            }
            tensors[info.name] = Tensor(shape: info.shape, values: values)
        }
        return (tensors, file.metadata)
    }

    /// The reader's message without the path it starts with (`badFile` adds it once).
    private static func reason(_ error: TensorError, path: String) -> String {
        let message = describeError(error)
        return message.hasPrefix(path + ": ") ? String(message.dropFirst(path.count + 2)) : message
    }

    /// Serialises float32 tensors, header and data in the given order, `__metadata__` first.
    static func encode(_ tensors: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)], metadata: [String: String]) throws -> Data {
        var writer = SafetensorsWriter()
        writer.metadata = metadata
        for t in tensors {
            // x86-64 and arm64 are little-endian, as the format is.
            let bytes = [UInt8](UnsafeRawBufferPointer(t.values))
            try writer.add(t.name, dtype: .f32, shape: t.shape, bytes: bytes)
        }
        return Data(writer.bytes())
    }
}
