import XCTest
import PersonaCore
@testable import PersonaSample

final class TextChecksTests: XCTestCase {
    func testLoopScoreOnAMeetingThatNeverEnds() {
        let looping = """
        Alice: can we move the meeting to 3?
        Ed: sure, 3 works
        Alice: actually can we move it to 4?
        Ed: sure, 4 works
        Alice: actually can we move it to 4?
        Ed: sure, 4 works
        Alice: actually can we move it to 4?
        Ed: sure, 4 works
        """
        let score = RepetitionScore.measure(looping)
        let loop = try? XCTUnwrap(score.loop)
        XCTAssertEqual(loop?.period, 12)   // "alice actually can we move it to 4 ed sure 4 works"
        // Three whole cycles, and the "works" that ended the exchange before them: 37 / 12 words.
        XCTAssertEqual(loop?.repeats ?? 0, 37.0 / 12.0, accuracy: 1e-9)
        XCTAssertEqual(loop?.cycle, "alice actually can we move it to 4 ed sure 4 works")
        // Lines: 8 non-empty, 4 repeat an earlier one.
        XCTAssertEqual(score.repeatedLineShare, 0.5, accuracy: 1e-9)
        // 3-grams: 44 words, 42 trigrams; the third and fourth exchanges (24 words) repeat
        // trigrams seen before, and so does "can we move"... counted exactly below.
        XCTAssertGreaterThan(score.repeatedNgramShare, 0.5)
        XCTAssertTrue(score.summary.contains("LOOP"))
    }

    func testNgramShareExact() {
        // "a b c a b c d": trigrams abc, bca, cab, abc(repeat), bcd → 1 of 5 repeated.
        let score = RepetitionScore.measure("a b c a b c d")
        XCTAssertEqual(score.repeatedNgramShare, 0.2, accuracy: 1e-12)
        XCTAssertNil(score.loop)
    }

    func testVariedConversationHasNoLoop() {
        let fine = """
        Alice: did you see the game last night?
        Ed: no, I was at my sister's, how was it?
        Alice: we lost in extra time, again
        Ed: classic. drinks on friday anyway?
        """
        let score = RepetitionScore.measure(fine)
        XCTAssertNil(score.loop)
        XCTAssertEqual(score.repeatedLineShare, 0)
        XCTAssertEqual(score.repeatedNgramShare, 0)
        // A short stutter is not a loop: "ha ha ha" is 3 words, under the 8-word minimum.
        XCTAssertNil(RepetitionScore.measure("that's so funny ha ha ha").loop)
        XCTAssertNotNil(RepetitionScore.measure("ok " + String(repeating: "lol ", count: 12)).loop)
    }

    func testSuffixArrayMatchesNaiveSort() {
        var rng = SeededGenerator(seed: 2)
        for n in [1, 2, 7, 50, 300] {
            for alphabet in [2, 4, 300] {
                let text = (0..<n).map { _ in Int32(rng.next() % UInt64(alphabet)) }
                XCTAssertEqual(SuffixArray(text, alphabetSize: alphabet).suffixes, SuffixArray.naive(text), "n=\(n) alphabet=\(alphabet)")
            }
        }
        let periodic = (0..<64).map { Int32($0 % 2) }
        XCTAssertEqual(SuffixArray(periodic, alphabetSize: 2).suffixes, SuffixArray.naive(periodic))
    }

    func testRegurgitationFindsTheLongestCopy() throws {
        let messages = [
            RegurgitationFinder.Message(id: 101, text: "see you at the station at half past six, don't be late this time"),
            RegurgitationFinder.Message(id: 102, text: "I'll bring the tent and the little blue stove from the garage"),
            RegurgitationFinder.Message(id: 103, text: "ok"),
            RegurgitationFinder.Message(id: 104, text: "café au lait at Théo's, then the 7:40 train"),
        ]
        let finder = RegurgitationFinder(messages: messages)
        let generated = "Ed: great! I'll bring the tent and the little blue stove from the garage, and you bring food"
        let match = try XCTUnwrap(finder.longestCopy(in: generated))
        XCTAssertEqual(match.messageId, 102)
        XCTAssertEqual(match.text, "I'll bring the tent and the little blue stove from the garage")
        XCTAssertEqual(match.characterCount, 61)
        XCTAssertTrue(match.flagged)
        XCTAssertEqual(match.generatedOffset, 11)
        // Short overlaps are found but not flagged; a match never spans two messages.
        let short = try XCTUnwrap(finder.longestCopy(in: "the station at half past nine"))
        XCTAssertEqual(short.text, "the station at half past ")
        XCTAssertEqual(short.messageId, 101)
        XCTAssertFalse(short.flagged)
        let spanning = try XCTUnwrap(finder.longestCopy(in: "this timeI'll bring"))
        XCTAssertEqual(spanning.text, "I'll bring")
        // Whole characters only.
        let accented = try XCTUnwrap(finder.longestCopy(in: "un café au lait at Théo's place"))
        XCTAssertEqual(accented.text, "café au lait at Théo's")
        XCTAssertEqual(accented.messageId, 104)
    }

    func testRegurgitationAgainstBruteForce() {
        var rng = SeededGenerator(seed: 9)
        let letters = Array("abc ")
        func randomText(_ n: Int) -> String { String((0..<n).map { _ in letters[Int(rng.next() % 4)] }) }
        for _ in 0..<30 {
            let messages = (0..<5).map { RegurgitationFinder.Message(id: Int64($0), text: randomText(20)) }
            let finder = RegurgitationFinder(messages: messages, threshold: 5)
            let generated = randomText(30)
            let g = Array(generated)
            var best = 0
            for i in 0..<g.count {
                for j in (i + 1)...g.count where j - i > best {
                    let piece = String(g[i..<j])
                    if messages.contains(where: { $0.text.contains(piece) }) { best = j - i }
                }
            }
            XCTAssertEqual(finder.longestCopy(in: generated)?.characterCount ?? 0, best)
        }
    }
}
