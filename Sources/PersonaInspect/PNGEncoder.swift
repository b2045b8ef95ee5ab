/// A minimal PNG writer: 8-bit RGB, filter 0 on every row, and the image data in stored
/// (uncompressed) deflate blocks inside a zlib stream. Readers accept it everywhere and it
/// needs no compression library; a heat map of a few hundred cells stays small anyway.
public enum PNGEncoder {
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// `rgb` holds width × height × 3 bytes, rows top to bottom.
    public static func encode(width: Int, height: Int, rgb: [UInt8]) throws -> [UInt8] {
        guard width > 0, height > 0, width <= 1 << 24, height <= 1 << 24,
              width.multipliedReportingOverflow(by: height * 3).overflow == false,
              rgb.count == width * height * 3 else {
            throw InspectError.invalid("png: \(rgb.count) bytes do not make a \(width) × \(height) RGB image")
        }
        var out = signature
        var header: [UInt8] = []
        appendBigEndian(UInt32(width), to: &header)
        appendBigEndian(UInt32(height), to: &header)
        header += [8, 2, 0, 0, 0]  // bit depth 8, colour type 2 (RGB), deflate, adaptive filters, no interlace
        appendChunk("IHDR", header, to: &out)

        var raw: [UInt8] = []  // [height, 1 + width·3]: filter byte 0, then the row
        raw.reserveCapacity(height * (1 + width * 3))
        for y in 0..<height {
            raw.append(0)
            raw += rgb[(y * width * 3)..<((y + 1) * width * 3)]
        }
        appendChunk("IDAT", zlibStored(raw), to: &out)
        appendChunk("IEND", [], to: &out)
        return out
    }

    /// A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951 §3.2.4), at most 65,535 bytes each.
    public static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]  // deflate, 32 KiB window, no dictionary; 0x7801 % 31 == 0
        var offset = 0
        repeat {
            let n = min(65_535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out.append(final)  // BFINAL, BTYPE 00 (stored)
            out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        appendBigEndian(adler32(data), to: &out)
        return out
    }

    static func appendChunk(_ type: String, _ data: [UInt8], to out: inout [UInt8]) {
        appendBigEndian(UInt32(data.count), to: &out)
        let typeAndData = Array(type.utf8) + data
        out += typeAndData
        appendBigEndian(crc32(typeAndData), to: &out)
    }

    static func appendBigEndian(_ v: UInt32, to out: inout [UInt8]) {
        out += [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 as PNG uses it (ISO 3309, reflected, polynomial 0xEDB88320).
    public static func crc32<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// Adler-32 (RFC 1950 §8.2).
    public static func adler32<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        var a: UInt32 = 1, b: UInt32 = 0
        for x in bytes {
            a = (a + UInt32(x)) % 65_521
            b = (b + a) % 65_521
        }
        return (b << 16) | a
    }
}

/// Attention as pixels: one square of `cell` pixels per weight, a panel per head, grey above
/// the causal diagonal. Labels are left to the SVG (a PNG would need a bitmap font).
public enum AttentionRaster {
    public static func image(_ pattern: AttentionPattern, heads: [Int], window: Range<Int>, cell: Int = 8)
        throws -> (width: Int, height: Int, rgb: [UInt8]) {
        guard !heads.isEmpty, heads.allSatisfy({ (0..<pattern.heads).contains($0) }), cell > 0, cell <= 64 else {
            throw InspectError.invalid("attention: heads \(heads) are not among 0…\(pattern.heads - 1)")
        }
        let n = window.count
        let border = 2
        let layout = PanelLayout(panels: heads.count, columns: min(3, heads.count), panelWidth: n * cell,
                                 panelHeight: n * cell, gap: 6)
        let width = layout.width + 2 * border, height = layout.height + 2 * border
        var rgb = [UInt8](repeating: 255, count: width * height * 3)
        for (i, head) in heads.enumerated() {
            let o = layout.origin(i)
            for (r, q) in window.enumerated() {
                for (c, k) in window.enumerated() {
                    let color = k > q ? HeatColor.masked : HeatColor.rgb(pattern.weight(head: head, query: q, key: k))
                    for dy in 0..<cell {
                        let y = border + o.y + r * cell + dy
                        for dx in 0..<cell {
                            let p = (y * width + border + o.x + c * cell + dx) * 3
                            rgb[p] = color.0; rgb[p + 1] = color.1; rgb[p + 2] = color.2
                        }
                    }
                }
            }
        }
        return (width, height, rgb)
    }
}
