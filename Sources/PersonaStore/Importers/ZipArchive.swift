import CZlib

/// The parts of the zip format that WhatsApp's exports use: the central directory, and
/// members stored or deflated. Every offset and size is checked against the file before
/// it is followed, so a truncated or hostile archive gives an error, never a crash.
struct ZipArchive {
    struct Entry {
        var name: String
        var method: UInt16
        var compressedSize: Int
        var uncompressedSize: Int
        var localHeaderOffset: Int
        var crc32: UInt32
    }

    let bytes: [UInt8]
    let context: ImportContext
    private(set) var entries: [Entry] = []

    /// Members larger than this are refused (an export's chat text is a few MB).
    static let maximumMemberSize = 1 << 31

    init(bytes: [UInt8], context: ImportContext) throws {
        self.bytes = bytes
        self.context = context
        let n = bytes.count
        // The end-of-central-directory record: the last 22 bytes plus a comment of up to 64 KiB.
        var eocd = -1
        var i = n - 22
        let lowest = max(0, n - 22 - 65_535)
        while i >= lowest {
            if bytes[i] == 0x50, bytes[i + 1] == 0x4B, bytes[i + 2] == 0x05, bytes[i + 3] == 0x06 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else {
            throw context.fail("byte \(n)", "truncated or damaged zip: no end of central directory record; expected a complete .zip")
        }
        let count = Int(u16(eocd + 10))
        let directorySize = Int(u32(eocd + 12))
        let directoryOffset = Int(u32(eocd + 16))
        if count == 0xFFFF || directoryOffset == 0xFFFF_FFFF {
            throw context.fail("byte \(eocd)", "zip64 archives are not supported")
        }
        guard directoryOffset <= eocd, directorySize <= eocd - directoryOffset else {
            throw context.fail("byte \(eocd + 16)", "truncated or damaged zip: central directory at \(directoryOffset) (+\(directorySize)) lies outside the file")
        }
        var p = directoryOffset
        for index in 0..<count {
            guard p + 46 <= eocd, u32(p) == 0x0201_4B50 else {
                throw context.fail("byte \(p)", "damaged zip: central directory entry \(index) is missing")
            }
            let method = u16(p + 10)
            let crc = u32(p + 16)
            let compressed = Int(u32(p + 20)), uncompressed = Int(u32(p + 24))
            let nameLength = Int(u16(p + 28)), extraLength = Int(u16(p + 30)), commentLength = Int(u16(p + 32))
            let local = Int(u32(p + 42))
            let next = p + 46 + nameLength + extraLength + commentLength
            guard next <= eocd else { throw context.fail("byte \(p)", "damaged zip: entry \(index) runs past the central directory") }
            let name = String(decoding: bytes[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            entries.append(Entry(name: name, method: method, compressedSize: compressed, uncompressedSize: uncompressed,
                                 localHeaderOffset: local, crc32: crc))
            p = next
        }
    }

    private func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    private func u32(_ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }

    /// The member's uncompressed bytes, checked against its size and CRC-32.
    func extract(_ entry: Entry) throws -> [UInt8] {
        let where_ = "member '\(entry.name)'"
        let h = entry.localHeaderOffset
        guard h <= bytes.count - 30, u32(h) == 0x0403_4B50 else {
            throw context.fail("byte \(h)", "truncated or damaged zip: local header of \(where_) is missing")
        }
        let dataStart = h + 30 + Int(u16(h + 26)) + Int(u16(h + 28))
        guard dataStart <= bytes.count, entry.compressedSize <= bytes.count - dataStart else {
            throw context.fail("byte \(dataStart)", "truncated zip: \(where_) needs \(entry.compressedSize) bytes, the file has \(max(0, bytes.count - dataStart))")
        }
        guard entry.uncompressedSize <= ZipArchive.maximumMemberSize else {
            throw context.fail("byte \(h)", "\(where_) is too large (\(entry.uncompressedSize) bytes)")
        }
        let output: [UInt8]
        switch entry.method {
        case 0:
            output = Array(bytes[dataStart..<(dataStart + entry.compressedSize)])
        case 8:
            output = try inflate(from: dataStart, count: entry.compressedSize, expected: entry.uncompressedSize, name: where_)
        default:
            throw context.fail("byte \(h)", "\(where_) uses compression method \(entry.method); expected stored (0) or deflate (8)")
        }
        guard output.count == entry.uncompressedSize else {
            throw context.fail("byte \(dataStart)", "\(where_) has \(output.count) bytes; its header says \(entry.uncompressedSize)")
        }
        let crc = output.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        guard crc == entry.crc32 else {
            throw context.fail("byte \(dataStart)", "\(where_) is damaged (CRC-32 \(String(crc, radix: 16)), expected \(String(entry.crc32, radix: 16)))")
        }
        return output
    }

    private func inflate(from start: Int, count: Int, expected: Int, name: String) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: expected)
        var stream = z_stream()
        guard czlib_inflate_init_raw(&stream) == Z_OK else { throw context.fail(nil, "cannot start zlib for \(name)") }
        defer { inflateEnd(&stream) }
        let rc: Int32 = bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress.map { $0 + start })
                stream.avail_in = uInt(count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        guard rc == Z_STREAM_END else {
            throw context.fail("byte \(start + Int(stream.total_in))", "\(name) does not inflate (zlib \(rc)); the zip is truncated or damaged")
        }
        return Array(output.prefix(Int(stream.total_out)))
    }
}
