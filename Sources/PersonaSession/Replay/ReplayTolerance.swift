import Foundation

/// How `run --check` compares a recorded output line with the replayed one, after
/// `OutputNormaliser` has put placeholders in for rates, durations and paths.
///
/// Kernels are compiled for the CPU they run on (AVX2 or AVX-512, FMA contraction, the
/// summation order of a vector width), so the last digits of a float can differ between
/// machines while every decision the program makes stays the same. The rule:
///
/// - The line is split into numbers and the text between them. The text must be equal.
/// - A number printed with a decimal point (or an exponent) matches when the two values
///   differ by at most 1e-3 of the larger magnitude, or by at most one unit in the last
///   digit printed in the recording (`9.9058` ~ `9.9059`, `31.2%` ~ `31.3%`).
/// - Every other number (counts, ids, steps, token ids, sizes) must be equal digit for
///   digit, and so must everything that is not a number (token text, generated text, names).
///
/// So `mean loss 9.9058` replays as `9.9059` on another CPU, but a loss that moved in the
/// second decimal (`9.9058` → `9.9258`) fails, and so does a changed count or word.
public enum ReplayTolerance {
    /// The relative difference allowed between two printed decimal numbers.
    public static let relative = 1e-3

    /// Whether `replayed` matches `recorded` under the rule above.
    public static func linesMatch(_ recorded: String, _ replayed: String) -> Bool {
        if recorded == replayed { return true }
        let a = split(recorded), b = split(replayed)
        guard a.text == b.text, a.numbers.count == b.numbers.count else { return false }
        for (r, p) in zip(a.numbers, b.numbers) where r != p {
            guard numbersMatch(recorded: r, replayed: p) else { return false }
        }
        return true
    }

    /// Two printed numbers under the rule (both strings as printed).
    public static func numbersMatch(recorded: String, replayed: String) -> Bool {
        if recorded == replayed { return true }
        guard isDecimal(recorded), isDecimal(replayed),
              let r = Double(recorded.replacingOccurrences(of: ",", with: "")),
              let p = Double(replayed.replacingOccurrences(of: ",", with: "")), r.isFinite, p.isFinite
        else { return false }
        let difference = abs(r - p)
        if difference <= relative * max(abs(r), abs(p)) { return true }
        return difference <= lastDigitUnit(of: recorded) * (1 + 1e-9)
    }

    // A number not glued to a word or another number ("v2", "1.2.3", "x86_64" keep their digits as text).
    private static let number = try! NSRegularExpression(pattern: #"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.]*\d)"#)

    /// The line's numbers in order, and its text with each number replaced by one marker.
    static func split(_ line: String) -> (text: String, numbers: [String]) {
        let ns = line as NSString
        var text = "", numbers: [String] = [], last = 0
        for match in number.matches(in: line, range: NSRange(location: 0, length: ns.length)) {
            text += ns.substring(with: NSRange(location: last, length: match.range.location - last)) + "\u{1}"
            numbers.append(ns.substring(with: match.range))
            last = match.range.location + match.range.length
        }
        text += ns.substring(from: last)
        return (text, numbers)
    }

    private static func isDecimal(_ s: String) -> Bool { s.contains(".") || s.contains("e") || s.contains("E") }

    /// One unit in the last printed digit: 0.0001 for `9.9058`, 1e-7 for `1.5e-6`.
    static func lastDigitUnit(of s: String) -> Double {
        let parts = s.lowercased().split(separator: "e", maxSplits: 1)
        let mantissa = parts.first.map(String.init) ?? s
        let exponent = parts.count > 1 ? (Int(parts[1]) ?? 0) : 0
        let decimals = mantissa.split(separator: ".", maxSplits: 1).dropFirst().first?.count ?? 0
        return pow(10, Double(exponent - decimals))
    }
}
