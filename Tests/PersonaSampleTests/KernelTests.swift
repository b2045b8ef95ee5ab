import XCTest
import PersonaCore
@testable import PersonaSample

final class KernelTests: XCTestCase {
    func testSimdExpMatchesLibm() {
        var worst: Float = 0
        // Logits reach exp shifted by their maximum, so the range that matters is [-87, 0];
        // the test goes to 80 to cover any use.
        var x: Float = -87
        while x < 80 {
            var lane = SIMD16<Float>(repeating: 0)
            for i in 0..<16 { lane[i] = x + Float(i) * 0.0007 }
            let e = SamplingKernels.exp(lane)
            for i in 0..<16 {
                let expected = Foundation.exp(Double(lane[i]))
                worst = max(worst, Float(abs(Double(e[i]) - expected) / expected))
            }
            x += 0.0137
        }
        // Tolerance: 4 ulp of Float relative error.
        XCTAssertLessThan(worst, 4.8e-7, "largest relative error \(worst)")
        let removed = SamplingKernels.exp(SIMD16(repeating: -.infinity))
        XCTAssertEqual(removed, SIMD16(repeating: 0))
    }

    func testReductionsMatchNaiveTwins() {
        var rng = SeededGenerator(seed: 3)
        for n in [1, 3, 17, 64, 1000, 49_152] {
            var x = (0..<n).map { _ in Float(rng.nextGaussian() * 4) }
            if n > 10 { x[5] = -.infinity }
            let m = x.withUnsafeBufferPointer { SamplingKernels.maximum($0) }
            XCTAssertEqual(m, NaiveSamplingKernels.maximum(x))
            let s = x.withUnsafeBufferPointer { SamplingKernels.sumExp($0, shift: m) }
            let expected = NaiveSamplingKernels.sumExp(x, shift: m)
            XCTAssertEqual(Double(s), expected, accuracy: 1e-5 * expected, "n=\(n)")
        }
    }

    func testTopSelectorMatchesSorting() {
        var rng = SeededGenerator(seed: 11)
        for n in [5, 33, 1000, 49_152] {
            // Coarse values so that ties occur; ties go to the lower id.
            var x = (0..<n).map { _ in Float(Int(rng.nextGaussian() * 3)) }
            x[0] = -.infinity
            let selector = TopSelector(capacity: 200)
            for m in [1, 7, 64, 200] {
                var ids = [Int32](repeating: -1, count: m)
                let count = x.withUnsafeBufferPointer { v in ids.withUnsafeMutableBufferPointer { selector.select(v, count: m, into: $0.baseAddress!) } }
                let expected = (0..<n).filter { x[$0] > -.infinity }
                    .sorted { x[$0] > x[$1] || (x[$0] == x[$1] && $0 < $1) }.prefix(m).map(Int32.init)
                XCTAssertEqual(Array(ids.prefix(count)), Array(expected), "n=\(n) m=\(m)")
            }
        }
    }

    func testSurvivorSortOrdersByValueThenId() {
        let values: [Float] = [1, 5, 5, -2, 3, 5, 0, 1]
        for n in [8] {
            var ids: [Int32] = Array((0..<Int32(n)).reversed())
            values.withUnsafeBufferPointer { v in ids.withUnsafeMutableBufferPointer { SurvivorSort.sortDescending($0, by: v) } }
            XCTAssertEqual(ids, [1, 2, 5, 4, 0, 7, 6, 3])
        }
        // The heap path (more than 24 ids).
        var rng = SeededGenerator(seed: 5)
        let many = (0..<300).map { _ in Float(Int(rng.nextGaussian() * 5)) }
        var ids = (0..<Int32(300)).map { $0 }
        many.withUnsafeBufferPointer { v in ids.withUnsafeMutableBufferPointer { SurvivorSort.sortDescending($0, by: v) } }
        let expected = (0..<300).sorted { many[$0] > many[$1] || (many[$0] == many[$1] && $0 < $1) }.map(Int32.init)
        XCTAssertEqual(ids, expected)
    }
}
