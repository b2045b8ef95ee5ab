import Foundation

/// What a sweep ranks its points by.
public enum SweepMetric: String, CaseIterable, Sendable, Codable {
    case attribution, loss

    public var lowerIsBetter: Bool { self == .loss }
}

public enum EvalError: Error, Equatable, CustomStringConvertible {
    case badSweepSpace(String)

    public var description: String {
        switch self {
        case .badSweepSpace(let reason): return reason
        }
    }
}

/// The parameters a sweep varies and their values: `"lr=1e-4,3e-4 rank=8,16 steps=200,400"`.
public struct SweepSpace: Equatable, Sendable, Codable {
    /// The keys a point may set, with what each value must be.
    public static let keys: [(name: String, integer: Bool, help: String)] = [
        ("lr", false, "peak learning rate"),
        ("rank", true, "LoRA rank"),
        ("alpha", false, "LoRA alpha"),
        ("steps", true, "optimizer steps"),
        ("batch", true, "chunks per micro-batch"),
    ]

    public var parameters: [(name: String, values: [String])] {
        zip(names, values).map { ($0, $1) }
    }
    public var names: [String]
    public var values: [[String]]

    public init(parsing text: String) throws {
        var names: [String] = [], values: [[String]] = []
        for word in text.split(whereSeparator: { $0.isWhitespace }) {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else {
                throw EvalError.badSweepSpace("'\(word)' is not KEY=V1,V2,…")
            }
            guard let key = SweepSpace.keys.first(where: { $0.name == parts[0] }) else {
                throw EvalError.badSweepSpace("unknown parameter '\(parts[0])'; expected one of " + SweepSpace.keys.map(\.name).joined(separator: ", "))
            }
            guard !names.contains(key.name) else { throw EvalError.badSweepSpace("'\(key.name)' is given twice") }
            let list = parts[1].split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            for v in list {
                let ok = key.integer ? (Int(v).map { $0 > 0 } ?? false) : (Double(v).map { $0 > 0 && $0.isFinite } ?? false)
                guard ok else {
                    throw EvalError.badSweepSpace("\(key.name)=\(v) is not valid; expected \(key.integer ? "a positive integer" : "a positive number")")
                }
            }
            names.append(key.name)
            values.append(list)
        }
        guard !names.isEmpty else { throw EvalError.badSweepSpace("no parameters; give e.g. \"lr=1e-4,3e-4 rank=8,16\"") }
        self.names = names; self.values = values
    }

    public static func == (a: SweepSpace, b: SweepSpace) -> Bool { a.names == b.names && a.values == b.values }

    /// Every combination, the first parameter varying slowest.
    public var grid: [[String: String]] {
        var points: [[String: String]] = [[:]]
        for (name, list) in zip(names, values) {
            points = points.flatMap { p in list.map { v in var q = p; q[name] = v; return q } }
        }
        return points
    }

    /// `count` distinct grid points drawn with `rng` (all of them, in grid order, when the
    /// grid is not larger), kept in grid order.
    public func randomPoints(_ count: Int, rng: inout some RandomNumberGenerator) -> [[String: String]] {
        let all = grid
        guard count < all.count else { return all }
        var indices = Array(all.indices)
        for i in 0..<count {
            let j = i + Int(rng.next() % UInt64(indices.count - i))
            indices.swapAt(i, j)
        }
        return indices.prefix(count).sorted().map { all[$0] }
    }

    /// `lr=1e-4 rank=8`, in the space's order.
    public func describe(_ point: [String: String]) -> String {
        names.compactMap { n in point[n].map { "\(n)=\($0)" } }.joined(separator: " ")
    }

    public static func parse(point text: String) -> [String: String] {
        var out: [String: String] = [:]
        for word in text.split(separator: " ") {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { out[parts[0]] = parts[1] }
        }
        return out
    }
}

/// Successive halving (Jamieson & Talwalkar 2016): every point gets a small share of its
/// steps, the better half goes on to twice as many, and so on, so hopeless points stop early.
public enum SuccessiveHalving {
    /// Fractions of a point's steps at which it is judged: 1/4, 1/2, then all (fewer rungs
    /// when there are too few points to halve).
    public static func rungs(points: Int) -> [Double] {
        if points >= 4 { return [0.25, 0.5, 1] }
        if points >= 2 { return [0.5, 1] }
        return [1]
    }

    /// The indices that go on: the better half (rounded up) by score, ties to the earlier
    /// point; a point without a score (it failed) never goes on.
    public static func survivors(_ scores: [Int: Double], lowerIsBetter: Bool) -> [Int] {
        let ranked = scores.filter { $0.value.isFinite }.sorted { a, b in
            if a.value != b.value { return lowerIsBetter ? a.value < b.value : a.value > b.value }
            return a.key < b.key
        }
        let keep = (scores.count + 1) / 2
        return ranked.prefix(keep).map(\.key).sorted()
    }
}

/// The mean score of the points with each value of each parameter: which values helped.
public enum MarginalMeans {
    public static func table(space: SweepSpace, points: [(point: [String: String], score: Double)]) -> [[String]] {
        var rows = [["parameter", "value", "points", "mean"]]
        for (name, list) in zip(space.names, space.values) {
            for v in list {
                let scores = points.filter { $0.point[name] == v }.map(\.score).filter(\.isFinite)
                rows.append([name, v, String(scores.count),
                             scores.isEmpty ? "-" : String(format: "%.4f", scores.reduce(0, +) / Double(scores.count))])
            }
        }
        return rows
    }
}
