/// The logit lens as a table: a row per position, a column per layer holding the token that
/// layer's residual stream would predict next (final norm and output head applied early).
public enum LogitLensTable {
    /// The layers shown when all `layers` columns do not fit: every `stride`-th from 0,
    /// always with the last layer (the model's real prediction).
    public static func shownLayers(layers: Int, fit: Int) -> (layers: [Int], stride: Int) {
        guard layers > 0 else { return ([], 1) }
        guard layers > fit, fit >= 2 else { return (Array(0..<layers), 1) }
        let stride = (layers - 1 + fit - 2) / (fit - 1)
        var shown = Array(Swift.stride(from: 0, to: layers, by: stride))
        if shown.last != layers - 1 { shown.append(layers - 1) }
        return (shown, stride)
    }

    /// - tokens: the text's tokens [T]; predictions: [layers][T] the top token text of each
    ///   layer at each position. Returns the table rows (header first) and a note when
    ///   layers were skipped.
    public static func table(tokens: [String], predictions: [[String]], width: Int = 100, cellWidth: Int = 8)
        throws -> (rows: [[String]], note: String?) {
        let T = tokens.count
        guard predictions.allSatisfy({ $0.count == T }) else {
            throw InspectError.invalid("lens: every layer needs one prediction per position (\(T))")
        }
        let prefix = 4 + 2 + cellWidth + 2 + cellWidth + 2  // "#", token, next
        let fit = max(2, (width - prefix) / (cellWidth + 2))
        let (layers, stride) = shownLayers(layers: predictions.count, fit: fit)
        var rows: [[String]] = [["#", "token"] + layers.map { "L\($0)" } + ["next"]]
        for t in 0..<T {
            var row = [String(t), TokenLabel.visible(tokens[t], width: cellWidth)]
            for l in layers { row.append(TokenLabel.visible(predictions[l][t], width: cellWidth)) }
            row.append(t + 1 < T ? TokenLabel.visible(tokens[t + 1], width: cellWidth) : "")
            rows.append(row)
        }
        let note = stride > 1
            ? "showing every \(stride)\(ordinalSuffix(stride)) layer of \(predictions.count) (and the last); width=N shows more"
            : nil
        return (rows, note)
    }

    static func ordinalSuffix(_ n: Int) -> String {
        if (11...13).contains(n % 100) { return "th" }
        switch n % 10 {
        case 1: return "st"
        case 2: return "nd"
        case 3: return "rd"
        default: return "th"
        }
    }
}
