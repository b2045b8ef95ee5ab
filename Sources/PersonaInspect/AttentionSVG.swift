import Foundation

/// A self-contained SVG heat map of attention (no scripts, fonts or external references):
/// one panel per head, each cell a rectangle whose tooltip gives the query, key and weight.
public enum AttentionSVG {
    public static func render(_ pattern: AttentionPattern, heads: [Int], window: Range<Int>, title: String,
                              cell: Int = 18, labelWidth: Int = 14) throws -> String {
        guard !heads.isEmpty, heads.allSatisfy({ (0..<pattern.heads).contains($0) }) else {
            throw InspectError.invalid("attention: heads \(heads) are not among 0…\(pattern.heads - 1)")
        }
        let n = window.count
        let leftMargin = 7 * labelWidth + 40   // room for "12 label…"
        let topMargin = 7 * labelWidth + 24    // room for rotated column labels and the panel title
        let panelWidth = leftMargin + n * cell
        let panelHeight = topMargin + n * cell
        let layout = PanelLayout(panels: heads.count, columns: min(3, heads.count), panelWidth: panelWidth,
                                 panelHeight: panelHeight, gap: 24)
        let titleHeight = 28
        let legendHeight = 40
        let width = max(layout.width + 20, 320)
        let height = titleHeight + layout.height + legendHeight + 20
        var s = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="monospace" font-size="11">
        <rect x="0" y="0" width="\(width)" height="\(height)" fill="#ffffff"/>
        <text x="10" y="18" font-size="14">\(escape(title))</text>

        """
        let labels = window.map { "\($0) " + TokenLabel.visible(pattern.tokens[$0], width: labelWidth) }
        for (i, head) in heads.enumerated() {
            let o = layout.origin(i)
            let x0 = 10 + o.x, y0 = titleHeight + o.y
            let gridX = x0 + leftMargin, gridY = y0 + topMargin
            s += "<g id=\"head-\(head)\">\n"
            s += "<text x=\"\(gridX)\" y=\"\(y0 + 12)\" font-size=\"12\">head \(head)</text>\n"
            for (j, label) in labels.enumerated() {
                let cx = gridX + j * cell + cell / 2 + 4
                s += "<text x=\"\(cx)\" y=\"\(gridY - 4)\" transform=\"rotate(-60 \(cx) \(gridY - 4))\">\(escape(label))</text>\n"
                s += "<text x=\"\(gridX - 4)\" y=\"\(gridY + j * cell + cell / 2 + 4)\" text-anchor=\"end\">\(escape(label))</text>\n"
            }
            for (r, q) in window.enumerated() {
                for (c, k) in window.enumerated() {
                    let x = gridX + c * cell, y = gridY + r * cell
                    if k > q {
                        s += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"\(HeatColor.hex(HeatColor.masked))\"/>\n"
                    } else {
                        let p = pattern.weight(head: head, query: q, key: k)
                        s += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"\(HeatColor.hex(HeatColor.rgb(p)))\">"
                        s += "<title>\(q) → \(k): \(String(format: "%.4f", p))</title></rect>\n"
                    }
                }
            }
            s += "<rect x=\"\(gridX)\" y=\"\(gridY)\" width=\"\(n * cell)\" height=\"\(n * cell)\" fill=\"none\" stroke=\"#888888\"/>\n"
            s += "</g>\n"
        }
        // The scale: ten swatches from 0 to 1.
        let legendY = titleHeight + layout.height + 14
        s += "<g id=\"legend\">\n<text x=\"10\" y=\"\(legendY + 12)\">0</text>\n"
        for i in 0...10 {
            let p = Float(i) / 10
            s += "<rect x=\"\(24 + i * 16)\" y=\"\(legendY)\" width=\"16\" height=\"16\" fill=\"\(HeatColor.hex(HeatColor.rgb(p)))\" stroke=\"#cccccc\"/>\n"
        }
        s += "<text x=\"\(24 + 11 * 16 + 6)\" y=\"\(legendY + 12)\">1 (attention probability; rows attend to columns)</text>\n</g>\n"
        s += "</svg>\n"
        return s
    }

    /// Text made safe for XML character data and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            // Characters XML 1.0 forbids even as references.
            case let c where c.value < 0x20 && c != "\t" && c != "\n" && c != "\r": out += "?"
            case let c where c.value == 0xFFFE || c.value == 0xFFFF: out += "?"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
