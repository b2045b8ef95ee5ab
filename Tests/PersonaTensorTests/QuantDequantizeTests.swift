import Foundation
import XCTest
import PersonaCore
@testable import PersonaTensor
import PersonaTestSupport

/// Dequantization against gguf-py: fixtures for every supported type (made by
/// scripts/make-quant-fixtures.py) bit for bit, the SIMD kernels against their naive twin,
/// and every tensor of the default model against Tests/Golden/smollm2-dequant-stats.json.
final class QuantDequantizeTests: XCTestCase {
    /// First index where two float arrays differ in bits, with both values.
    private func firstBitDifference(_ a: [Float], _ b: [Float]) -> String? {
        guard a.count == b.count else { return "counts differ: \(a.count) vs \(b.count)" }
        for i in a.indices where a[i].bitPattern != b[i].bitPattern && !(a[i].isNaN && b[i].isNaN) {
            return "index \(i): \(a[i]) vs \(b[i])"
        }
        return nil
    }

    private func run(_ type: GGMLType, _ bytes: [UInt8], count: Int, reference: Bool = false) -> [Float] {
        var out = [Float](repeating: -1, count: count)
        bytes.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer { buffer in
                if let base = raw.baseAddress, let destination = buffer.baseAddress {
                    if reference { dequantizeReference(type, base, count: count, into: destination) }
                    else { dequantize(type, base, count: count, into: destination) }
                }
            }
        }
        return out
    }

    func testFixturesMatchGGUFPyExactly() throws {
        XCTAssertEqual(Set(quantFixtures.map(\.typeID)).count, 10)
        for fixture in quantFixtures {
            let type = try XCTUnwrap(GGMLType(rawValue: fixture.typeID))
            let blocks = try XCTUnwrap(Data(base64Encoded: fixture.blocks))
            let valueBytes = try XCTUnwrap(Data(base64Encoded: fixture.values))
            XCTAssertEqual(blocks.count, type.byteCount(elements: fixture.count), type.name)
            let expected: [Float] = valueBytes.withUnsafeBytes { raw in
                (0..<fixture.count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            let fast = run(type, [UInt8](blocks), count: fixture.count)
            let naive = run(type, [UInt8](blocks), count: fixture.count, reference: true)
            XCTAssertNil(firstBitDifference(fast, expected), "\(type.name) SIMD vs gguf-py")
            XCTAssertNil(firstBitDifference(naive, expected), "\(type.name) reference vs gguf-py")
        }
    }

    func testSIMDMatchesNaiveTwinOnRandomBlocks() {
        var rng = SeededGenerator(seed: 7)
        let types: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K]
        for type in types {
            let count = type.blockSize * (type.blockSize == 1 ? 1000 : 37)
            let bytes = (0..<(count / type.blockSize * type.blockBytes)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            XCTAssertNil(firstBitDifference(run(type, bytes, count: count), run(type, bytes, count: count, reference: true)), type.name)
        }
    }

    func testRowsAndPartialBlocks() {
        var rng = SeededGenerator(seed: 11)
        let type = GGMLType.q4_K, rowLength = 512, rows = 5
        let bytes = (0..<(rows * rowByteCount(type, rowLength: rowLength))).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let whole = run(type, bytes, count: rows * rowLength)
        var middle = [Float](repeating: 0, count: 2 * rowLength)
        bytes.withUnsafeBytes { raw in
            middle.withUnsafeMutableBufferPointer {
                dequantizeRows(type, raw.baseAddress!, rowLength: rowLength, rows: 2..<4, into: $0.baseAddress!)
            }
        }
        XCTAssertNil(firstBitDifference(middle, Array(whole[(2 * rowLength)..<(4 * rowLength)])))
        var parallel = [Float](repeating: 0, count: rows * rowLength)
        bytes.withUnsafeBytes { raw in
            parallel.withUnsafeMutableBufferPointer {
                dequantizeRowsParallel(type, raw.baseAddress!, rowLength: rowLength, rows: 0..<rows, into: $0.baseAddress!, threads: 2)
            }
        }
        XCTAssertNil(firstBitDifference(parallel, whole))
        // A count that is not a whole number of blocks leaves NaN, never garbage.
        let partial = run(.q8_0, Array(bytes.prefix(34 * 2)), count: 40)
        XCTAssertTrue(partial[32...].allSatisfy(\.isNaN))
        XCTAssertTrue(run(.q2_K, Array(bytes.prefix(84)), count: 256).allSatisfy(\.isNaN))
    }

    func testEveryTensorOfTheDefaultModelMatchesGGUFPyStatistics() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.golden("smollm2-dequant-stats.json")))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let table = try XCTUnwrap(root["tensors"] as? [[String: Any]])
        let file = try GGUFFile(path: TestPaths.defaultModel)
        XCTAssertEqual(table.count, file.tensors.count)
        #if DEBUG
        // Unoptimised SIMD code is slow: debug runs check one tensor of each type, and of a large
        // one only its first and last rows; release runs check every value of every tensor.
        var seenTypes = Set<String>()
        let selected = table.filter { seenTypes.insert($0["type"] as? String ?? "").inserted }
        let fullCheckLimit = 1 << 21
        #else
        let selected = table
        let fullCheckLimit = Int.max
        #endif
        var buffer = [Float](repeating: 0, count: file.tensors.map(\.elementCount).max() ?? 0)
        for expected in selected {
            let name = try XCTUnwrap(expected["name"] as? String)
            let tensor = try XCTUnwrap(file.tensor(named: name), name)
            XCTAssertEqual(tensor.type.name, expected["type"] as? String, name)
            XCTAssertEqual(tensor.shape, expected["shape"] as? [Int], name)
            let n = tensor.elementCount
            XCTAssertEqual(n, expected["n"] as? Int, name)
            let rowLength = tensor.shape[0], rows = n / rowLength
            let source = try XCTUnwrap(file.data(for: tensor).baseAddress)
            let first16 = (expected["first16"] as? [Double])?.map(Float.init)
            let last4 = (expected["last4"] as? [Double])?.map(Float.init)
            if n > fullCheckLimit {
                var row = [Float](repeating: 0, count: rowLength)
                row.withUnsafeMutableBufferPointer { dequantizeRows(tensor.type, source, rowLength: rowLength, rows: 0..<1, into: $0.baseAddress!) }
                XCTAssertEqual(Array(row[0..<16]), first16, name)
                row.withUnsafeMutableBufferPointer { dequantizeRows(tensor.type, source, rowLength: rowLength, rows: (rows - 1)..<rows, into: $0.baseAddress!) }
                XCTAssertEqual(Array(row[(rowLength - 4)...]), last4, name)
                continue
            }
            buffer.withUnsafeMutableBufferPointer { out in
                dequantizeRowsParallel(tensor.type, source, rowLength: rowLength, rows: 0..<rows, into: out.baseAddress!, threads: 2)
            }
            var sum = 0.0, sumsq = 0.0
            var low = Float.infinity, high = -Float.infinity
            for i in 0..<n {
                let v = buffer[i]
                sum += Double(v); sumsq += Double(v) * Double(v)
                low = min(low, v); high = max(high, v)
            }
            let expectedSum = try XCTUnwrap(expected["sum"] as? Double)
            let expectedSumsq = try XCTUnwrap(expected["sumsq"] as? Double)
            XCTAssertLessThanOrEqual(abs(sum - expectedSum), 1e-6 * max(abs(expectedSum), sumsq.squareRoot()), "\(name) sum \(sum) vs \(expectedSum)")
            XCTAssertLessThanOrEqual(abs(sumsq - expectedSumsq), 1e-6 * expectedSumsq, "\(name) sumsq \(sumsq) vs \(expectedSumsq)")
            // Foundation's JSON parser on Linux can be off in the last bits of a Double; every golden
            // value is a float32, so rounding the parsed value to Float recovers it exactly.
            XCTAssertEqual(low, (expected["min"] as? Double).map(Float.init), name)
            XCTAssertEqual(high, (expected["max"] as? Double).map(Float.init), name)
            XCTAssertEqual(Array(buffer[0..<16]), first16, name)
            XCTAssertEqual(Array(buffer[(n - 4)..<n]), last4, name)
        }
    }
}
