import Foundation

/// What an evaluation was asked: enough to say what the numbers are of, and to run it again.
public struct EvalSettings: Equatable, Sendable, Codable {
    public var adapter: String
    public var dataset: String
    public var model: String
    public var sampler: String
    /// The sampler's changed settings (`temperature=0.8 top_p=0.95`).
    public var samplerSettings: String
    public var conversations: Int
    public var turns: Int
    public var seed: UInt64
    public var people: [String]

    public init(adapter: String, dataset: String, model: String, sampler: String, samplerSettings: String,
                conversations: Int, turns: Int, seed: UInt64, people: [String]) {
        self.adapter = adapter; self.dataset = dataset; self.model = model; self.sampler = sampler
        self.samplerSettings = samplerSettings; self.conversations = conversations; self.turns = turns
        self.seed = seed; self.people = people
    }
}

/// A conversation the model wrote for an evaluation: `person` is the one being judged.
public struct GeneratedConversation: Equatable, Sendable, Codable {
    public struct Turn: Equatable, Sendable, Codable {
        public var speaker: String
        public var text: String
        public init(speaker: String, text: String) { self.speaker = speaker; self.text = text }
    }
    public var person: String
    public var partner: String
    public var turns: [Turn]

    public init(person: String, partner: String, turns: [Turn]) { self.person = person; self.partner = partner; self.turns = turns }

    public var personTexts: [String] { turns.filter { $0.speaker == person }.map(\.text) }
    public var transcript: String { turns.map { "\($0.speaker): \($0.text)" }.joined(separator: "\n") }
}

/// Everything `eval` measured for one imitable person.
public struct PersonEvaluation: Equatable, Sendable, Codable {
    public var person: String
    public var partners: [String]
    /// Mean loss on the held-out chunks of the person's conversations (nil when there are none).
    public var baseLoss: Double?
    public var adapterLoss: Double?
    public var attribution: AttributionScore
    /// The same classifier on the person's held-out real messages, cut to the same size.
    public var ceiling: AttributionScore
    public var style: StyleProfile
    /// The person's real messages (both splits).
    public var realStyle: StyleProfile
    public var distinct1: Double
    public var distinct2: Double
    /// Real text of the person cut to the generated word count.
    public var realDistinct1: Double
    public var realDistinct2: Double
    public var loopRate: Double
    public var copies: CopyShare
    /// The person's held-out real messages against the training split: their own baseline.
    public var baselineCopies: CopyShare

    public init(person: String, partners: [String], baseLoss: Double?, adapterLoss: Double?, attribution: AttributionScore,
                ceiling: AttributionScore, style: StyleProfile, realStyle: StyleProfile, distinct1: Double, distinct2: Double,
                realDistinct1: Double, realDistinct2: Double, loopRate: Double, copies: CopyShare, baselineCopies: CopyShare) {
        self.person = person; self.partners = partners; self.baseLoss = baseLoss; self.adapterLoss = adapterLoss
        self.attribution = attribution; self.ceiling = ceiling; self.style = style; self.realStyle = realStyle
        self.distinct1 = distinct1; self.distinct2 = distinct2; self.realDistinct1 = realDistinct1; self.realDistinct2 = realDistinct2
        self.loopRate = loopRate; self.copies = copies; self.baselineCopies = baselineCopies
    }

    /// Points (of 100) by which per-conversation attribution may exceed the ceiling before
    /// it reads as a caricature rather than a success.
    public static let caricatureMargin = 0.10

    /// Only where there was a ceiling to measure (held-out messages of the person).
    public var looksLikeCaricature: Bool {
        ceiling.messages > 0 && attribution.messages > 0 && (attribution.perConversation > ceiling.perConversation + PersonEvaluation.caricatureMargin
            || attribution.perMessage > ceiling.perMessage + PersonEvaluation.caricatureMargin)
    }
}

/// One stored evaluation: its settings, per-person results and the conversations it judged.
public struct EvalReport: Equatable, Sendable, Codable {
    public var settings: EvalSettings
    public var persons: [PersonEvaluation]
    public var conversations: [GeneratedConversation]
    /// Seconds per part (generation, loss, classifier, …); not part of what a seed decides.
    public var timings: [String: Double]

    public init(settings: EvalSettings, persons: [PersonEvaluation], conversations: [GeneratedConversation], timings: [String: Double]) {
        self.settings = settings; self.persons = persons; self.conversations = conversations; self.timings = timings
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public static func fromJSON(_ text: String) throws -> EvalReport {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(EvalReport.self, from: Data(text.utf8))
    }

    /// The report without its timings, for comparing two runs of the same seed.
    public var withoutTimings: EvalReport { var r = self; r.timings = [:]; return r }
}
