/// Named sets of things people do not want their persona to imitate.
public enum SuppressionSet: String, CaseIterable, Sendable {
    /// Web addresses: the scheme, "www." and the common endings.
    case urls
    /// Runs of nine or more digits with separators between them.
    case phoneNumbers = "phone numbers"
    /// Tapback reactions as iMessage exports write them (`Liked “…”`, `Laughed at “…”`).
    case reactions

    /// Accepts "phone numbers", "phone_numbers", "phones".
    public init?(name: String) {
        switch name.lowercased().trimmingCharacters(in: .whitespaces) {
        case "urls", "url", "links": self = .urls
        case "phone numbers", "phone_numbers", "phone-numbers", "phones", "phone": self = .phoneNumbers
        case "reactions", "tapbacks": self = .reactions
        default: return nil
        }
    }

    /// The strings of the set (case-insensitive for ASCII letters).
    public var strings: [String] {
        switch self {
        case .urls:
            return ["http:", "https:", "://", "www.", ".com/", ".co.uk", ".org/", ".net/", ".ly/"]
        case .phoneNumbers:
            return []
        case .reactions:
            let verbs = ["Liked", "Loved", "Disliked", "Laughed at", "Emphasized", "Emphasised", "Questioned"]
            var out: [String] = []
            for v in verbs { out.append(v + " “"); out.append(v + " \"") }
            for what in ["a like", "a heart", "a dislike", "a laugh", "an exclamation", "a question mark", "an emphasis"] {
                out.append("Removed \(what) from")
            }
            return out
        }
    }

    public var automata: [ByteAutomaton] {
        switch self {
        case .phoneNumbers: return [DigitRuns()]
        default: return [BannedStrings(strings)]
        }
    }
}

import Foundation
