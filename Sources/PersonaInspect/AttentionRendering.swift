import Foundation

/// Terminal views of attention: a shaded grid with token labels, a grid of small maps (one
/// per head), and the bar list of what one token attends to.
public enum AttentionRendering {
    /// Shades from no attention to all of it.
    public static let shades: [Character] = [" ", "░", "▒", "▓", "█"]

    /// The shade of a probability: rounded to the nearest quarter (so < 0.125 is blank).
    public static func shade(_ p: Float) -> Character {
        guard p.isFinite else { return "?" }
        let level = Int((max(0, min(1, p)) * 4).rounded())
        return shades[level]
    }

    public static let legend = "shading: ' ' <0.125  ░ ~0.25  ▒ ~0.5  ▓ ~0.75  █ ~1 (attention probability)"

    /// The positions shown when a text is longer than `size`: `size` positions from `start`
    /// (nil: the last `size`), clamped to the text.
    public static func window(count: Int, size: Int, start: Int?) -> Range<Int> {
        guard count > size, size > 0 else { return 0..<count }
        let first = max(0, min(start ?? (count - size), count - size))
        return first..<(first + size)
    }

    /// A note saying what a window leaves out, or nil when it shows everything.
    public static func windowNote(_ window: Range<Int>, count: Int) -> String? {
        guard window.count < count else { return nil }
        return "showing positions \(window.lowerBound)…\(window.upperBound - 1) of 0…\(count - 1) (attention to keys outside them is not drawn; start=N moves the window)"
    }

    /// One head as a grid: a row per query, two characters per key, labelled by position
    /// and token text. Cells above the diagonal (future keys) stay blank.
    public static func grid(_ pattern: AttentionPattern, head: Int, window: Range<Int>, labelWidth: Int = 12) -> [String] {
        let indexWidth = max(2, String(max(0, window.upperBound - 1)).count)
        let prefixWidth = indexWidth + 1 + labelWidth + 1
        var header = String(repeating: " ", count: prefixWidth)
        for k in window { header += TokenLabel.pad(String(k % 100), 2, right: true) }
        var lines = [trimRight(header)]
        for q in window {
            var line = TokenLabel.pad(String(q), indexWidth, right: true) + " "
                + TokenLabel.pad(TokenLabel.visible(pattern.tokens[q], width: labelWidth), labelWidth) + " "
            for k in window {
                let c: Character = k <= q ? shade(pattern.weight(head: head, query: q, key: k)) : " "
                line.append(c); line.append(c)
            }
            lines.append(trimRight(line))
        }
        return lines
    }

    /// Every head as a small map (one character per key), as many side by side as fit in
    /// `width`; each row is labelled with its query's position and token, as in `grid`.
    public static func headGrid(_ pattern: AttentionPattern, window: Range<Int>, width: Int = 80, labelWidth: Int = 8) -> [String] {
        let n = window.count
        let indexWidth = max(2, String(max(0, window.upperBound - 1)).count)
        let prefixWidth = indexWidth + 1 + labelWidth + 1
        let mapWidth = max(n, 7)
        let perRow = max(1, (width - prefixWidth + 2) / (mapWidth + 2))
        var lines: [String] = []
        var first = 0
        while first < pattern.heads {
            let heads = first..<min(pattern.heads, first + perRow)
            var title = String(repeating: " ", count: prefixWidth)
            title += heads.map { TokenLabel.pad("head \($0)", mapWidth) }.joined(separator: "  ")
            lines.append(trimRight(title))
            for q in window {
                var line = TokenLabel.pad(String(q), indexWidth, right: true) + " "
                    + TokenLabel.pad(TokenLabel.visible(pattern.tokens[q], width: labelWidth), labelWidth) + " "
                line += heads.map { h -> String in
                    var cells = ""
                    for k in window { cells.append(k <= q ? shade(pattern.weight(head: h, query: q, key: k)) : " ") }
                    return TokenLabel.pad(cells, mapWidth)
                }.joined(separator: "  ")
                lines.append(trimRight(line))
            }
            first += perRow
            if first < pattern.heads { lines.append("") }
        }
        return lines
    }

    /// What the token at `query` attends to: one line per earlier key with its weight and a
    /// bar (eighth blocks, `barWidth` cells for weight 1). With `head` nil, the mean over
    /// heads. Longer than `limit` keys: only the `limit` heaviest, in position order.
    public static func attendedFrom(_ pattern: AttentionPattern, head: Int?, query: Int, barWidth: Int = 40,
                                    limit: Int = 40, labelWidth: Int = 14) -> [String] {
        var keys = Array(0...query)
        func w(_ k: Int) -> Float {
            head.map { pattern.weight(head: $0, query: query, key: k) } ?? pattern.meanWeight(query: query, key: k)
        }
        var lines: [String] = []
        if keys.count > limit {
            keys = Array(keys.sorted { w($0) > w($1) || (w($0) == w($1) && $0 < $1) }.prefix(limit)).sorted()
            lines.append("the \(limit) keys with the most weight of \(query + 1):")
        }
        let indexWidth = max(2, String(query).count)
        for k in keys {
            let p = w(k)
            lines.append(TokenLabel.pad(String(k), indexWidth, right: true) + " "
                         + TokenLabel.pad(TokenLabel.visible(pattern.tokens[k], width: labelWidth), labelWidth) + " "
                         + String(format: "%.3f", p) + " " + bar(p, width: barWidth))
        }
        return lines.map(trimRight)
    }

    /// A horizontal bar of `value × width` cells in eighth blocks.
    public static func bar(_ value: Float, width: Int) -> String {
        let eighths = Int((max(0, min(1, value.isFinite ? value : 0)) * Float(width * 8)).rounded())
        let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        return String(repeating: "█", count: eighths / 8) + partial[eighths % 8]
    }

    static func trimRight(_ s: String) -> String {
        var s = s
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
