import Foundation
import XCTest
@testable import PersonaInspect
#if canImport(FoundationXML)
import FoundationXML
#endif

final class PictureTests: XCTestCase {
    func pattern() throws -> AttentionPattern {
        try AttentionPattern(tokens: ["<s>", " a & b", "\"x\"<"], heads: 2,
                             weights: [1, 0, 0, 0.5, 0.5, 0, 0.1, 0.3, 0.6, 1, 0, 0, 0, 1, 0, 0, 0, 1])
    }

    final class Counter: NSObject, XMLParserDelegate {
        var elements: [String: Int] = [:]
        var titles: [String] = []
        var inTitle = false
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements[name, default: 0] += 1
            inTitle = name == "title"
            if inTitle { titles.append("") }
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { inTitle = false }
        func parser(_ parser: XMLParser, foundCharacters string: String) { if inTitle { titles[titles.count - 1] += string } }
    }

    func testSVGIsWellFormedWithACellPerVisibleWeight() throws {
        let svg = try AttentionSVG.render(try pattern(), heads: [0, 1], window: 0..<3, title: "layer 0 <all heads>")
        let parser = XMLParser(data: Data(svg.utf8))
        let counter = Counter()
        parser.delegate = counter
        XCTAssertTrue(parser.parse(), "XML error: \(String(describing: parser.parserError))")
        XCTAssertEqual(counter.elements["svg"], 1)
        XCTAssertEqual(counter.elements["title"], 2 * 6, "one tooltip per causal cell per head")
        XCTAssertTrue(counter.titles.contains("2 → 1: 0.3000"))
        XCTAssertEqual(counter.elements["g"], 3, "two heads and the legend")
        XCTAssertFalse(svg.contains("<script"))
        XCTAssertThrowsError(try AttentionSVG.render(try pattern(), heads: [2], window: 0..<3, title: ""))
    }

    func testChecksumsMatchPublishedValues() {
        XCTAssertEqual(PNGEncoder.crc32(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(PNGEncoder.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
    }

    func testPNGDecodesBackToThePixels() throws {
        let (w, h, rgb) = try AttentionRaster.image(try pattern(), heads: [0, 1], window: 0..<3, cell: 2)
        XCTAssertEqual(rgb.count, w * h * 3)
        let png = try PNGEncoder.encode(width: w, height: h, rgb: rgb)
        let decoded = try decodePNG(png)
        XCTAssertEqual(decoded.width, w)
        XCTAssertEqual(decoded.height, h)
        XCTAssertEqual(decoded.rgb, rgb)
        // Head 0, query 0 → key 0 has weight 1: the darkest colour, at the top-left cell.
        let p = (2 * w + 2) * 3
        XCTAssertEqual([rgb[p], rgb[p + 1], rgb[p + 2]], [HeatColor.high.0, HeatColor.high.1, HeatColor.high.2])
    }

    func testLargeImagesSpanSeveralStoredBlocks() throws {
        let w = 200, h = 150
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for i in rgb.indices { rgb[i] = UInt8(truncatingIfNeeded: i &* 31) }
        let decoded = try decodePNG(try PNGEncoder.encode(width: w, height: h, rgb: rgb))
        XCTAssertEqual(decoded.rgb, rgb)
        XCTAssertThrowsError(try PNGEncoder.encode(width: 2, height: 2, rgb: [0, 0, 0]))
    }

    /// An independent reader: checks the signature, every chunk's CRC, IHDR, the zlib header
    /// and Adler-32, and inflates stored blocks (the only kind the encoder writes).
    struct DecodeFailure: Error { var what: String }
    func decodePNG(_ bytes: [UInt8]) throws -> (width: Int, height: Int, rgb: [UInt8]) {
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw DecodeFailure(what: "signature") }
        func u32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        var at = 8
        var width = 0, height = 0
        var idat: [UInt8] = []
        var types: [String] = []
        while at + 12 <= bytes.count {
            let length = u32(at)
            let type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
            let body = Array(bytes[(at + 8)..<(at + 8 + length)])
            let crc = UInt32(u32(at + 8 + length))
            guard crc == PNGEncoder.crc32(Array(bytes[(at + 4)..<(at + 8 + length)])) else { throw DecodeFailure(what: "CRC of \(type)") }
            types.append(type)
            if type == "IHDR" {
                width = Int(body[0]) << 24 | Int(body[1]) << 16 | Int(body[2]) << 8 | Int(body[3])
                height = Int(body[4]) << 24 | Int(body[5]) << 16 | Int(body[6]) << 8 | Int(body[7])
                guard length == 13, Array(body[8...]) == [8, 2, 0, 0, 0] else { throw DecodeFailure(what: "IHDR fields") }
            }
            if type == "IDAT" { idat += body }
            at += 12 + length
        }
        guard at == bytes.count, types.first == "IHDR", types.last == "IEND" else { throw DecodeFailure(what: "chunk order \(types)") }
        guard idat.count >= 6, (Int(idat[0]) << 8 | Int(idat[1])) % 31 == 0, idat[0] & 0x0F == 8 else { throw DecodeFailure(what: "zlib header") }
        var raw: [UInt8] = []
        var p = 2
        var final = false
        while !final {
            final = idat[p] & 1 == 1
            guard (idat[p] >> 1) & 3 == 0 else { throw DecodeFailure(what: "not a stored block") }
            let len = Int(idat[p + 1]) | Int(idat[p + 2]) << 8
            let nlen = Int(idat[p + 3]) | Int(idat[p + 4]) << 8
            guard len ^ nlen == 0xFFFF else { throw DecodeFailure(what: "LEN/NLEN") }
            raw += idat[(p + 5)..<(p + 5 + len)]
            p += 5 + len
        }
        let adler = UInt32(idat[p]) << 24 | UInt32(idat[p + 1]) << 16 | UInt32(idat[p + 2]) << 8 | UInt32(idat[p + 3])
        guard adler == PNGEncoder.adler32(raw), p + 4 == idat.count else { throw DecodeFailure(what: "Adler-32") }
        let stride = 1 + width * 3
        guard raw.count == height * stride else { throw DecodeFailure(what: "data size") }
        var rgb: [UInt8] = []
        for y in 0..<height {
            guard raw[y * stride] == 0 else { throw DecodeFailure(what: "filter type") }
            rgb += raw[(y * stride + 1)..<((y + 1) * stride)]
        }
        return (width, height, rgb)
    }
}
