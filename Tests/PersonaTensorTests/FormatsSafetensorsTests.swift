import Foundation
import XCTest
import PersonaCore
@testable import PersonaTensor
import PersonaTestSupport

final class FormatsSafetensorsTests: XCTestCase {
    func testReadsTheGoldenLoRAFile() throws {
        let file = try SafetensorsFile(path: TestPaths.golden("lora-init.safetensors"))
        XCTAssertEqual(file.tensors.count, 420)
        XCTAssertEqual(file.metadata["r"], "8")
        XCTAssertEqual(file.metadata["lora_alpha"], "16")
        let b = try XCTUnwrap(file.tensor(named: "base_model.model.model.layers.29.mlp.up_proj.lora_B.weight"))
        XCTAssertEqual(b.dtype, .f16)
        XCTAssertEqual(b.shape, [1536, 8])
        var values = [Float](repeating: 0, count: b.elementCount)
        values.withUnsafeMutableBufferPointer {
            dequantize(.f16, file.data(for: b).baseAddress!, count: b.elementCount, into: $0.baseAddress!)
        }
        // Read independently with numpy (np.frombuffer(..., float16)).
        XCTAssertEqual(Array(values.prefix(3)), [-0.00336456298828125, 0.01374053955078125, 0.007099151611328125])
        XCTAssertEqual(Array(values.suffix(2)), [-0.00872802734375, -0.0045318603515625])
        XCTAssertEqual(values.reduce(0.0) { $0 + Double($1) }, -0.2784433364868164, accuracy: 1e-9)
    }

    func testWriterRoundTripAndShardedIndex() throws {
        let directory = try TestPaths.temporaryDirectory("safetensors")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var first = SafetensorsWriter()
        first.metadata["format"] = "pt"
        try first.add("model.embed_tokens.weight", shape: [3, 2], values: [1, 2, 3, 4, 5, 6])
        try first.write(to: directory + "/model-00001-of-00002.safetensors")
        var second = SafetensorsWriter()
        try second.add("model.norm.weight", dtype: .bf16, shape: [2], bytes: [0x80, 0x3F, 0x00, 0xC0])  // 1, -2
        try second.write(to: directory + "/model-00002-of-00002.safetensors")
        let index = """
        {"metadata": {"total_size": 28}, "weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors",
         "model.norm.weight": "model-00002-of-00002.safetensors"}}
        """
        try index.write(toFile: directory + "/model.safetensors.index.json", atomically: true, encoding: .utf8)
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        XCTAssertEqual(checkpoint.tensorNames, ["model.embed_tokens.weight", "model.norm.weight"])
        XCTAssertEqual(checkpoint.files.first?.metadata["format"], "pt")
        let embed = try XCTUnwrap(checkpoint.data(for: "model.embed_tokens.weight"))
        XCTAssertEqual(Array(embed.bindMemory(to: Float.self)), [1, 2, 3, 4, 5, 6])
        let norm = try XCTUnwrap(checkpoint.data(for: "model.norm.weight"))
        var out: [Float] = [0, 0]
        out.withUnsafeMutableBufferPointer { dequantize(.bf16, norm.baseAddress!, count: 2, into: $0.baseAddress!) }
        XCTAssertEqual(out, [1, -2])

        let hostile = "{\"weight_map\": {\"x\": \"../../etc/passwd\"}}"
        try hostile.write(toFile: directory + "/model.safetensors.index.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SafetensorsCheckpoint(directory: directory)) {
            XCTAssertTrue(describeError($0).contains("not a plain file name"), describeError($0))
        }
    }

    func testMutatedHeadersFailCleanly() throws {
        let directory = try TestPaths.temporaryDirectory("safetensors-fuzz")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var writer = SafetensorsWriter()
        try writer.add("a", shape: [2, 2], values: [1, 2, 3, 4])
        try writer.add("b", dtype: .f16, shape: [3], bytes: [0, 0x3C, 0, 0x40, 0, 0x42])
        let seed = writer.bytes()
        let path = directory + "/fuzz.safetensors"
        var rng = SeededGenerator(seed: 99)
        var loaded = 0, rejected = 0
        for iteration in 0..<2_000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...3, using: &rng) where !bytes.isEmpty {
                let position = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes[position] = Array("0123456789[]{},:\"".utf8)[Int.random(in: 0..<17, using: &rng)]
                case 2: bytes.removeSubrange(position...)
                default: bytes.remove(at: position)
                }
            }
            writeFuzzFile(bytes, to: path)
            do {
                let file = try SafetensorsFile(path: path)
                loaded += 1
                for tensor in file.tensors {
                    XCTAssertEqual(file.data(for: tensor).count, tensor.byteCount, "iteration \(iteration)")
                    XCTAssertLessThanOrEqual(tensor.offset + tensor.byteCount, bytes.count)
                }
            } catch is TensorError {
                rejected += 1
            }
        }
        XCTAssertGreaterThan(loaded, 0)
        XCTAssertGreaterThan(rejected, 0)
    }
}
