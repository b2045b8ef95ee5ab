import Foundation

/// Who wrote a message? A multinomial naive Bayes classifier over character 1–4-grams and
/// lower-cased words, trained on each speaker's real messages. It is the yardstick of
/// `eval`: a generated turn that it attributes to the intended speaker reads like them.
///
/// Features are hashed to 64 bits (FNV-1a over Unicode scalars), so a model is a few
/// dictionaries of counts. Priors are uniform: the question is "whose style is this", and a
/// speaker who simply wrote more must not win ties. Smoothing is Lidstone's (add `smoothing`
/// to every count), with the vocabulary of every feature seen in training; features never
/// seen in training carry no evidence and are skipped.
public struct SpeakerClassifier: Sendable {
    public let speakers: [String]
    public let smoothing: Double
    /// [speakers] feature → count
    let counts: [[UInt64: Double]]
    /// [speakers] log of (total count + smoothing × vocabulary)
    let logDenominators: [Double]
    let vocabulary: Set<UInt64>

    /// `training`: each speaker's messages. Speakers with no message are left out.
    public init(training: [String: [String]], smoothing: Double = 0.1) {
        let names = training.keys.filter { !(training[$0] ?? []).isEmpty }.sorted()
        var counts: [[UInt64: Double]] = []
        var vocabulary = Set<UInt64>()
        for name in names {
            var c: [UInt64: Double] = [:]
            for message in training[name] ?? [] {
                SpeakerClassifier.forEachFeature(message) { c[$0, default: 0] += 1 }
            }
            vocabulary.formUnion(c.keys)
            counts.append(c)
        }
        let v = Double(vocabulary.count)
        speakers = names
        self.smoothing = smoothing
        self.counts = counts
        self.vocabulary = vocabulary
        logDenominators = counts.map { Foundation.log($0.values.reduce(0, +) + smoothing * v) }
    }

    public func index(of speaker: String) -> Int? { speakers.firstIndex(of: speaker) }

    /// log P(text | speaker) for every speaker, up to a constant shared by all of them.
    public func logLikelihoods(_ text: String) -> [Double] {
        var features: [UInt64: Double] = [:]
        SpeakerClassifier.forEachFeature(text) { if vocabulary.contains($0) { features[$0, default: 0] += 1 } }
        return counts.indices.map { s in
            var total = 0.0
            for (feature, n) in features {
                total += n * (Foundation.log((counts[s][feature] ?? 0) + smoothing) - logDenominators[s])
            }
            return total
        }
    }

    /// The speaker among `candidates` (indices; all speakers when nil) with the highest
    /// summed log-likelihood over `texts`: one message, or all of one speaker's turns of a
    /// conversation. Ties go to the first candidate in `speakers` order.
    public func attribute(_ texts: [String], among candidates: [Int]? = nil) -> Int? {
        guard !speakers.isEmpty else { return nil }
        var sums = [Double](repeating: 0, count: speakers.count)
        for t in texts {
            for (i, l) in logLikelihoods(t).enumerated() { sums[i] += l }
        }
        return SpeakerClassifier.best(sums, among: candidates ?? Array(speakers.indices))
    }

    static func best(_ scores: [Double], among candidates: [Int]) -> Int? {
        var best: Int?
        for c in candidates.sorted() where c >= 0 && c < scores.count {
            if best == nil || scores[c] > scores[best!] { best = c }
        }
        return best
    }

    /// Character 1–4-grams of the text with a space at each end (so that beginnings and ends
    /// of messages are features), and its lower-cased words.
    static func forEachFeature(_ text: String, _ body: (UInt64) -> Void) {
        let scalars = [UInt32(32)] + text.unicodeScalars.map(\.value) + [32]
        for n in 1...4 where scalars.count >= n {
            for start in 0...(scalars.count - n) {
                var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(n)
                for k in start..<(start + n) { h = (h ^ UInt64(scalars[k])) &* 0x0000_0100_0000_01B3 }
                body(h)
            }
        }
        for word in text.lowercased().split(whereSeparator: { $0.isWhitespace }) {
            var h: UInt64 = 0x84222325cbf29ce4
            for s in word.unicodeScalars { h = (h ^ UInt64(s.value)) &* 0x0000_0100_0000_01B3 }
            body(h ^ 0x5757_5757)
        }
    }
}
