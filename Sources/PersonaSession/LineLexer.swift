import PersonaCore

public struct LexError: UserFacingError, Equatable {
    public var column: Int
    public var reason: String
    public var message: String { "column \(column): \(reason)" }
}

/// Splits a command line into words, shell-style but smaller: whitespace separates words;
/// double quotes group (with `\"`, `\\`, `\n`, `\t`, `\u{…}` escapes); single quotes group
/// literally; `#` at the start of a word begins a comment; `;` outside quotes separates
/// commands. `key="a b"` is one word, `key=a b` two.
public enum LineLexer {
    /// The commands on the line, each as its list of words (empty commands dropped).
    public static func split(_ line: String) throws -> [[String]] {
        var commands: [[String]] = []
        var words: [String] = []
        var word = ""
        var inWord = false
        let scalars = Array(line.unicodeScalars)
        var i = 0

        func endWord() {
            if inWord { words.append(word) }
            word = ""; inWord = false
        }
        func endCommand() {
            endWord()
            if !words.isEmpty { commands.append(words) }
            words = []
        }

        while i < scalars.count {
            let c = scalars[i]
            switch c {
            case " ", "\t", "\r", "\n":
                endWord()
            case ";":
                endCommand()
            case "#" where !inWord:
                i = scalars.count
                continue
            case "\"":
                inWord = true
                let start = i + 1
                i += 1
                var closed = false
                while i < scalars.count {
                    let q = scalars[i]
                    if q == "\"" { closed = true; break }
                    if q == "\\" {
                        guard i + 1 < scalars.count else { break }
                        let e = scalars[i + 1]
                        switch e {
                        case "n": word += "\n"
                        case "t": word += "\t"
                        case "r": word += "\r"
                        case "0": word += "\0"
                        case "\"", "\\", "'", "#", ";": word.unicodeScalars.append(e)
                        case "u":
                            // \u{1F600}
                            guard i + 2 < scalars.count, scalars[i + 2] == "{",
                                  let close = scalars[(i + 3)...].firstIndex(of: "}") else {
                                throw LexError(column: i + 1, reason: "malformed \\u{…} escape")
                            }
                            let hex = String(String.UnicodeScalarView(scalars[(i + 3)..<close]))
                            guard let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) else {
                                throw LexError(column: i + 1, reason: "\\u{\(hex)} is not a Unicode scalar")
                            }
                            word.unicodeScalars.append(scalar)
                            i = close - 1
                        default:
                            throw LexError(column: i + 1, reason: "unknown escape '\\\(e)' in a quoted string")
                        }
                        i += 2
                        continue
                    }
                    word.unicodeScalars.append(q)
                    i += 1
                }
                if !closed { throw LexError(column: start, reason: "unterminated double-quoted string") }
            case "'":
                inWord = true
                let start = i + 1
                i += 1
                var closed = false
                while i < scalars.count {
                    if scalars[i] == "'" { closed = true; break }
                    word.unicodeScalars.append(scalars[i])
                    i += 1
                }
                if !closed { throw LexError(column: start, reason: "unterminated single-quoted string") }
            case "\\":
                // Outside quotes a backslash escapes the next character (a trailing one is
                // line continuation, handled by the reader before lexing).
                inWord = true
                if i + 1 < scalars.count { word.unicodeScalars.append(scalars[i + 1]); i += 1 }
            default:
                inWord = true
                word.unicodeScalars.append(c)
            }
            i += 1
        }
        endCommand()
        return commands
    }
}

extension LineLexer {
    /// Writes words back as a line that `split` reads as the same words: a word with a
    /// space, quote, backslash, `;` or a leading `#` is double-quoted (only its value when
    /// it is `key=value`, so that recordings read like what a person types).
    public static func join(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }

    public static func quote(_ word: String) -> String {
        if word.isEmpty { return "\"\"" }
        if !needsQuotes(word) { return word }
        if let eq = word.firstIndex(of: "="), eq != word.startIndex, Arguments.isKey(word[..<eq]),
           !needsQuotes(String(word[..<eq])) {
            return String(word[...eq]) + escaped(String(word[word.index(after: eq)...]))
        }
        return escaped(word)
    }

    private static func needsQuotes(_ word: String) -> Bool {
        if word.hasPrefix("#") { return true }
        return word.unicodeScalars.contains { c in
            c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\"" || c == "'" || c == "\\" || c == ";"
                || c.value < 0x20 || c.value == 0x7F
        }
    }

    private static func escaped(_ text: String) -> String {
        var out = "\""
        for c in text.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            case let c where c.value < 0x20 || c.value == 0x7F: out += "\\u{\(String(c.value, radix: 16))}"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
