import Foundation
import XCTest
import PersonaCore
import PersonaData
import PersonaSample
@testable import PersonaEval

/// The metrics of `eval` on constructed texts whose values are known.
final class MetricsTests: XCTestCase {
    func testLoopRateCountsConversationsEndingInACycle() {
        let loop = "A: are you free on monday\nB: no how about tuesday\n" + String(repeating: "A: ok tuesday then\nB: ok tuesday then\n", count: 4)
        let plain = "A: are you free on monday\nB: yes see you at noon by the station\nA: great, bring the book"
        XCTAssertEqual(LoopRate.measure([loop, plain]), 0.5)
        XCTAssertEqual(LoopRate.measure([plain]), 0)
        XCTAssertEqual(LoopRate.measure([]), 0)
    }

    func testACopyOfExactlyFortyCharactersCountsAndThirtyNineDoesNot() {
        let forty = "the ferry to the island leaves at 7.45am"
        XCTAssertEqual(forty.count, 40)
        let finder = RegurgitationFinder(messages: [
            .init(id: 1, text: "Q: " + forty + " sharp"),
            .init(id: 2, text: "something else entirely"),
        ])
        let exact = "(" + forty + ")"
        let short = "(" + String(forty.dropLast()) + ")"
        let shares = CopyShare.measure([exact, short, "nothing here"], against: finder)
        XCTAssertEqual(shares.copies, 1)
        XCTAssertEqual(shares.messages, 3)
        XCTAssertEqual(shares.share, 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(shares.examples.first?.characters, 40)
        XCTAssertEqual(shares.examples.first?.copied, forty)
        XCTAssertEqual(shares.examples.first?.sourceMessage, "Q: " + forty + " sharp")
        XCTAssertEqual(CopyShare.measure([short], against: finder).copies, 0)
    }

    /// Two invented writers: one short, lower case, with emoji and "lol"; one long, formal and
    /// capitalised. Messages are drawn from word lists with a fixed seed.
    static func writers(count: Int, seed: UInt64) -> (casual: [String], formal: [String]) {
        var rng = SeededGenerator(seed: seed)
        let casualWords = ["lol", "omg", "ya", "nah", "gonna", "sooo", "k", "haha", "u", "tmrw", "brb", "idk"]
        let formalWords = ["Certainly", "However,", "regarding", "the", "arrangements", "Thursday.", "Kind", "regards,",
                           "I", "would", "appreciate", "confirmation."]
        func pick(_ words: [String], _ n: Int) -> String {
            (0..<n).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ")
        }
        let casual = (0..<count).map { i in pick(casualWords, 3 + i % 3) + (i % 2 == 0 ? " 😂" : "") }
        let formal = (0..<count).map { i in pick(formalWords, 8 + i % 5) }
        return (casual, formal)
    }

    func testClassifierTellsTwoSyntheticWritersApart() {
        let train = Self.writers(count: 60, seed: 1)
        let classifier = SpeakerClassifier(training: ["Casey": train.casual, "Morgan": train.formal])
        XCTAssertEqual(classifier.speakers, ["Casey", "Morgan"])
        let test = Self.writers(count: 30, seed: 2)
        let casual = classifier.score(stride(from: 0, to: 30, by: 3).map { SpeakerSample(partner: "Morgan", texts: Array(test.casual[$0..<($0 + 3)])) }, as: "Casey")
        let formal = classifier.score(stride(from: 0, to: 30, by: 3).map { SpeakerSample(partner: "Casey", texts: Array(test.formal[$0..<($0 + 3)])) }, as: "Morgan")
        for s in [casual, formal] {
            XCTAssertEqual(s.messages, 30)
            XCTAssertEqual(s.conversations, 10)
            XCTAssertGreaterThanOrEqual(s.perMessage, 0.95)
            XCTAssertEqual(s.perConversation, 1)
            XCTAssertEqual(s.pairwisePerConversation, 1)
        }
        // The casual writer's messages signed as the formal one score zero.
        let swapped = classifier.score([SpeakerSample(partner: "Casey", texts: test.casual)], as: "Morgan")
        XCTAssertEqual(swapped.perConversation, 0)
        XCTAssertLessThanOrEqual(swapped.perMessage, 0.05)
        // Someone the classifier never saw is never found.
        XCTAssertEqual(classifier.score([SpeakerSample(partner: "Casey", texts: ["hi"])], as: "Nobody").perMessage, 0)
    }

    func testLengthAndShareStatistics() {
        let style = StyleProfile(messages: ["ok", "Are you there?", "sooo good 😀", "Yes."])
        XCTAssertEqual(style.messages, 4)
        XCTAssertEqual(style.meanLength, (2.0 + 14 + 11 + 4) / 4, accuracy: 1e-12)
        XCTAssertEqual(style.medianLength, (4.0 + 11) / 2, accuracy: 1e-12)
        XCTAssertEqual(style.emojiShare, 0.25)
        XCTAssertEqual(style.questionShare, 0.25)
        XCTAssertEqual(style.lowercaseShare, 0.5)
        XCTAssertEqual(style.repeatedLetterShare, 0.25)
        XCTAssertEqual(StyleProfile(messages: ["a", "abc", "abcde"]).medianLength, 3)
        XCTAssertFalse(StyleProfile.hasEmoji("call 911 #1 *"))
        XCTAssertEqual(StyleProfile(messages: []).meanLength, 0)
    }

    func testDistinctNAndTheSameWordCountComparison() {
        XCTAssertEqual(DistinctN.score(["a b a b"], n: 1), 0.5, accuracy: 1e-12)
        XCTAssertEqual(DistinctN.score(["a b a b"], n: 2), 2.0 / 3.0, accuracy: 1e-12)
        // n-grams do not run across messages.
        XCTAssertEqual(DistinctN.score(["a b", "a b"], n: 2), 0.5, accuracy: 1e-12)
        XCTAssertEqual(DistinctN.score(["Hi!", "hi"], n: 1), 0.5, accuracy: 1e-12)
        // 200 words in runs of "w0 … w9": any 10 consecutive words are all different, any 20 half.
        let real = (0..<20).map { _ in (0..<10).map { "w\($0)" }.joined(separator: " ") }
        var rng = SeededGenerator(seed: 5)
        XCTAssertEqual(DistinctN.matched(real: real, wordCount: 10, n: 1, rng: &rng), 1, accuracy: 1e-12)
        XCTAssertEqual(DistinctN.matched(real: real, wordCount: 20, n: 1, rng: &rng), 0.5, accuracy: 1e-12)
        XCTAssertEqual(DistinctN.matched(real: real, wordCount: 10_000, n: 1, rng: &rng), 10.0 / 200.0, accuracy: 1e-12)
    }

    func testRealMessagesAreTakenOnceWithTheirSplitAndPartner() {
        func turn(_ me: Bool, _ text: String, _ id: Int64) -> ChunkTurn {
            ChunkTurn(fromMe: me, name: me ? "Sam" : "Alex", text: text, counted: true, sourceIDs: [id])
        }
        func chunk(_ id: Int, _ split: DatasetSplit, _ turns: [ChunkTurn]) -> Chunk {
            Chunk(id: id, text: "", tokens: [], mask: [], split: split, personName: "Alex", meName: "Sam", personID: 1,
                  conversationID: 1, sourceMessageIDs: turns.flatMap(\.sourceIDs), messageCount: turns.count, overlapCount: 0,
                  firstMessageAt: Date(timeIntervalSince1970: 0), headerText: "", turns: turns)
        }
        let dataset = Dataset(name: "d", parameters: DatasetParameters(), formatVersion: 1, chunks: [
            chunk(0, .train, [turn(true, "hi", 1), turn(false, "hey", 2)]),
            chunk(1, .train, [turn(false, "hey", 2), turn(true, "lunch?", 3)]),
            chunk(2, .test, [turn(false, "sure", 4), turn(false, "  ", 5), turn(true, "great", 6), turn(true, "see you", 7)]),
        ], report: BuildReport())
        let real = RealMessages(dataset: dataset)
        XCTAssertEqual(real.me, "Sam")
        XCTAssertEqual(real.contacts, ["Alex"])
        XCTAssertEqual(real.texts(of: "Alex"), ["hey", "sure"])
        XCTAssertEqual(real.texts(of: "Sam", split: .train), ["hi", "lunch?"])
        XCTAssertEqual(real.trainingBySpeaker["Alex"], ["hey"])
        XCTAssertEqual(real.messages(of: "Sam", split: .test).map(\.partner), ["Alex", "Alex"])
        XCTAssertEqual(real.heldOutSamples(of: "Sam", size: 1).map(\.texts), [["great"], ["see you"]])
        XCTAssertEqual(real.heldOutSamples(of: "Sam", size: 2).map(\.texts), [["great", "see you"]])
        // A short remainder is kept only when it is the conversation's only sample.
        XCTAssertEqual(real.heldOutSamples(of: "Sam", size: 5).map(\.texts), [["great", "see you"]])
        XCTAssertEqual(real.partners(of: "Sam"), ["Alex"])
        XCTAssertEqual(real.partners(of: "Alex"), ["Sam"])
    }
}
