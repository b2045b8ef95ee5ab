import Foundation

/// The result of comparing two float arrays with `|a − b| ≤ atol + rtol·|b|`.
public struct ToleranceReport: CustomStringConvertible {
    public var passed: Bool
    public var worstIndex: Int
    public var worstDifference: Double
    public var firstPairs: [(Double, Double)]
    public var count: Int

    public var description: String {
        let pairs = firstPairs.map { String(format: "(%.6g, %.6g)", $0.0, $0.1) }.joined(separator: " ")
        return "\(passed ? "within" : "OUT OF") tolerance over \(count) values; largest |diff| \(String(format: "%.3g", worstDifference)) at index \(worstIndex); first pairs: \(pairs)"
    }
}

/// Compares `actual` with `expected` element-wise; a failure names the largest difference,
/// where it occurred, and the first five pairs.
public func compare<A: BinaryFloatingPoint, B: BinaryFloatingPoint>(_ actual: [A], _ expected: [B], atol: Double, rtol: Double = 0) -> ToleranceReport {
    var passed = actual.count == expected.count
    var worst = 0.0, worstIndex = -1
    for i in 0..<min(actual.count, expected.count) {
        let a = Double(actual[i]), b = Double(expected[i])
        let d = abs(a - b)
        if !(d <= atol + rtol * abs(b)) { passed = false }
        if d > worst || d.isNaN { worst = d; worstIndex = i }
    }
    let pairs = (0..<min(5, min(actual.count, expected.count))).map { (Double(actual[$0]), Double(expected[$0])) }
    return ToleranceReport(passed: passed, worstIndex: worstIndex, worstDifference: worst, firstPairs: pairs, count: expected.count)
}
