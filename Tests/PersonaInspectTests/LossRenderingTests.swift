import Foundation
import XCTest
@testable import PersonaInspect

/// A three-token vocabulary with hand-computed losses: row 0 is uniform (loss ln 3 for any
/// token), row 1 gives probabilities [¼, ½, ¼] (token 2 costs ln 4).
final class LossRenderingTests: XCTestCase {
    let ids: [Int32] = [0, 1, 2]
    let logits: [Float] = [0, 0, 0, 0, Float(log(2.0)), 0, 5, 5, 5]
    func label(_ id: Int32) -> String { ["a", " b", "\n"][Int(id)] }

    func report(mask: [Bool]? = nil) throws -> LossReport {
        try LossReport.compute(ids: ids, logits: logits, vocabSize: 3, mask: mask, topK: 2, label: label)
    }

    func testLossesProbabilitiesAndAlternativesMatchHandComputation() throws {
        let r = try report()
        XCTAssertNil(r.rows[0].loss)
        XCTAssertEqual(Double(r.rows[1].loss ?? 0), log(3.0), accuracy: 1e-6)
        XCTAssertEqual(Double(r.rows[2].loss ?? 0), log(4.0), accuracy: 1e-6)
        XCTAssertEqual(Double(r.rows[2].probability ?? 0), 0.25, accuracy: 1e-6)
        XCTAssertEqual(r.rows[2].alternatives.map(\.id), [1, 0])
        XCTAssertEqual(Double(r.rows[2].alternatives[0].probability), 0.5, accuracy: 1e-6)
        XCTAssertEqual(r.rows[1].alternatives.map(\.id), [0, 1], "ties keep the lower id first")
        XCTAssertEqual(r.meanLoss ?? 0, (log(3.0) + log(4.0)) / 2, accuracy: 1e-6)
        XCTAssertEqual(r.perplexity ?? 0, 12.0.squareRoot(), accuracy: 1e-5)
    }

    func testMaskDecidesWhatTheMeanCounts() throws {
        let r = try report(mask: [false, false, true])
        XCTAssertEqual(r.countedCount, 1)
        XCTAssertEqual(r.meanLoss ?? 0, log(4.0), accuracy: 1e-6)
        XCTAssertEqual(LossRendering.summary(r), "mean loss 1.3863 over 1 counted of 2 tokens, perplexity 4.00")
        XCTAssertEqual(LossRendering.heatMap(r, color: false), ["a ·b [↵ 1.39]"])
        XCTAssertEqual(try report(mask: [true, false, false]).meanLoss, nil, "position 0 has no loss to count")
    }

    func testPlainHeatMapTableAndSummary() throws {
        let r = try report()
        XCTAssertEqual(LossRendering.heatMap(r, color: false), ["a [·b 1.10] [↵ 1.39]"])
        XCTAssertEqual(LossRendering.heatMap(r, color: false, width: 12), ["a [·b 1.10]", "[↵ 1.39]"])
        XCTAssertEqual(LossRendering.table(r), [
            ["#", "token", "loss", "p", "top-2 alternatives"],
            ["0", "a", "-", "-", ""],
            ["1", "·b", "1.099", "0.333", "a 0.333  *·b 0.333"],
            ["2", "↵", "1.386", "0.250", "·b 0.500  a 0.250"],
        ])
        XCTAssertEqual(LossRendering.summary(r), "mean loss 1.2425 over 2 tokens, perplexity 3.46")
        XCTAssertFalse(LossRendering.legend(color: false, masked: true).contains("\u{1B}"))
    }

    func testColorHeatMapShadesByBinAndKeepsLineBreaks() throws {
        let lines = LossRendering.heatMap(try report(mask: [false, true, true]), color: true)
        XCTAssertEqual(lines.count, 2, "the newline token ends the line")
        // ln 3 ≈ 1.10 falls in the 1–2 bin (colour 142), ln 4 ≈ 1.39 too.
        XCTAssertEqual(lines[0], ANSI.dim + "a" + ANSI.reset + ANSI.background(142) + ANSI.foreground(16) + " b" + ANSI.reset
                       + ANSI.background(142) + ANSI.foreground(16) + "↵" + ANSI.reset)
        XCTAssertEqual(lines[1], "")
        XCTAssertEqual(LossRendering.bin(0.1), 0)
        XCTAssertEqual(LossRendering.bin(6), 6)
        XCTAssertEqual(LossRendering.bin(100), LossRendering.binColors.count - 1)
        XCTAssertTrue(LossRendering.legend(color: true, masked: false).contains(ANSI.background(160) + ANSI.foreground(231) + " ≥6 "))
    }

    func testBadShapesAreErrorsNotTraps() {
        XCTAssertThrowsError(try LossReport.compute(ids: [0, 1], logits: [0, 0, 0], vocabSize: 3, label: label))
        XCTAssertThrowsError(try LossReport.compute(ids: [0, 7], logits: [Float](repeating: 0, count: 6), vocabSize: 3, label: label))
        XCTAssertThrowsError(try LossReport.compute(ids: [0, 1], logits: [Float](repeating: 0, count: 6), vocabSize: 3, mask: [true], label: label))
    }

    func testColorIsOffUnderNoColorPipesAndRecordings() {
        XCTAssertTrue(ColorChoice.enabled(setting: true, environment: [:], isTerminal: true, recording: false))
        XCTAssertFalse(ColorChoice.enabled(setting: true, environment: ["NO_COLOR": "1"], isTerminal: true, recording: false))
        XCTAssertTrue(ColorChoice.enabled(setting: true, environment: ["NO_COLOR": ""], isTerminal: true, recording: false),
                      "an empty NO_COLOR does not count (no-color.org)")
        XCTAssertFalse(ColorChoice.enabled(setting: true, environment: [:], isTerminal: false, recording: false))
        XCTAssertFalse(ColorChoice.enabled(setting: true, environment: [:], isTerminal: true, recording: true))
        XCTAssertFalse(ColorChoice.enabled(setting: false, environment: [:], isTerminal: true, recording: false))
    }

    func testTokenLabelsShowWhitespaceAndCutLongText() {
        XCTAssertEqual(TokenLabel.visible(" the\n\t\u{7}"), "·the↵→\\u{7}")
        XCTAssertEqual(TokenLabel.visible(""), "∅")
        XCTAssertEqual(TokenLabel.visible("abcdefgh", width: 5), "abcd…")
        XCTAssertEqual(TokenLabel.visible("abc", width: 5), "abc")
    }

    func testPerplexityTallyAndTextLines() throws {
        var tally = PerplexityTally()
        try tally.add(nll: [1, 3])
        try tally.add(nll: [])
        try tally.add(nll: [2, 10], mask: [false, true, false])
        XCTAssertEqual(tally.texts, 3)
        XCTAssertEqual(tally.skipped, 1)
        XCTAssertEqual(tally.tokens, 3)
        XCTAssertEqual(tally.meanLoss ?? 0, 2, accuracy: 1e-12)
        XCTAssertEqual(tally.summary, "texts 3 (1 with nothing to score), tokens 3, mean loss 2.0000, perplexity 7.39")
        XCTAssertThrowsError(try tally.add(nll: [1], mask: [true]))

        XCTAssertEqual(TextLines.parse("\"a\\nb\"\n\n{\"text\": \"c\"}\n"), ["a\nb", "c"])
        XCTAssertEqual(TextLines.parse("plain one\n\"quoted\" two\r\n"), ["plain one", "\"quoted\" two"])
    }
}
