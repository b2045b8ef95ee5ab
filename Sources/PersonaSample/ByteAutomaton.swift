/// A deterministic automaton over the bytes of the generated text that reaches a forbidden
/// state (-1) exactly when the text ends with something that must not be written. String
/// suppression is one (Aho–Corasick over the banned strings); runs of digits shaped like a
/// phone number are another.
public protocol ByteAutomaton: AnyObject {
    var description: String { get }
    var startState: Int32 { get }
    /// The state after `byte`, or -1 when the text would now contain a forbidden pattern.
    func next(_ state: Int32, _ byte: UInt8) -> Int32
}

/// Aho–Corasick over banned strings (ASCII letters folded to lower case, so "HTTP" is banned
/// with "http"): the state is the longest suffix of the text that is a prefix of a banned
/// string, and any transition that completes a banned string goes to -1.
public final class BannedStrings: ByteAutomaton {
    public let strings: [String]
    /// [states × 256] full transition table; -1 = a banned string ends here.
    private var table: [Int32]

    public init(_ strings: [String]) {
        self.strings = strings
        let patterns = strings.map { Array($0.utf8).map(BannedStrings.fold) }.filter { !$0.isEmpty }
        // Trie.
        var children: [[Int32]] = [[Int32](repeating: -2, count: 256)]
        var terminal: [Bool] = [false]
        for p in patterns {
            var state = 0
            for b in p {
                if children[state][Int(b)] == -2 {
                    children.append([Int32](repeating: -2, count: 256))
                    terminal.append(false)
                    children[state][Int(b)] = Int32(children.count - 1)
                }
                state = Int(children[state][Int(b)])
            }
            terminal[state] = true
        }
        // Breadth-first failure links turn the trie into a complete automaton.
        let count = children.count
        var fail = [Int](repeating: 0, count: count)
        var table = [Int32](repeating: 0, count: count * 256)
        var queue: [Int] = []
        for b in 0..<256 {
            let c = children[0][b]
            if c >= 0 { table[b] = c; fail[Int(c)] = 0; queue.append(Int(c)) } else { table[b] = 0 }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]; head += 1
            if terminal[fail[state]] { terminal[state] = true }
            for b in 0..<256 {
                let c = children[state][b]
                if c >= 0 {
                    fail[Int(c)] = Int(table[fail[state] * 256 + b])
                    table[state * 256 + b] = c
                    queue.append(Int(c))
                } else {
                    table[state * 256 + b] = table[fail[state] * 256 + b]
                }
            }
        }
        // Entering a terminal state means a banned string was just completed.
        for i in 0..<table.count where table[i] >= 0 && terminal[Int(table[i])] { table[i] = -1 }
        self.table = table
    }

    @inline(__always) static func fold(_ b: UInt8) -> UInt8 { (b >= 65 && b <= 90) ? b + 32 : b }

    public var description: String { "strings " + strings.map { "\"\($0)\"" }.joined(separator: ",") }
    public var startState: Int32 { 0 }

    @inline(__always)
    public func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        table[Int(state) * 256 + Int(BannedStrings.fold(byte))]
    }
}

/// Phone-number-shaped runs: `minimumDigits` digits with at most two separators (space, '-',
/// '.', '(', ')', '+', '/') between consecutive digits. Nine digits by default: most phone
/// numbers have ten or more, while dates (2024-05-17) and times have fewer.
public final class DigitRuns: ByteAutomaton {
    public let minimumDigits: Int

    public init(minimumDigits: Int = 9) { self.minimumDigits = max(2, minimumDigits) }

    public var description: String { "phone numbers (\(minimumDigits)+ digits with separators)" }
    public var startState: Int32 { 0 }

    // state = digits · 3 + separators since the last digit
    @inline(__always)
    public func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        let digits = Int(state) / 3, separators = Int(state) % 3
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            let d = digits + 1
            return d >= minimumDigits ? -1 : Int32(d * 3)
        case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"),
             UInt8(ascii: "+"), UInt8(ascii: "/"):
            if digits > 0 && separators < 2 { return Int32(digits * 3 + separators + 1) }
            return 0
        default:
            return 0
        }
    }
}
