import Foundation
import XCTest
@testable import PersonaInspect

final class AttentionRenderingTests: XCTestCase {
    /// Head 0 spreads attention; head 1 attends to itself only.
    func pattern() throws -> AttentionPattern {
        let head0: [Float] = [1, 0, 0, 0.5, 0.5, 0, 0.1, 0.3, 0.6]
        let head1: [Float] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
        return try AttentionPattern(tokens: ["<s>", " cat", "\n"], heads: 2, weights: head0 + head1)
    }

    func testGridShadesEachCellWithLabels() throws {
        XCTAssertEqual(AttentionRendering.grid(try pattern(), head: 0, window: 0..<3), [
            "                 0 1 2",
            " 0 <s>          ██",
            " 1 ·cat         ▒▒▒▒",
            " 2 ↵              ░░▒▒",
        ])
    }

    func testHeadGridPutsSmallMapsSideBySide() throws {
        XCTAssertEqual(AttentionRendering.headGrid(try pattern(), window: 0..<3), [
            "            head 0   head 1",
            " 0 <s>      █        █",
            " 1 ·cat     ▒▒        █",
            " 2 ↵         ░▒        █",
        ])
        // Too narrow for two maps: one per row, with a blank line between.
        XCTAssertEqual(AttentionRendering.headGrid(try pattern(), window: 0..<3, width: 21).count, 9)
    }

    func testAttendedFromListsEarlierTokensWithBars() throws {
        let p = try pattern()
        XCTAssertEqual(AttentionRendering.attendedFrom(p, head: 0, query: 2, barWidth: 10), [
            " 0 <s>            0.100 █",
            " 1 ·cat           0.300 ███",
            " 2 ↵              0.600 ██████",
        ])
        XCTAssertEqual(AttentionRendering.attendedFrom(p, head: nil, query: 1, barWidth: 8), [
            " 0 <s>            0.250 ██",
            " 1 ·cat           0.750 ██████",
        ])
        let limited = AttentionRendering.attendedFrom(p, head: 0, query: 2, barWidth: 8, limit: 2)
        XCTAssertEqual(limited.first, "the 2 keys with the most weight of 3:")
        XCTAssertEqual(limited.count, 3)
        XCTAssertTrue(limited[1].hasPrefix(" 1 ·cat"))
        XCTAssertEqual(AttentionRendering.bar(0.5, width: 3), "█▌")
    }

    func testFromResolvesIndicesAndTokenText() throws {
        let p = try pattern()
        XCTAssertEqual(try p.position(of: "1"), 1)
        XCTAssertEqual(try p.position(of: "-1"), 2)
        XCTAssertEqual(try p.position(of: "cat"), 1)
        XCTAssertEqual(try p.position(of: "·cat"), 1)
        XCTAssertEqual(try p.position(of: "↵"), 2)
        XCTAssertThrowsError(try p.position(of: "3"))
        XCTAssertThrowsError(try p.position(of: "dog"))
        XCTAssertThrowsError(try AttentionPattern(tokens: ["a"], heads: 1, weights: [1, 2]))
    }

    func testWindowKeepsTheEndByDefault() {
        XCTAssertEqual(AttentionRendering.window(count: 10, size: 4, start: nil), 6..<10)
        XCTAssertEqual(AttentionRendering.window(count: 10, size: 4, start: 2), 2..<6)
        XCTAssertEqual(AttentionRendering.window(count: 10, size: 4, start: 9), 6..<10)
        XCTAssertEqual(AttentionRendering.window(count: 3, size: 4, start: nil), 0..<3)
        XCTAssertNil(AttentionRendering.windowNote(0..<3, count: 3))
        XCTAssertNotNil(AttentionRendering.windowNote(6..<10, count: 10))
    }

    func testLensTableShowsEveryLayerOrEveryKth() throws {
        let (rows, note) = try LogitLensTable.table(tokens: ["a", " b"], predictions: [["x", "y"], [" b", "\n"]])
        XCTAssertEqual(rows, [["#", "token", "L0", "L1", "next"], ["0", "a", "x", "·b", "·b"], ["1", "·b", "y", "↵", ""]])
        XCTAssertNil(note)
        let (shown, stride) = LogitLensTable.shownLayers(layers: 30, fit: 8)
        XCTAssertEqual(stride, 5)
        XCTAssertEqual(shown, [0, 5, 10, 15, 20, 25, 29])
        let wide = try LogitLensTable.table(tokens: ["a"], predictions: Array(repeating: ["z"], count: 30), width: 60)
        XCTAssertEqual(wide.rows[0].last, "next")
        XCTAssertTrue(wide.rows[0].contains("L29"))
        XCTAssertNotNil(wide.note)
    }
}
