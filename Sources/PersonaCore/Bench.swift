import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One measured figure of a benchmark: `value` is the median of `runs` measurements.
public struct BenchResult: Equatable, Sendable {
    public var name: String
    public var value: Double
    public var unit: String
    public var runs: Int
    public var min: Double
    public var max: Double

    public init(name: String, value: Double, unit: String, runs: Int, min: Double, max: Double) {
        self.name = name; self.value = value; self.unit = unit; self.runs = runs; self.min = min; self.max = max
    }

    /// Summarises repeated measurements of one quantity.
    public init(name: String, unit: String, samples: [Double]) {
        let sorted = samples.sorted()
        let median: Double
        if sorted.isEmpty { median = .nan }
        else if sorted.count % 2 == 1 { median = sorted[sorted.count / 2] }
        else { median = (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2 }
        self.init(name: name, value: median, unit: unit, runs: samples.count,
                  min: sorted.first ?? .nan, max: sorted.last ?? .nan)
    }
}

/// A benchmark's report: printed as a table, or as one JSON object with `--json`:
/// `{"bench": NAME, "results": [{"name", "value", "unit", "runs", "min", "max"}], …}`, where
/// `machine`'s pairs (the CPU, the vector path, the threads) follow as extra top-level keys.
public struct BenchReport: Sendable {
    public var bench: String
    public var results: [BenchResult]
    /// Free-form lines printed under the table (kernel, peer versions); not in JSON.
    public var notes: [String]
    /// Where the figures were measured, as ordered key/value pairs: a line under the table
    /// and top-level keys of the JSON.
    public var machine: [(key: String, value: String)] = []

    public init(bench: String, results: [BenchResult] = [], notes: [String] = []) {
        self.bench = bench; self.results = results; self.notes = notes
    }

    public func json() -> String {
        func number(_ x: Double) -> String {
            guard x.isFinite else { return "null" }
            if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
            return String(format: "%.6g", x)
        }
        let items = results.map { r in
            "{\"name\": \(jsonString(r.name)), \"value\": \(number(r.value)), \"unit\": \(jsonString(r.unit)), \"runs\": \(r.runs), \"min\": \(number(r.min)), \"max\": \(number(r.max))}"
        }
        let extra = machine.map { ", \(jsonString($0.key)): \(jsonString($0.value))" }.joined()
        return "{\"bench\": \(jsonString(bench)), \"results\": [\(items.joined(separator: ", "))]\(extra)}"
    }

    public func table() -> String {
        func fmt(_ x: Double) -> String {
            guard x.isFinite else { return "-" }
            if abs(x) >= 100 { return String(format: "%.1f", x) }
            if abs(x) >= 1 { return String(format: "%.3f", x) }
            return String(format: "%.4g", x)
        }
        var rows: [[String]] = [["result", "median", "unit", "runs", "min", "max"]]
        for r in results { rows.append([r.name, fmt(r.value), r.unit, String(r.runs), fmt(r.min), fmt(r.max)]) }
        var lines = ["bench \(bench)"]
        lines.append(contentsOf: TextTable.render(rows, rightAligned: [1, 3, 4, 5]))
        lines.append(contentsOf: notes)
        if !machine.isEmpty { lines.append("measured on: " + machine.map { "\($0.key) \($0.value)" }.joined(separator: ", ")) }
        return lines.joined(separator: "\n")
    }
}

/// Times `body` `runs` times (after `warmup` untimed runs) and returns seconds per run.
public func measureSeconds(runs: Int, warmup: Int = 0, _ body: () throws -> Void) rethrows -> [Double] {
    for _ in 0..<warmup { try body() }
    var samples: [Double] = []
    for _ in 0..<runs {
        let start = monotonicSeconds()
        try body()
        samples.append(monotonicSeconds() - start)
    }
    return samples
}

public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Peak resident memory of this process in MB (VmHWM), or nil where /proc is missing.
public func peakResidentMB() -> Double? { procStatusKB("VmHWM:").map { $0 / 1024 } }

/// Current resident memory of this process in MB (VmRSS).
public func residentMB() -> Double? { procStatusKB("VmRSS:").map { $0 / 1024 } }

private func procStatusKB(_ key: String) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(key) {
        let digits = line.dropFirst(key.count).trimmingCharacters(in: .whitespaces).split(separator: " ").first
        return digits.flatMap { Double($0) }
    }
    return nil
}
