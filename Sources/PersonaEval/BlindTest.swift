import Foundation

/// A "real or generated?" test: held-out real snippets and generated ones in a seeded
/// random order (or in pairs, one of each, which is real?), scored on the answers.
public struct BlindTest: Equatable, Sendable, Codable {
    public struct Item: Equatable, Sendable, Codable {
        /// One snippet, or two side by side (pairs).
        public var snippets: [String]
        /// Single: whether the snippet is real. Pairs: the index (0 or 1) of the real one.
        public var realIndex: Int?
        public var isReal: Bool
    }

    public var pairs: Bool
    public var items: [Item]

    /// `count` questions. Single: half of them (rounded up) generated, the rest real.
    /// Pairs: `count` pairs. Snippets are drawn without repeats while they last.
    public init(real: [String], generated: [String], count: Int, pairs: Bool, rng: inout some RandomNumberGenerator) {
        func draw(_ pool: [String], _ n: Int) -> [String] {
            var p = pool
            var out: [String] = []
            while out.count < n && !pool.isEmpty {
                if p.isEmpty { p = pool }
                let j = Int(rng.next() % UInt64(p.count))
                out.append(p.remove(at: j))
            }
            return out
        }
        self.pairs = pairs
        var items: [Item] = []
        if pairs {
            let r = draw(real, count), g = draw(generated, count)
            for i in 0..<min(r.count, g.count) {
                let realFirst = rng.next() % 2 == 0
                items.append(Item(snippets: realFirst ? [r[i], g[i]] : [g[i], r[i]], realIndex: realFirst ? 0 : 1, isReal: false))
            }
        } else {
            let g = draw(generated, (count + 1) / 2), r = draw(real, count - g.count)
            items = g.map { Item(snippets: [$0], realIndex: nil, isReal: false) } + r.map { Item(snippets: [$0], realIndex: nil, isReal: true) }
            for i in stride(from: items.count - 1, to: 0, by: -1) {
                items.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
        }
        self.items = items
    }

    /// An answer: single mode "r"/"real" or "g"/"generated"; pairs "1" or "2" (the real one).
    /// Nil when the text is neither.
    public func parseAnswer(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if pairs {
            if t == "1" { return 0 }
            if t == "2" { return 1 }
            return nil
        }
        if ["r", "real"].contains(t) { return 1 }
        if ["g", "gen", "generated"].contains(t) { return 0 }
        return nil
    }

    public struct Score: Equatable, Sendable, Codable {
        /// Generated snippets the judge took for real, over the generated snippets shown.
        public var generatedJudgedReal: Double
        public var generatedShown: Int
        public var correct: Int
        public var answered: Int
    }

    /// Scores parsed answers (`parseAnswer`'s values, one per item answered, in order).
    public func score(_ answers: [Int]) -> Score {
        var fooled = 0, generatedShown = 0, correct = 0
        for (item, answer) in zip(items, answers) {
            if pairs {
                generatedShown += 1
                if answer == item.realIndex { correct += 1 } else { fooled += 1 }
            } else if item.isReal {
                if answer == 1 { correct += 1 }
            } else {
                generatedShown += 1
                if answer == 1 { fooled += 1 } else { correct += 1 }
            }
        }
        return Score(generatedJudgedReal: generatedShown == 0 ? 0 : Double(fooled) / Double(generatedShown),
                     generatedShown: generatedShown, correct: correct, answered: min(answers.count, items.count))
    }
}
