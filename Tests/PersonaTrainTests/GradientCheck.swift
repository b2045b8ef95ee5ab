import Foundation
import PersonaCore
import PersonaTestSupport
import XCTest

/// Finite-difference check of an analytic gradient: `loss` is evaluated in Double at
/// input ± h for ~32 sampled coordinates and compared with `analytic` under
/// |a − fd| ≤ atol + rtol·|fd|. A failure names the tensor, the coordinate and both values.
func checkGradient(_ name: String, input: [Float], analytic: [Float], samples: Int = 32,
                   h: Double = 1e-4, atol: Double = 1e-4, rtol: Double = 2e-3,
                   rng: inout SeededGenerator, loss: ([Double]) -> Double,
                   file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(input.count, analytic.count, "\(name): gradient size", file: file, line: line)
    var x = input.map(Double.init)
    var indices = Array(0..<x.count)
    if x.count > samples {
        indices = (0..<samples).map { _ in Int(rng.next() % UInt64(x.count)) }
    }
    var fdValues: [Double] = [], analyticValues: [Double] = []
    for i in indices {
        let saved = x[i]
        x[i] = saved + h; let plus = loss(x)
        x[i] = saved - h; let minus = loss(x)
        x[i] = saved
        fdValues.append((plus - minus) / (2 * h))
        analyticValues.append(Double(analytic[i]))
    }
    let report = compare(analyticValues, fdValues, atol: atol, rtol: rtol)
    XCTAssertTrue(report.passed, "\(name): analytic vs finite differences: \(report) (sampled indices \(indices.prefix(5)))", file: file, line: line)
}

func randomFloats(_ count: Int, scale: Float = 1, rng: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in Float(rng.nextGaussian()) * scale }
}

func dot(_ a: [Double], _ b: [Float]) -> Double {
    var s = 0.0
    for i in 0..<a.count { s += a[i] * Double(b[i]) }
    return s
}
