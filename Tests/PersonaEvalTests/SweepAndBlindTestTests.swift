import Foundation
import XCTest
import PersonaCore
@testable import PersonaEval

final class SweepAndBlindTestTests: XCTestCase {
    func testSweepSpaceGridRandomPointsAndErrors() throws {
        let space = try SweepSpace(parsing: "lr=1e-4,3e-4,1e-3 rank=8,16 steps=200,400")
        XCTAssertEqual(space.grid.count, 12)
        XCTAssertEqual(space.describe(space.grid[0]), "lr=1e-4 rank=8 steps=200")
        XCTAssertEqual(space.describe(space.grid[11]), "lr=1e-3 rank=16 steps=400")
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
        let picked = space.randomPoints(5, rng: &a)
        XCTAssertEqual(picked, space.randomPoints(5, rng: &b))
        XCTAssertEqual(Set(picked.map { space.describe($0) }).count, 5)
        XCTAssertEqual(space.randomPoints(50, rng: &a).count, 12)
        XCTAssertEqual(SweepSpace.parse(point: "lr=1e-4 rank=8"), ["lr": "1e-4", "rank": "8"])
        XCTAssertThrowsError(try SweepSpace(parsing: "lr=1e-4 depth=3"))
        XCTAssertThrowsError(try SweepSpace(parsing: "rank=8,x"))
        XCTAssertThrowsError(try SweepSpace(parsing: "rank=8 rank=16"))
        XCTAssertThrowsError(try SweepSpace(parsing: "   "))
    }

    func testHalvingKeepsTheBetterHalf() {
        let losses: [Int: Double] = [0: 2.0, 1: 1.0, 2: 3.0, 3: 1.5, 4: .nan]
        XCTAssertEqual(SuccessiveHalving.survivors(losses, lowerIsBetter: true), [0, 1, 3])
        XCTAssertEqual(SuccessiveHalving.survivors([0: 0.2, 1: 0.9, 2: 0.5, 3: 0.9], lowerIsBetter: false), [1, 3])
        XCTAssertEqual(SuccessiveHalving.rungs(points: 8), [0.25, 0.5, 1])
        XCTAssertEqual(SuccessiveHalving.rungs(points: 1), [1])
    }

    func testMarginalMeans() throws {
        let space = try SweepSpace(parsing: "rank=8,16 lr=1e-3")
        let rows = MarginalMeans.table(space: space, points: [(point: ["rank": "8", "lr": "1e-3"], score: 1.0), (point: ["rank": "16", "lr": "1e-3"], score: 2.0)])
        XCTAssertEqual(rows[1], ["rank", "8", "1", "1.0000"])
        XCTAssertEqual(rows[2], ["rank", "16", "1", "2.0000"])
        XCTAssertEqual(rows[3], ["lr", "1e-3", "2", "1.5000"])
    }

    func testBlindTestScoresScriptedAnswers() {
        var rng = SeededGenerator(seed: 3)
        let test = BlindTest(real: ["r1", "r2", "r3", "r4"], generated: ["g1", "g2", "g3"], count: 6, pairs: false, rng: &rng)
        XCTAssertEqual(test.items.count, 6)
        XCTAssertEqual(test.items.filter { !$0.isReal }.count, 3)
        // Calling everything real: every generated snippet was judged real, the real ones right.
        let allReal = test.items.map { _ in test.parseAnswer("real")! }
        XCTAssertEqual(test.score(allReal), BlindTest.Score(generatedJudgedReal: 1, generatedShown: 3, correct: 3, answered: 6))
        // Perfect answers.
        let perfect = test.items.map { $0.isReal ? 1 : 0 }
        XCTAssertEqual(test.score(perfect).generatedJudgedReal, 0)
        XCTAssertEqual(test.score(perfect).correct, 6)
        XCTAssertNil(test.parseAnswer("maybe"))
        XCTAssertEqual(test.parseAnswer(" G "), 0)

        var rng2 = SeededGenerator(seed: 3)
        XCTAssertEqual(BlindTest(real: ["r1", "r2", "r3", "r4"], generated: ["g1", "g2", "g3"], count: 6, pairs: false, rng: &rng2), test)

        let pairs = BlindTest(real: ["r1", "r2"], generated: ["g1", "g2"], count: 2, pairs: true, rng: &rng)
        XCTAssertEqual(pairs.items.count, 2)
        for item in pairs.items { XCTAssertTrue(item.snippets[item.realIndex!].hasPrefix("r")) }
        let wrong = pairs.items.map { 1 - $0.realIndex! }
        XCTAssertEqual(pairs.score(wrong).generatedJudgedReal, 1)
        XCTAssertEqual(pairs.parseAnswer("2"), 1)
    }
}
