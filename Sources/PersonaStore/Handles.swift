/// How a person is reached: normalized so that one person seen in several exports
/// (a phone written three ways, an email in capitals) is recognised as one.
public enum HandleKind: String, Sendable {
    case phone, email, name, other
}

public struct Handle: Hashable, Sendable {
    public var kind: HandleKind
    /// Normalized: E.164 for phones, lower case for emails and names.
    public var value: String

    public init(kind: HandleKind, value: String) { self.kind = kind; self.value = value }

    /// Classifies and normalizes a raw sender id or address: an email, a phone number,
    /// or something else (a short code, a Telegram id) kept as written.
    public static func parse(_ raw: String, defaultCountry: String) -> Handle? {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines.union(HandleNormalizer.invisibleMarks))
        guard !trimmed.isEmpty else { return nil }
        if trimmed.contains("@"), !trimmed.contains(" ") {
            return Handle(kind: .email, value: trimmed.lowercased())
        }
        if let phone = HandleNormalizer.e164(trimmed, defaultCountry: defaultCountry) {
            return Handle(kind: .phone, value: phone)
        }
        return Handle(kind: .other, value: trimmed.lowercased())
    }

    /// A display name as a handle (so that "Alice Martin" in two exports is one person).
    public static func name(_ raw: String) -> Handle? {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines.union(HandleNormalizer.invisibleMarks))
        guard !trimmed.isEmpty else { return nil }
        return Handle(kind: .name, value: trimmed.lowercased())
    }
}

import Foundation

public enum HandleNormalizer {
    /// Direction marks and no-break spaces that exports put around names and numbers.
    static let invisibleMarks = CharacterSet(charactersIn: "\u{200E}\u{200F}\u{202A}\u{202B}\u{202C}\u{202D}\u{202E}\u{2066}\u{2067}\u{2068}\u{2069}\u{00A0}\u{202F}\u{FEFF}")

    /// Country calling codes and whether the national number starts with a trunk 0.
    /// Covers the countries whose exports we expect; others need numbers written with +.
    static let callingCodes: [String: (code: String, trunkZero: Bool)] = [
        "US": ("1", false), "CA": ("1", false), "GB": ("44", true), "UK": ("44", true), "IE": ("353", true),
        "DE": ("49", true), "FR": ("33", true), "ES": ("34", false), "IT": ("39", false), "PT": ("351", false),
        "NL": ("31", true), "BE": ("32", true), "LU": ("352", false), "CH": ("41", true), "AT": ("43", true),
        "DK": ("45", false), "SE": ("46", true), "NO": ("47", false), "FI": ("358", true), "IS": ("354", false),
        "PL": ("48", false), "CZ": ("420", false), "SK": ("421", true), "HU": ("36", false), "GR": ("30", false),
        "RO": ("40", true), "BG": ("359", true), "HR": ("385", true), "SI": ("386", true), "UA": ("380", true),
        "TR": ("90", true), "IL": ("972", true), "RU": ("7", false), "IN": ("91", true), "PK": ("92", true),
        "CN": ("86", true), "JP": ("81", true), "KR": ("82", true), "SG": ("65", false), "HK": ("852", false),
        "AU": ("61", true), "NZ": ("64", true), "ZA": ("27", true), "NG": ("234", true), "KE": ("254", true),
        "EG": ("20", true), "BR": ("55", true), "MX": ("52", false), "AR": ("54", true), "CL": ("56", false),
        "CO": ("57", false), "PE": ("51", true), "PH": ("63", true), "ID": ("62", true), "MY": ("60", true),
        "TH": ("66", true), "VN": ("84", true), "AE": ("971", true), "SA": ("966", true),
    ]

    public static func isKnownCountry(_ code: String) -> Bool { callingCodes[code.uppercased()] != nil }

    /// E.164 (`+447700900123`) for something that looks like a phone number, else nil.
    /// National numbers take the default country's code (dropping a trunk 0 where the
    /// country uses one); `00` is read as the international prefix.
    public static func e164(_ raw: String, defaultCountry: String) -> String? {
        var digits = ""
        var plus = false
        for (i, scalar) in raw.unicodeScalars.enumerated() {
            switch scalar {
            case "0"..."9": digits.unicodeScalars.append(scalar)
            case "+" where i == 0 || digits.isEmpty && !plus: plus = true
            case " ", "-", ".", "(", ")", "/", "\u{00A0}", "\u{202F}", "\u{200E}", "\u{202A}", "\u{202C}": continue
            default: return nil
            }
        }
        guard digits.count >= 7, digits.count <= 15 + 2 else { return nil }
        if plus { return digits.count <= 15 ? "+" + digits : nil }
        if digits.hasPrefix("00") { let rest = digits.dropFirst(2); return rest.count >= 7 ? "+" + rest : nil }
        guard let country = callingCodes[defaultCountry.uppercased()] else { return nil }
        if country.code == "1" {
            if digits.count == 10 { return "+1" + digits }
            if digits.count == 11, digits.hasPrefix("1") { return "+" + digits }
            return nil
        }
        if country.trunkZero, digits.hasPrefix("0") { return "+" + country.code + digits.dropFirst() }
        if digits.hasPrefix(country.code), digits.count > 9 { return "+" + digits }
        return "+" + country.code + digits
    }
}
