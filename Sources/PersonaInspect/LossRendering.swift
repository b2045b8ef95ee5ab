import Foundation

/// Terminal views of a `LossReport`: an inline heat map (ANSI colour, or bracketed losses
/// when colour is off), its legend, a table with the alternatives, and the summary line.
public enum LossRendering {
    /// Upper bounds (nats) of the colour bins; the last bin is open-ended.
    public static let binLimits: [Float] = [0.5, 1, 2, 3, 4, 6]
    /// 256-colour backgrounds from confident (green) to surprised (red), one per bin.
    public static let binColors: [Int] = [28, 70, 142, 178, 208, 202, 160]

    /// The bin of a loss: 0 for the most confident.
    public static func bin(_ loss: Float) -> Int {
        binLimits.firstIndex { loss < $0 } ?? binLimits.count
    }

    // MARK: Heat map

    /// The text with each token shaded by its loss: coloured backgrounds when `color`, else
    /// `[token loss]` items wrapped to `width` columns. Tokens a mask leaves out are dim
    /// (colour) or bare without brackets (plain), so the counted ones stand out.
    public static func heatMap(_ report: LossReport, color: Bool, width: Int = 80) -> [String] {
        color ? colorHeatMap(report) : plainHeatMap(report, width: width)
    }

    static func colorHeatMap(_ report: LossReport) -> [String] {
        var lines: [String] = []
        var line = ""
        for row in report.rows {
            // Keep line breaks of the text, showing the newline token itself before the break.
            let pieces = row.text.split(separator: "\n", omittingEmptySubsequences: false)
            for (i, piece) in pieces.enumerated() {
                var shown = String(piece).replacingOccurrences(of: "\t", with: "→")
                if i < pieces.count - 1 { shown += "↵" }
                if !shown.isEmpty {
                    if let loss = row.loss, row.counted {
                        let b = bin(loss)
                        let fg = (b == 0 || b == binColors.count - 1) ? 231 : 16
                        line += ANSI.background(binColors[b]) + ANSI.foreground(fg) + shown + ANSI.reset
                    } else {
                        line += ANSI.dim + shown + ANSI.reset
                    }
                }
                if i < pieces.count - 1 { lines.append(line); line = "" }
            }
        }
        lines.append(line)
        return lines
    }

    static func plainHeatMap(_ report: LossReport, width: Int) -> [String] {
        var items: [String] = []
        for row in report.rows {
            let text = TokenLabel.visible(row.text)
            if let loss = row.loss, row.counted {
                items.append("[\(text) \(String(format: "%.2f", loss))]")
            } else {
                items.append(text)
            }
        }
        return wrap(items, width: width)
    }

    /// Joins items with spaces into lines of at most `width` scalars (an item longer than
    /// the width gets a line of its own).
    static func wrap(_ items: [String], width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for item in items {
            if line.isEmpty {
                line = item
            } else if line.unicodeScalars.count + 1 + item.unicodeScalars.count <= width {
                line += " " + item
            } else {
                lines.append(line)
                line = item
            }
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        return lines
    }

    /// What the shading means.
    public static func legend(color: Bool, masked: Bool) -> String {
        if color {
            var parts: [String] = []
            var lower: Float = 0
            for (b, c) in binColors.enumerated() {
                let fg = (b == 0 || b == binColors.count - 1) ? 231 : 16
                let range = b < binLimits.count ? "\(format(lower))–\(format(binLimits[b]))" : "≥\(format(lower))"
                parts.append(ANSI.background(c) + ANSI.foreground(fg) + " \(range) " + ANSI.reset)
                if b < binLimits.count { lower = binLimits[b] }
            }
            return "loss (nats): " + parts.joined() + (masked ? "  " + ANSI.dim + "dim" + ANSI.reset + ": not counted by the mask" : "")
        }
        return "[token loss]: loss in nats (p = e^-loss); · space, ↵ newline"
            + (masked ? "; tokens without brackets are not counted by the mask" : "")
    }

    private static func format(_ x: Float) -> String {
        x == x.rounded() ? String(Int(x)) : String(format: "%.1f", x)
    }

    // MARK: Table

    /// Position, token, loss, probability and the top alternatives (with a `counted` column
    /// when a mask decided what counts). The token cell is cut to `tokenWidth` scalars.
    public static func table(_ report: LossReport, tokenWidth: Int = 16) -> [[String]] {
        let k = report.rows.map(\.alternatives.count).max() ?? 0
        var header = ["#", "token", "loss", "p"]
        if report.masked { header.append("counted") }
        header.append(k > 0 ? "top-\(k) alternatives" : "alternatives")
        var rows = [header]
        for row in report.rows {
            var cells = [String(row.position), TokenLabel.visible(row.text, width: tokenWidth)]
            if let loss = row.loss, let p = row.probability {
                cells += [String(format: "%.3f", loss), String(format: "%.3f", p)]
            } else {
                cells += ["-", "-"]
            }
            if report.masked { cells.append(row.counted ? "yes" : "") }
            cells.append(row.alternatives.map {
                (($0.id == row.id) ? "*" : "") + TokenLabel.visible($0.text, width: 12) + " " + String(format: "%.3f", $0.probability)
            }.joined(separator: "  "))
            rows.append(cells)
        }
        return rows
    }

    /// Columns of `table` to right-align.
    public static func tableRightAligned(_ report: LossReport) -> Set<Int> { [0, 2, 3] }

    /// `mean loss 2.1034 over 7 tokens, perplexity 8.19`
    public static func summary(_ report: LossReport) -> String {
        guard let mean = report.meanLoss, let ppl = report.perplexity else {
            return report.masked ? "no token of this text is counted by the mask" : "too short to score: a loss needs at least two tokens"
        }
        let scored = report.rows.filter { $0.loss != nil }.count
        let counted = report.countedCount
        let over = report.masked ? "over \(counted) counted of \(scored) tokens" : "over \(counted) token\(counted == 1 ? "" : "s")"
        return String(format: "mean loss %.4f %@, perplexity %.2f", mean, over, ppl)
    }
}
