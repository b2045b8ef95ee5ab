import Foundation

/// A loss curve drawn in the terminal (a character grid) or as an SVG file.
public enum LossCurve {
    /// Rows of text: training loss as `•`, evaluation loss as `o`, y axis labelled.
    public static func terminal(_ points: [(step: Int, loss: Double, evalLoss: Double?)], width: Int = 60, height: Int = 12) -> [String] {
        let finite = points.filter { $0.loss.isFinite }
        guard let firstStep = finite.first?.step, let lastStep = finite.last?.step else { return ["(no steps yet)"] }
        let values = finite.map(\.loss) + finite.compactMap(\.evalLoss)
        var low = values.min() ?? 0, high = values.max() ?? 1
        if high - low < 1e-9 { high += 0.5; low -= 0.5 }
        var grid = [[Character]](repeating: [Character](repeating: " ", count: width), count: height)
        func place(_ step: Int, _ v: Double, _ mark: Character) {
            let x = lastStep == firstStep ? 0 : Int((Double(step - firstStep) / Double(lastStep - firstStep) * Double(width - 1)).rounded())
            let y = Int(((high - v) / (high - low) * Double(height - 1)).rounded())
            guard (0..<width).contains(x), (0..<height).contains(y) else { return }
            if grid[y][x] == " " || mark == "o" { grid[y][x] = mark }
        }
        for p in finite { place(p.step, p.loss, "•") }
        for p in finite { if let e = p.evalLoss { place(p.step, e, "o") } }
        var lines: [String] = []
        for (i, row) in grid.enumerated() {
            let label = i == 0 ? String(format: "%7.3f", high) : i == height - 1 ? String(format: "%7.3f", low) : String(repeating: " ", count: 7)
            lines.append(label + " |" + String(row))
        }
        lines.append(String(repeating: " ", count: 8) + "+" + String(repeating: "-", count: width))
        let left = "step \(firstStep)", right = "step \(lastStep)"
        lines.append(String(repeating: " ", count: 9) + left + String(repeating: " ", count: max(1, width - left.count - right.count)) + right)
        lines.append("         • training loss   o evaluation loss")
        return lines
    }

    /// An SVG document with both curves and labelled axes.
    public static func svg(_ points: [(step: Int, loss: Double, evalLoss: Double?)], title: String) -> String {
        let w = 640.0, h = 360.0, left = 60.0, right = 20.0, top = 30.0, bottom = 40.0
        let finite = points.filter { $0.loss.isFinite }
        let values = finite.map(\.loss) + finite.compactMap(\.evalLoss)
        var low = values.min() ?? 0, high = values.max() ?? 1
        if high - low < 1e-9 { high += 0.5; low -= 0.5 }
        let firstStep = Double(finite.first?.step ?? 0), lastStep = Double(max(finite.last?.step ?? 1, (finite.first?.step ?? 0) + 1))
        func x(_ s: Int) -> Double { left + (Double(s) - firstStep) / (lastStep - firstStep) * (w - left - right) }
        func y(_ v: Double) -> Double { top + (high - v) / (high - low) * (h - top - bottom) }
        func path(_ pts: [(Int, Double)]) -> String {
            pts.enumerated().map { i, p in String(format: "%@%.1f,%.1f", i == 0 ? "M" : "L", x(p.0), y(p.1)) }.joined(separator: " ")
        }
        let escaped = title.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(left))" y="18">\(escaped)</text>
        <line x1="\(left)" y1="\(h - bottom)" x2="\(w - right)" y2="\(h - bottom)" stroke="black"/>
        <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(h - bottom)" stroke="black"/>
        <text x="\(left - 5)" y="\(top + 4)" text-anchor="end">\(String(format: "%.3f", high))</text>
        <text x="\(left - 5)" y="\(h - bottom)" text-anchor="end">\(String(format: "%.3f", low))</text>
        <text x="\(left)" y="\(h - bottom + 16)">step \(Int(firstStep))</text>
        <text x="\(w - right)" y="\(h - bottom + 16)" text-anchor="end">step \(finite.last?.step ?? 0)</text>
        <path d="\(path(finite.map { ($0.step, $0.loss) }))" fill="none" stroke="#1f77b4" stroke-width="1.5"/>

        """
        let evals = finite.compactMap { p in p.evalLoss.map { (p.step, $0) } }
        if !evals.isEmpty {
            s += "<path d=\"\(path(evals))\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n"
            for e in evals { s += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#d62728\"/>\n", x(e.0), y(e.1)) }
        }
        s += "<text x=\"\(w - right - 200)\" y=\"18\" fill=\"#1f77b4\">training loss</text>\n"
        s += "<text x=\"\(w - right - 90)\" y=\"18\" fill=\"#d62728\">evaluation loss</text>\n</svg>\n"
        return s
    }
}
