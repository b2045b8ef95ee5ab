import Foundation
import XCTest
import PersonaCore
@testable import PersonaTensor

/// Quantizers against their references (fixtures made by scripts/make-quantize-fixtures.py):
/// Q8_0 against gguf-py bit for bit, NF4 and its double quantization against bitsandbytes.
final class QuantizeTests: XCTestCase {
    private func floats(_ base64: String) throws -> [Float] {
        let data = try XCTUnwrap(Data(base64Encoded: base64))
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    private func bytes(_ base64: String) throws -> [UInt8] { [UInt8](try XCTUnwrap(Data(base64Encoded: base64))) }

    func testQ8_0MatchesGGUFPyBitForBit() throws {
        let input = try floats(q8_0Fixture.input)
        let expected = try bytes(q8_0Fixture.blocks)
        XCTAssertEqual(input.count, q8_0Fixture.count)
        var out = [UInt8](repeating: 0xAA, count: input.count / 32 * QuantizedBlocks.q8_0Bytes)
        input.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBytes { QuantizedBlocks.quantizeQ8_0(x.baseAddress!, count: input.count, into: $0.baseAddress!) }
        }
        XCTAssertEqual(out.count, expected.count)
        let firstDifference = out.indices.first { out[$0] != expected[$0] }
        XCTAssertNil(firstDifference, "Q8_0 byte \(firstDifference ?? -1) differs from gguf-py")
    }

    func testNF4CodebookIsBitsandbytesTable() {
        XCTAssertEqual(NF4.codebook.count, 16)
        XCTAssertEqual(NF4.codebook.first, -1)
        XCTAssertEqual(NF4.codebook[7], 0)
        XCTAssertEqual(NF4.codebook.last, 1)
        XCTAssertEqual(NF4.codebook[1], -0.6961928009986877)
        XCTAssertEqual(NF4.codebook[8], 0.07958029955625534)
        XCTAssertEqual(NF4.codebook[14], 0.7229568362236023)
        XCTAssertEqual(NF4.codebook, NF4.codebook.sorted())
        XCTAssertEqual(NF4.thresholds.count, 15)
        XCTAssertEqual(NF4.thresholds[7], 0.07958029955625534 / 2)
    }

    func testNF4CodeIsNearestCodeByBruteForce() {
        var rng = SeededGenerator(seed: 11)
        var checked = 0
        for _ in 0..<20_000 {
            let x = Float(rng.nextDouble() * 2 - 1)
            let q = Int(NF4.code(x))
            let distances = NF4.codebook.map { abs($0 - x) }
            let best = distances.min()!
            // Exactly between two codes, the lower one wins (torch.bucketize).
            XCTAssertEqual(distances[q], best, accuracy: 1e-7, "x = \(x): code \(q)")
            if distances[q] == best { checked += 1 }
        }
        XCTAssertGreaterThan(checked, 19_990)
        for (i, t) in NF4.thresholds.enumerated() {
            XCTAssertEqual(NF4.code(t), UInt8(i), "on threshold \(i): lower code")
            XCTAssertEqual(NF4.code(t.nextUp), UInt8(i + 1))
        }
        XCTAssertEqual(NF4.code(-1), 0)
        XCTAssertEqual(NF4.code(1), 15)
        XCTAssertEqual(NF4.code(0), 7)
    }

    func testNF4MatchesBitsandbytes() throws {
        let input = try floats(nf4Fixture.input)
        let expectedPacked = try bytes(nf4Fixture.packed)
        let expectedAbsmax = try floats(nf4Fixture.absmax)
        var packed = [UInt8](repeating: 0, count: input.count / 2)
        var absmax = [Float](repeating: 0, count: input.count / 64)
        input.withUnsafeBufferPointer { x in
            NF4.quantize(x.baseAddress!, count: input.count, packed: &packed, absmax: &absmax)
        }
        XCTAssertEqual(absmax.map(\.bitPattern), expectedAbsmax.map(\.bitPattern))
        let differing = packed.indices.filter { packed[$0] != expectedPacked[$0] }
        XCTAssertEqual(differing, [], "packed NF4 bytes differ from bitsandbytes")
    }

    func testNF4PackingPutsFirstElementInHighNibble() {
        var x = [Float](repeating: 0, count: 64)
        x[0] = -1; x[1] = 1; x[2] = 1; x[3] = 0.5626170039176941
        var packed = [UInt8](repeating: 0, count: 32), absmax: Float = 0
        NF4.quantize(x, count: 64, packed: &packed, absmax: &absmax)
        XCTAssertEqual(absmax, 1)
        XCTAssertEqual(packed[0], 0x0F)
        XCTAssertEqual(packed[1], 0xFD)
        XCTAssertEqual(packed[2], 0x77)  // zeros are code 7
        var back = [Float](repeating: .nan, count: 64)
        NF4.dequantize(packed, absmax: [absmax], count: 64, into: &back)
        XCTAssertEqual(Array(back[0..<4]), [-1, 1, 1, 0.5626170039176941])
        XCTAssertTrue(back[4...].allSatisfy { $0 == 0 })
    }

