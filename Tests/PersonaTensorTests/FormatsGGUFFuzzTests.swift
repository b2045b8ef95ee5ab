import Foundation
import XCTest
import PersonaCore
@testable import PersonaTensor
import PersonaTestSupport

/// A small valid GGUF, mutated and truncated thousands of times with a fixed seed: every
/// variant must either load cleanly (and then its tensors must be readable) or fail with a
/// TensorError. A crash, hang or huge allocation fails the run.
final class FormatsGGUFFuzzTests: XCTestCase {
    static func seedFile() throws -> [UInt8] {
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("llama"))
        writer.add("llama.block_count", .uint32(1))
        writer.add("llama.rope.freq_base", .float32(10000))
        writer.add("flag", .bool(true))
        writer.add("tokenizer.ggml.tokens", .array([.string("<s>"), .string("a"), .string("bé"), .string("")]))
        writer.add("tokenizer.ggml.scores", .array([.float32(0), .float32(-1), .float32(-2), .float32(-3)]))
        writer.add("nested", .array([.array([.int64(-1), .int64(2)]), .array([])]))
        writer.add("small", .array([.int8(-3), .int8(4)]))
        writer.add("wide", .float64(1.5))
        try writer.addTensor("a.weight", shape: [4, 2], values: [1, 2, 3, 4, 5, 6, 7, 8])
        var q8 = [UInt8](repeating: 0, count: 34 * 2)
        for i in q8.indices { q8[i] = UInt8(truncatingIfNeeded: i &* 37) }
        q8[1] = 0x3C; q8[35] = 0x38  // finite Float16 scales
        try writer.addTensor("b.weight", type: .q8_0, shape: [32, 2], bytes: q8)
        return writer.bytes()
    }

    func testSeedFileRoundTrips() throws {
        let directory = try TestPaths.temporaryDirectory("gguf-seed")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/seed.gguf"
        try Data(Self.seedFile()).write(to: URL(fileURLWithPath: path))
        let file = try GGUFFile(path: path)
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.string("general.architecture"), "llama")
        XCTAssertEqual(file.int("llama.block_count"), 1)
        XCTAssertEqual(file.double("llama.rope.freq_base"), 10000)
        XCTAssertEqual(file.bool("flag"), true)
        XCTAssertEqual(file.strings("tokenizer.ggml.tokens"), ["<s>", "a", "bé", ""])
        XCTAssertEqual(file.floats("tokenizer.ggml.scores"), [0, -1, -2, -3])
        XCTAssertEqual(file.ints("small"), [-3, 4])
        XCTAssertEqual(file.metadata["nested"]?.arrayValue?.count, 2)
        XCTAssertEqual(file.metadata["nested"]?.arrayValue?.first?.arrayValue?.compactMap(\.intValue), [-1, 2])
        XCTAssertEqual(file.double("wide"), 1.5)
        let a = try XCTUnwrap(file.tensor(named: "a.weight"))
        XCTAssertEqual(a.shape, [4, 2])
        let values = file.data(for: a).bindMemory(to: Float.self)
        XCTAssertEqual(Array(values), [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(file.tensor(named: "b.weight")?.byteCount, 68)

        // Version 2 has the same layout; version 1 (32-bit counts) is refused by name.
        var bytes = try Self.seedFile()
        bytes[4] = 2
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try GGUFFile(path: path).version, 2)
        bytes[4] = 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try GGUFFile(path: path)) { XCTAssertTrue(describeError($0).contains("GGUF version 1 is not supported")) }
    }

    func testErrorsNameTheProblem() throws {
        let directory = try TestPaths.temporaryDirectory("gguf-errors")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let seed = try Self.seedFile()
        let path = directory + "/cut.gguf"
        // Cut inside the last tensor's data.
        try Data(seed.prefix(seed.count - 40)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try GGUFFile(path: path)) { error in
            let text = describeError(error)
            XCTAssertTrue(text.contains("cut.gguf: tensor 'b.weight' data runs past end of file (offset"), text)
        }
        try Data("GGML".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try GGUFFile(path: path)) { XCTAssertTrue(describeError($0).contains("not a GGUF file")) }
        XCTAssertThrowsError(try GGUFFile(path: directory + "/missing.gguf")) {
            XCTAssertTrue(describeError($0).contains("missing.gguf: cannot read the file"))
        }
        var huge = seed
        huge.replaceSubrange(16..<24, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])  // metadata count
        try Data(huge).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try GGUFFile(path: path)) { XCTAssertTrue(describeError($0).contains("metadata count"), describeError($0)) }
    }

    func testMutatedAndTruncatedFilesFailCleanly() throws {
        let directory = try TestPaths.temporaryDirectory("gguf-fuzz")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let seed = try Self.seedFile()
        let path = directory + "/fuzz.gguf"
        var rng = SeededGenerator(seed: 0x6775_6666)
        #if DEBUG
        let iterations = 3_000
        #else
        let iterations = 20_000
        #endif
        let interesting: [UInt64] = [0, 1, 2, 3, 4, 5, 31, 32, 33, 255, 256, 1 << 16, 1 << 31, 1 << 32, UInt64(Int32.max),
                                     UInt64(Int64.max), UInt64.max, UInt64.max - 1, UInt64(seed.count), UInt64(seed.count + 1)]
        var loaded = 0, rejected = 0
        for iteration in 0..<iterations {
            var bytes = seed
            let mutations = Int.random(in: 1...4, using: &rng)
            for _ in 0..<mutations {
                guard !bytes.isEmpty else { break }
                let position = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
                case 2:  // an interesting 8- or 4-byte integer over a length, count or offset
                    let value = interesting[Int.random(in: 0..<interesting.count, using: &rng)]
                    let width = Bool.random(using: &rng) ? 8 : 4
                    for k in 0..<width where position + k < bytes.count {
                        bytes[position + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k)))
                    }
                case 3: bytes.removeSubrange(position..<bytes.count)
                case 4: bytes.remove(at: position)
                default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: position)
                }
            }
            writeFuzzFile(bytes, to: path)
            do {
                let file = try GGUFFile(path: path)
                loaded += 1
                // A clean load must give readable, in-bounds tensors.
                for tensor in file.tensors {
                    let data = file.data(for: tensor)
                    XCTAssertEqual(data.count, tensor.byteCount, "iteration \(iteration)")
                    XCTAssertLessThanOrEqual(tensor.offset + tensor.byteCount, bytes.count, "iteration \(iteration)")
                    if tensor.type.isDequantizable, tensor.elementCount <= 1 << 16, let base = data.baseAddress {
                        var out = [Float](repeating: 0, count: tensor.elementCount)
                        out.withUnsafeMutableBufferPointer { dequantize(tensor.type, base, count: tensor.elementCount, into: $0.baseAddress!) }
                    }
                }
                for (_, value) in file.metadata { _ = value.summary }
            } catch let error as TensorError {
                rejected += 1
                XCTAssertFalse(error.message.isEmpty)
            } catch {
                XCTFail("iteration \(iteration): unexpected error type \(error)")
            }
        }
        XCTAssertEqual(loaded + rejected, iterations)
        XCTAssertGreaterThan(rejected, iterations / 4)
        XCTAssertGreaterThan(loaded, 0)
    }
}

/// Writes bytes with plain POSIX calls into a fresh file. Foundation's `Data.write` syncs, and
/// truncating an existing file makes ext4 flush it on close (auto_da_alloc): either turns
/// thousands of fuzz iterations into many seconds of waiting on the disk.
func writeFuzzFile(_ bytes: [UInt8], to path: String) {
    unlink(path)
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard descriptor >= 0 else { return }
    bytes.withUnsafeBytes { raw in
        if let base = raw.baseAddress { _ = write(descriptor, base, raw.count) }
    }
    close(descriptor)
}
