/// GPT-2's reversible byte ↔ Unicode alphabet: every byte gets a printable character so that
/// byte-level vocabularies can be stored as text (`Ġ` is the space byte 0x20, `Ċ` is 0x0A).
/// Printable Latin-1 bytes stand for themselves; the other 68 bytes map to U+0100 onwards.
public enum ByteLevelAlphabet {
    /// The character (scalar value) of each byte.
    public static let scalarOfByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable { table[b] = UInt32(b) } else { table[b] = next; next += 1 }
        }
        return table
    }()

    /// The byte of each alphabet scalar below 0x144, or -1 for scalars outside the alphabet.
    public static let byteOfScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (b, s) in scalarOfByte.enumerated() { table[Int(s)] = Int16(b) }
        return table
    }()

    /// The bytes `text` stands for, or nil when a character lies outside the alphabet
    /// (special tokens such as `<|im_end|>` are plain text and decode to their own UTF-8).
    public static func bytes(of text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            let v = Int(scalar.value)
            guard v < byteOfScalar.count, byteOfScalar[v] >= 0 else { return nil }
            out.append(UInt8(byteOfScalar[v]))
        }
        return out
    }

    /// `bytes` written in the alphabet (`[0x20, 0x68, 0x69]` → `Ġhi`).
    public static func text(of bytes: some Sequence<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for b in bytes { scalars.append(Unicode.Scalar(scalarOfByte[Int(b)]) ?? "?") }
        return String(scalars)
    }

    /// Appends the bytes that the alphabet text `utf8` stands for; false (with `out` partly
    /// appended) when a character lies outside the alphabet. Alphabet scalars are below U+0144,
    /// so they take one or two UTF-8 bytes.
    @inline(__always)
    public static func appendBytes(ofUTF8 utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) -> Bool {
        var i = 0
        let n = utf8.count
        while i < n {
            let b0 = utf8[i]
            let value: Int
            if b0 < 0x80 { value = Int(b0); i += 1 }
            else if b0 & 0xE0 == 0xC0, i + 1 < n { value = Int(b0 & 0x1F) << 6 | Int(utf8[i + 1] & 0x3F); i += 2 }
            else { return false }
            guard value < byteOfScalar.count else { return false }
            let byte = byteOfScalar[value]
            guard byte >= 0 else { return false }
            out.append(UInt8(byte))
        }
        return true
    }
}
