import Foundation

/// Whose messages the loss counts.
public enum ImitationTarget: String, Codable, CaseIterable, Sendable {
    /// The workspace owner's messages only.
    case me
    /// The other person's messages only.
    case them
    /// Every message token (never the prompt header).
    case both
}

/// How chunks are divided into train and test.
public enum SplitMethod: String, Codable, CaseIterable, Sendable {
    /// The last `testFraction` of each conversation's messages is test: later messages
    /// never leak into training.
    case time
    /// Chunks are drawn into test at random with the seed.
    case random
}

/// Which split a chunk belongs to.
public enum DatasetSplit: String, Codable, CaseIterable, Sendable {
    case train
    case test
}

/// Everything that decides a dataset's contents. Two builds with equal parameters (and
/// the same messages and tokenizer) give the same chunks, byte for byte.
public struct DatasetParameters: Codable, Equatable, Sendable {
    public var format: ChunkFormatName = .donner
    /// The user template, for `format = .template` (placeholders `{me}`, `{them}`, `{date}`,
    /// `{relationship}`, `{messages}`).
    public var template: String? = nil
    /// Largest chunk, in tokens of the given tokenizer, prompt and formatting included.
    public var maxTokens: Int = 200
    /// A silence longer than this starts a new session of the conversation.
    public var sessionGapSeconds: Double = 4 * 3600
    /// Whether one chunk may run across a session boundary.
    public var spanSessions: Bool = false
    public var imitate: ImitationTarget = .both
    public var split: SplitMethod = .time
    public var testFraction: Double = 0.1
    /// Seed of the random split.
    public var seed: UInt64 = 42
    /// The last `overlap` messages of a chunk open the next one (context, never across a split).
    public var overlap: Int = 0
    /// Consecutive messages of one sender become one turn, joined by `mergeSeparator`.
    public var merge: Bool = false
    public var mergeSeparator: String = "\n"
    /// Keep tapbacks as text (`Liked “…”`, as iMazing writes them).
    public var reactions: Bool = false
    /// Keep media placeholders (`<Media omitted>`) as text.
    public var media: Bool = false
    /// Conversations with fewer messages are left out.
    public var minMessages: Int = 1000
    /// Relationship of each contact to the owner, by the contact's display name
    /// ("Alice" → "his sister"), for the chat system prompt and `{relationship}`.
    public var relationships: [String: String] = [:]
    /// Role markup of the chat format (the model's chat template family).
    public var chatMarkup: ChatMarkupName = .chatML
    /// The tokenizer's source (a model path), recorded so a rebuild can be compared.
    public var tokenizerSource: String = ""

    public init() {}

    /// Checks ranges and consistency; throws the first problem found.
    public func validate() throws {
        guard (8...1_000_000).contains(maxTokens) else {
            throw DataError.badParameter(name: "max_tokens", value: String(maxTokens), expected: "8 to 1000000")
        }
        guard sessionGapSeconds.isFinite, sessionGapSeconds > 0 else {
            throw DataError.badParameter(name: "gap", value: String(sessionGapSeconds), expected: "a positive duration such as 4h or 30m")
        }
        guard testFraction.isFinite, testFraction >= 0, testFraction < 1 else {
            throw DataError.badParameter(name: "test_fraction", value: String(testFraction), expected: "a fraction in [0, 1)")
        }
        guard (0...1000).contains(overlap) else {
            throw DataError.badParameter(name: "overlap", value: String(overlap), expected: "0 to 1000 messages")
        }
        guard minMessages >= 0 else {
            throw DataError.badParameter(name: "min_messages", value: String(minMessages), expected: "a non-negative count")
        }
        if format == .template {
            guard let template else {
                throw DataError.badParameter(name: "template", value: "(none)", expected: "a template text when format=template")
            }
            _ = try UserTemplate(template)
        }
    }

    /// Canonical JSON (sorted keys): stored with the dataset and compared on rebuild.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self), let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }

    public static func fromJSON(_ text: String) throws -> DatasetParameters {
        do {
            return try JSONDecoder().decode(DatasetParameters.self, from: Data(text.utf8))
        } catch {
            throw DataError.corruptDataset(name: "?", reason: "parameters are not valid JSON (\(error))")
        }
    }

    /// Parses a duration such as `4h`, `30m`, `90s`, `1d` or a plain number of seconds.
    public static func parseDuration(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let last = trimmed.last else { return nil }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = units[last] {
            guard let value = Double(trimmed.dropLast()), value.isFinite, value > 0 else { return nil }
            return value * unit
        }
        guard let value = Double(trimmed), value.isFinite, value > 0 else { return nil }
        return value
    }
}
