/// Plain aligned tables for terminal output (and for recorded sessions, so no colour).
public enum TextTable {
    /// The first row is the header; it is followed by a rule. Width counts Unicode scalars.
    public static func render(_ rows: [[String]], rightAligned: Set<Int> = []) -> [String] {
        guard let header = rows.first else { return [] }
        let columns = rows.map(\.count).max() ?? header.count
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], displayWidth(cell)) } }
        func line(_ row: [String]) -> String {
            var parts: [String] = []
            for i in 0..<columns {
                let cell = i < row.count ? row[i] : ""
                let pad = String(repeating: " ", count: widths[i] - displayWidth(cell))
                parts.append(rightAligned.contains(i) ? pad + cell : cell + pad)
            }
            var text = parts.joined(separator: "  ")
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        var out = [line(header)]
        out.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for row in rows.dropFirst() { out.append(line(row)) }
        return out
    }

    public static func displayWidth(_ s: String) -> Int { s.unicodeScalars.count }
}
