import Foundation
import PersonaSample

/// One copied stretch: the generated (or held-out) message, what it copied and from where.
public struct CopyExample: Equatable, Sendable, Codable {
    public var message: String
    public var copied: String
    public var characters: Int
    public var sourceMessage: String
}

/// The share of messages that copy at least `minimumCharacters` characters in a row of a
/// real message, found with the suffix-array index of `RegurgitationFinder`.
public struct CopyShare: Equatable, Sendable, Codable {
    public var share: Double
    public var copies: Int
    public var messages: Int
    /// The longest copies first, at most `exampleLimit`.
    public var examples: [CopyExample]

    /// At least 40 characters counts as a copy (the bar: "at least 40").
    public static let defaultMinimum = 40

    public static func measure(_ texts: [String], against finder: RegurgitationFinder,
                               minimumCharacters: Int = defaultMinimum, exampleLimit: Int = 3) -> CopyShare {
        var found: [CopyExample] = []
        var messages = 0
        for text in texts where !text.isEmpty {
            messages += 1
            if let m = finder.longestCopy(in: text), m.characterCount >= minimumCharacters {
                found.append(CopyExample(message: text, copied: m.text, characters: m.characterCount, sourceMessage: m.messageText))
            }
        }
        let examples = found.enumerated().sorted { ($0.element.characters, -$0.offset) > ($1.element.characters, -$1.offset) }
            .prefix(exampleLimit).map(\.element)
        return CopyShare(share: messages == 0 ? 0 : Double(found.count) / Double(messages), copies: found.count,
                         messages: messages, examples: Array(examples))
    }
}

/// The share of conversations that end in a loop (`RepetitionScore`'s definition: one cycle
/// of words at least three times in a row at the end).
public enum LoopRate {
    public static func measure(_ transcripts: [String]) -> Double {
        guard !transcripts.isEmpty else { return 0 }
        return Double(transcripts.filter { RepetitionScore.measure($0).fellIntoLoop }.count) / Double(transcripts.count)
    }
}