    func testNF4RoundTripErrorIsBoundedByHalfTheLargestGap() {
        var rng = SeededGenerator(seed: 5)
        let count = 64 * 200
        var x = [Float](repeating: 0, count: count)
        for i in 0..<count { x[i] = Float(rng.nextGaussian()) * Float(1 + i / 64) * 0.01 }
        let m = NF4Matrix(rows: 100, columns: 128, doubleQuantize: false) { range, out in
            for i in 0..<(range.count * 128) { out[i] = x[range.lowerBound * 128 + i] }
        }
        var back = [Float](repeating: .nan, count: count)
        m.dequantize(start: 0, count: count, into: &back)
        for b in 0..<(count / 64) {
            let absmax = x[(b * 64)..<(b * 64 + 64)].map { abs($0) }.max()!
            let bound = absmax * NF4.largestGap / 2 * (1 + 1e-6)
            for j in (b * 64)..<(b * 64 + 64) {
                XCTAssertLessThanOrEqual(abs(back[j] - x[j]), bound, "weight \(j)")
            }
        }
        XCTAssertEqual(m.byteCount, count / 2 + 4 * count / 64)
        // Row access through WeightMatrix equals the whole-matrix dequantization.
        let w = m.weightMatrix(name: "w")
        XCTAssertEqual(w.formatName, "NF4")
        var rows = [Float](repeating: .nan, count: 3 * 128)
        w.dequantizeRows(40..<43, into: &rows)
        XCTAssertEqual(rows, Array(back[(40 * 128)..<(43 * 128)]))
    }

    func testDynamicMapMatchesBitsandbytes() throws {
        let expected = try floats(dynamicMapFixture)
        XCTAssertEqual(DynamicMap.signed.count, 256)
        let differing = (0..<256).filter { DynamicMap.signed[$0].bitPattern != expected[$0].bitPattern }
        XCTAssertEqual(differing, [], "dynamic map entries differ: \(differing.prefix(5).map { (DynamicMap.signed[$0], expected[$0]) })")
    }

    func testDoubleQuantizationMatchesBitsandbytes() throws {
        let f = nf4DoubleQuantFixture
        let absmax = try floats(f.absmax)
        XCTAssertEqual(absmax.count, f.blocks)
        let dq = absmax.withUnsafeBufferPointer { NF4.doubleQuantize($0.baseAddress!, count: $0.count) }
        XCTAssertEqual(dq.offset.bitPattern, f.offset.bitPattern, "offset: mean absmax \(dq.offset) vs \(f.offset)")
        XCTAssertEqual(dq.scales, try floats(f.scales))
        let codes = try bytes(f.codes)
        let differing = codes.indices.filter { codes[$0] != dq.codes[$0] }
        XCTAssertEqual(differing, [], "8-bit codes differ from bitsandbytes")
        // Reconstruction: bitsandbytes' values, and within the 8-bit error of the true absmax.
        let restored = try floats(f.restored)
        for b in 0..<f.blocks {
            XCTAssertEqual(dq.absmax(b).bitPattern, restored[b].bitPattern, "block \(b): \(dq.absmax(b)) vs \(restored[b])")
            // The dynamic map's gaps are at most 1/64 of the group scale near ±1 (its coarsest part).
            let scale = dq.scales[b / 256]
            XCTAssertLessThanOrEqual(abs(dq.absmax(b) - absmax[b]), scale / 64 + 1e-6, "block \(b)")
        }
    }

    func testDoubleQuantizedMatrixMatchesPlainWithinScaleError() {
        var rng = SeededGenerator(seed: 9)
        let rows = 300, columns = 128
        var x = [Float](repeating: 0, count: rows * columns)
        for i in x.indices { x[i] = Float(rng.nextGaussian()) * 0.05 }
        func read(_ range: Range<Int>, _ out: UnsafeMutablePointer<Float>) {
            for i in 0..<(range.count * columns) { out[i] = x[range.lowerBound * columns + i] }
        }
        let plain = NF4Matrix(rows: rows, columns: columns, doubleQuantize: false, readRows: read)
        let dq = NF4Matrix(rows: rows, columns: columns, doubleQuantize: true, readRows: read)
        XCTAssertEqual(dq.weightMatrix(name: "w").formatName, "NF4-DQ")
        XCTAssertLessThan(dq.byteCount, plain.byteCount)
        var a = [Float](repeating: 0, count: x.count), b = a
        plain.dequantize(start: 0, count: x.count, into: &a)
        dq.dequantize(start: 0, count: x.count, into: &b)
        let scales = dq.doubleQuantized!.scales
        for i in x.indices {
            // |code| ≤ 1, so a weight moves by at most its block's absmax error.
            XCTAssertLessThanOrEqual(abs(a[i] - b[i]), scales[i / 64 / 256] / 64 + 1e-6)
        }
    }
}
