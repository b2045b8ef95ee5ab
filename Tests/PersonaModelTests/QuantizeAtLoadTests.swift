import Foundation
import XCTest
import PersonaCore
import PersonaTensor
import PersonaModel
import PersonaTestSupport

/// Quantizing a float base's projections at load: logits stay close to the float model's,
/// memory drops, and unsuitable weights are refused with one line.
final class QuantizeAtLoadTests: XCTestCase {
    static let config = LlamaConfig(vocabSize: 67, dModel: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, headDim: 16, dFF: 128,
                                    ropeTheta: 10_000, ropeDimensions: 16, rmsNormEps: 1e-5,
                                    contextLength: 64, tiedOutput: false)

    func weights(_ format: RandomWeightFormat = .f32, config: LlamaConfig = QuantizeAtLoadTests.config) -> LlamaWeights {
        var rng = SeededGenerator(seed: 21)
        return .random(config: config, format: format, scale: 0.1, using: &rng)
    }

    func logits(_ w: LlamaWeights, _ ids: [Int32]) throws -> [Float] {
        let m = try LlamaModel(config: Self.config, weights: w, threads: 2)
        return try m.forward(TokenBatch(ids), logits: .all).logits
    }

    /// Largest |a − b| over the largest |a|.
    func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        let scale = a.map { abs($0) }.max()!
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    func testQuantizedModelsGiveLogitsCloseToTheFloatModel() throws {
        let float = weights()
        var rng = SeededGenerator(seed: 4)
        let ids = (0..<12).map { _ in Int32(rng.next() % 67) }
        let reference = try logits(float, ids)
        // This small random model is touchy: its Q4_1 twin (every matrix, head included, 4-bit)
        // moves the logits by 0.32 of the largest logit and its Q8_0 twin by 0.023.
        let q4_1Error = relativeError(reference, try logits(weights(.q4_1), ids))
        // Measured (max |Δlogit| / max |logit|): NF4 0.349, NF4-DQ 0.350, Q8_0 0.0168.
        for (kind, tolerance) in [(LoadQuantization.nf4, Float(0.4)), (.nf4DoubleQuant, 0.4), (.q8_0, 0.025)] {
            let (q, report) = try float.quantizingProjections(kind, threads: 2)
            let r = try XCTUnwrap(report)
            let quantized = try logits(q, ids)
            let error = relativeError(reference, quantized)
            print("quantize=\(kind.rawValue): relative logit error \(error) (Q4_1 twin \(q4_1Error)); \(r.line)")
            XCTAssertLessThan(error, tolerance, kind.rawValue)
            if kind != .q8_0 { XCTAssertLessThan(error, q4_1Error * 1.25, kind.rawValue) }
            // The kernels read the quantized matrices exactly: a float model holding their
            // dequantized values gives the same logits up to summation order.
            var dequantized = q
            for l in dequantized.layers.indices {
                for p in Projection.allCases {
                    let m = q.layers[l].matrix(p)
                    let values = FloatBuffer(count: m.rows * m.columns)
                    m.dequantizeRows(0..<m.rows, into: values.pointer)
                    let f = WeightMatrix.f32(name: m.name, rows: m.rows, columns: m.columns, values: values)
                    switch p {
                    case .q: dequantized.layers[l].q = f
                    case .k: dequantized.layers[l].k = f
                    case .v: dequantized.layers[l].v = f
                    case .o: dequantized.layers[l].o = f
                    case .gate: dequantized.layers[l].gate = f
                    case .up: dequantized.layers[l].up = f
                    case .down: dequantized.layers[l].down = f
                    }
                }
            }
            XCTAssertLessThan(relativeError(try logits(dequantized, ids), quantized), 1e-5, kind.rawValue)
            XCTAssertGreaterThan(error, 0, kind.rawValue)
            XCTAssertEqual(r.matrices, 14)
            XCTAssertEqual(q.layers[1].down.formatName, kind.formatName)
            XCTAssertEqual(q.embedding.formatName, "F32", "the embedding stays as stored")
            XCTAssertEqual(q.output.formatName, "F32", "the head stays as stored")
            XCTAssertLessThan(r.quantizedBytes, r.sourceBytes / 3)
            XCTAssertEqual(r.totalBytesBefore, float.storedBytes)
            XCTAssertEqual(r.totalBytesBefore - r.totalBytesAfter, r.sourceBytes - r.quantizedBytes)
        }
        let (nf4, r4) = try float.quantizingProjections(.nf4)
        let (dq, rdq) = try float.quantizingProjections(.nf4DoubleQuant)
        XCTAssertEqual(r4!.bitsPerWeight, 4.5, accuracy: 1e-9)
        XCTAssertLessThan(rdq!.bitsPerWeight, 4.2)
        // Double quantization moves logits only slightly from plain NF4.
        XCTAssertLessThan(relativeError(try logits(nf4, ids), try logits(dq, ids)), 0.02)
        let (same, none) = try float.quantizingProjections(.none)
        XCTAssertNil(none)
        XCTAssertEqual(same.layers[0].q.formatName, "F32")
    }

    func testAlreadyQuantizedWeightsAreRefused() {
        for format in [RandomWeightFormat.q8_0, .q4_1] {
            XCTAssertThrowsError(try weights(format).quantizingProjections(.nf4)) { error in
                let text = describeError(error)
                XCTAssertTrue(text.contains("blk.0.attn_q.weight is already quantized"), text)
                XCTAssertTrue(text.contains("needs a float model"), text)
            }
        }
    }

    func testRowsThatAreNotWholeBlocksAreRefused() throws {
        var c = Self.config
        c.dFF = 96  // ffn_down has rows of 96: whole Q8_0 blocks, not whole NF4 blocks
        let w = weights(config: c)
        XCTAssertThrowsError(try w.quantizingProjections(.nf4)) { error in
            XCTAssertEqual(describeError(error), "tensor blk.0.ffn_down.weight: expected rows of whole NF4 blocks of 64 weights, found rows of 96")
        }
        XCTAssertNoThrow(try w.quantizingProjections(.q8_0))
    }

    func testNonFiniteWeightsAreRefused() throws {
        let w = weights()
        let values = FloatBuffer(count: w.layers[1].up.rows * w.layers[1].up.columns)
        w.layers[1].up.dequantizeRows(0..<w.layers[1].up.rows, into: values.pointer)
        values.pointer[3 * 64 + 5] = .nan
        var broken = w
        broken.layers[1].up = .f32(name: "blk.1.ffn_up.weight", rows: w.layers[1].up.rows, columns: 64, values: values)
        for kind in [LoadQuantization.nf4, .q8_0] {
            XCTAssertThrowsError(try broken.quantizingProjections(kind, threads: 2)) { error in
                XCTAssertEqual(describeError(error), "tensor blk.1.ffn_up.weight: expected finite weights to quantize, found nan in row 3")
            }
        }
    }
}
