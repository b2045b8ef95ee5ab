/// The character classes the pre-tokenizer patterns use, as Oniguruma (Hugging Face's regex
/// engine) defines them: `\p{L}` letters, `\p{N}` numbers (Nd, Nl, No), `\s` the Unicode
/// White_Space property, with CR and LF apart for the Llama 3 pattern's `[\r\n]`.
enum ScalarClass: UInt8 {
    case letter, number, space, newline, other

    /// ASCII classes by bit masks (constants, so no table to load lazily); the rest through
    /// Unicode properties.
    @inline(__always)
    static func of(_ value: UInt32) -> ScalarClass {
        if value < 64 {
            let bit = UInt64(1) << UInt64(value)
            if bit & 0x03FF_0000_0000_0000 != 0 { return .number }         // 0-9
            if bit & 0x0000_0001_0000_1A00 != 0 { return .space }          // \t \v \f space
            if bit & 0x0000_0000_0000_2400 != 0 { return .newline }        // \n \r
            return .other
        }
        if value < 128 {
            let bit = UInt64(1) << UInt64(value - 64)
            return bit & 0x07FF_FFFE_07FF_FFFE != 0 ? .letter : .other     // A-Z a-z
        }
        return nonASCII(value)
    }

    /// Classes of the scalars below U+3100 (Latin to Devanagari, punctuation, symbols, dingbats),
    /// computed once on first use (about 3 ms).
    private static let table: [ScalarClass] = (0..<UInt32(0x3100)).map { uncachedNonASCII($0) }

    @inline(__always)
    static func nonASCII(_ value: UInt32) -> ScalarClass {
        if value < 0x3100 { return table[Int(value)] }
        // Pictographs and emoji (U+1F300–U+1FAFF) hold no letters, numbers or spaces (So/Sk only).
        if value >= 0x1F300 && value < 0x1FB00 { return .other }
        return uncachedNonASCII(value)
    }

    static func uncachedNonASCII(_ value: UInt32) -> ScalarClass {
        guard let scalar = Unicode.Scalar(value) else { return .other }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return properties.isWhitespace ? .space : .other
        }
    }

    /// `\s`: White_Space, CR and LF included.
    var isWhitespace: Bool { self == .space || self == .newline }
}

/// UTF-8 text as bytes, read scalar by scalar. The bytes come from a Swift `String`, so they
/// are valid UTF-8; the decoder still never reads past `count`.
struct UTF8Text {
    let bytes: UnsafeBufferPointer<UInt8>

    var count: Int { bytes.count }

    /// Length in bytes of the scalar starting at `i` (1 for a stray continuation byte).
    @inline(__always)
    func scalarLength(at i: Int) -> Int {
        let b = bytes[i]
        let n: Int
        if b < 0x80 { return 1 }
        else if b >= 0xF0 { n = 4 } else if b >= 0xE0 { n = 3 } else if b >= 0xC0 { n = 2 } else { return 1 }
        return min(n, bytes.count - i)
    }

    /// The scalar value at `i` and its length in bytes.
    @inline(__always)
    func scalar(at i: Int) -> (value: UInt32, length: Int) {
        let b0 = UInt32(bytes[i])
        if b0 < 0x80 { return (b0, 1) }
        let length = scalarLength(at: i)
        switch length {
        case 2: return ((b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F), 2)
        case 3: return ((b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F), 3)
        case 4: return ((b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6 | UInt32(bytes[i + 3] & 0x3F), 4)
        default: return (0xFFFD, 1)
        }
    }

    /// Class of the scalar at `i` and its length.
    @inline(__always)
    func classAt(_ i: Int) -> (ScalarClass, Int) {
        let b = bytes[i]
        if b < 0x80 { return (ScalarClass.of(UInt32(b)), 1) }
        let s = scalar(at: i)
        return (ScalarClass.nonASCII(s.value), s.length)
    }
}
