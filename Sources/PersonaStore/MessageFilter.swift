import Foundation

/// Which conversations and messages a dataset (or `messages`) sees. Filters are views:
/// nothing in the store is deleted. The defaults are the reference project's choices:
/// one-to-one chats with people in the contacts, with at least 1,000 messages, text only.
public struct MessageFilter: Equatable, Sendable {
    /// Leave out group chats.
    public var excludeGroups: Bool
    /// Leave out people not in the contacts (seen only as a number, never named).
    public var contactsOnly: Bool
    /// Leave out people with fewer text messages than this in one-to-one chats (both directions).
    public var minMessages: Int
    /// Only messages sent at or after this time.
    public var since: Date?
    /// Only messages sent before this time.
    public var until: Date?
    public var includeSystem: Bool
    public var includeReactions: Bool
    public var includeMedia: Bool
    /// Replace phone numbers, emails, URLs and card-like numbers in text with placeholders.
    public var redact: Bool
    /// Only conversations with this person (name, #id or handle).
    public var person: String?

    public init(excludeGroups: Bool = true, contactsOnly: Bool = true, minMessages: Int = 1000,
                since: Date? = nil, until: Date? = nil,
                includeSystem: Bool = false, includeReactions: Bool = false, includeMedia: Bool = false,
                redact: Bool = false, person: String? = nil) {
        self.excludeGroups = excludeGroups; self.contactsOnly = contactsOnly; self.minMessages = minMessages
        self.since = since; self.until = until
        self.includeSystem = includeSystem; self.includeReactions = includeReactions; self.includeMedia = includeMedia
        self.redact = redact; self.person = person
    }

    /// Everything in the store: groups, strangers, rare contacts and every kind.
    public static let everything = MessageFilter(excludeGroups: false, contactsOnly: false, minMessages: 0,
                                                 includeSystem: true, includeReactions: true, includeMedia: true)

    var kinds: [MessageKind] {
        var k: [MessageKind] = [.text]
        if includeMedia { k.append(.media) }
        if includeSystem { k.append(.system) }
        if includeReactions { k.append(.reaction) }
        return k
    }
}

/// Replaces personal numbers and addresses in message text with placeholders. A cheap
/// byte scan decides whether a message needs the regular expressions at all: most do not.
public enum Redactor {
    private static let patterns: [(NSRegularExpression, String)] = {
        let specs: [(String, String)] = [
            (#"(?i)\b(?:https?://|www\.)[^\s<>"]+"#, "[url]"),
            (#"(?i)[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}"#, "[email]"),
            (#"\b(?:\d[ -]?){12,18}\d\b"#, "[card]"),
            // Dates (2024-01-15, 15.01.2024, 1/15/24) look like phone numbers to the last pattern.
            (#"(?:\+|\b)(?!\d{4}-\d{1,2}-\d{1,2}\b)(?!\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b)\d(?:[\s.()-]{0,2}\d){6,14}\b"#, "[phone]"),
        ]
        return specs.compactMap { spec in (try? NSRegularExpression(pattern: spec.0)).map { ($0, spec.1) } }
    }()

    public static func redact(_ text: String) -> String {
        var digits = 0, maxDigits = 0
        var suspicious = false
        for b in text.utf8 {
            if b >= 0x30 && b <= 0x39 { digits += 1; maxDigits = max(maxDigits, digits) }
            else if b == 0x20 || b == 0x2D || b == 0x2E || b == 0x28 || b == 0x29 { continue }
            else { digits = 0 }
            if b == 0x40 || b == 0x2F { suspicious = true }
        }
        if maxDigits < 7 && !suspicious && !text.contains("www.") { return text }
        var out = text
        for (regex, replacement) in patterns {
            out = regex.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: replacement)
        }
        return out
    }
}
