/// Token text made visible for tables and maps: whitespace and control characters would
/// otherwise vanish or break the layout, and a token's leading space is often the point.
public enum TokenLabel {
    /// `" the"` → `"·the"`, `"\n"` → `"↵"`, tab → `"→"`, other controls → `"\u{7}"` style.
    public static func visible(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case " ": out += "·"
            case "\n": out += "↵"
            case "\r": out += "␍"
            case "\t": out += "→"
            case let c where c.value < 0x20 || c.value == 0x7F || (0x80..<0xA0).contains(c.value):
                out += "\\u{" + String(c.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out.isEmpty ? "∅" : out
    }

    /// `visible`, cut to `width` scalars with `…` marking the cut.
    public static func visible(_ text: String, width: Int) -> String {
        fit(visible(text), width: width)
    }

    /// Cuts `text` to at most `width` Unicode scalars, ending in `…` when it was cut.
    public static func fit(_ text: String, width: Int) -> String {
        let scalars = Array(text.unicodeScalars)
        guard width > 0 else { return "" }
        guard scalars.count > width else { return text }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars.prefix(width - 1))
        out.append("…")
        return String(out)
    }

    /// `text` padded with spaces to `width` scalars (left-aligned, or right-aligned).
    public static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let missing = width - text.unicodeScalars.count
        guard missing > 0 else { return text }
        let spaces = String(repeating: " ", count: missing)
        return right ? spaces + text : text + spaces
    }
}
