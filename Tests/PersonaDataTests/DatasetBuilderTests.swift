import Foundation
import PersonaCore
import PersonaStore
import PersonaText
import XCTest
@testable import PersonaData

final class FormatTests: XCTestCase {
    func parameters(_ change: (inout DatasetParameters) -> Void = { _ in }) -> DatasetParameters {
        var p = DatasetParameters()
        p.minMessages = 1
        p.testFraction = 0
        p.maxTokens = 10_000
        change(&p)
        return p
    }

    func testDonnerLayoutByteForByte() throws {
        let p = parameters { $0.reactions = true }
        let d = try DatasetBuilder.build(name: "d", conversations: [Fixtures.handyman()], parameters: p, tokenizer: ByteTokenizer())
        XCTAssertEqual(d.chunks.count, 1)
        let expected = """
        <<SYS>>Write a realistic text message chat. Avoid repetition.<</SYS>>
        [INST]Write a chat between Edward and Josh[/INST]

        ### Josh: Thanks Ed will call you soon
        ### Josh: Hi Ed give me a call about the paint
        ### Edward: Liked “Hi Ed give me a call about the paint”
        ### Edward: hey Josh. Any chance you could paint this week? Wed or Thurs?
        ### Edward: on a call, free in an hour
        ### Josh: Just call me when you can

        """
        XCTAssertEqual(d.chunks[0].text, expected)
        XCTAssertEqual(Array(d.chunks[0].text.utf8), Array(expected.utf8))
        XCTAssertEqual(d.chunks[0].sourceMessageIDs, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(d.formatVersion, 1)
    }

    func testReactionsLeftOutByDefault() throws {
        let d = try DatasetBuilder.build(name: "d", conversations: [Fixtures.handyman()], parameters: parameters(), tokenizer: ByteTokenizer())
        XCTAssertFalse(d.chunks[0].text.contains("Liked"))
        XCTAssertEqual(d.chunks[0].sourceMessageIDs, [1, 2, 4, 5, 6])
        XCTAssertEqual(d.report.messagesDropped, 1)
    }

    func testWhitespaceOnlyMessagesAreLeftOut() throws {
        var conversation = Fixtures.handyman()
        conversation.messages.insert(Fixtures.message(7, true, "Edward", 4.5, " \u{3000}\t "), at: 5)
        let d = try DatasetBuilder.build(name: "d", conversations: [conversation], parameters: parameters(), tokenizer: ByteTokenizer())
        XCTAssertEqual(d.chunks[0].sourceMessageIDs, [1, 2, 4, 5, 6])
        XCTAssertFalse(d.chunks[0].text.contains("\u{3000}"))
        XCTAssertEqual(d.report.messagesDropped, 2)  // the reaction and the blank message
    }

    func testTranscriptMergeAndTemplate() throws {
        let merged = try DatasetBuilder.build(name: "t", conversations: [Fixtures.handyman()],
                                              parameters: parameters { $0.format = .transcript; $0.merge = true; $0.mergeSeparator = " / " },
                                              tokenizer: ByteTokenizer())
        XCTAssertEqual(merged.chunks[0].text, """
        A text message conversation between Edward and Josh.

        Josh: Thanks Ed will call you soon / Hi Ed give me a call about the paint
        Edward: hey Josh. Any chance you could paint this week? Wed or Thurs? / on a call, free in an hour
        Josh: Just call me when you can

        """)
        XCTAssertEqual(merged.chunks[0].messageCount, 3)

        let templated = try DatasetBuilder.build(name: "u", conversations: [Fixtures.handyman()],
                                                 parameters: parameters {
                                                     $0.format = .template
                                                     $0.template = "{me} and {them} ({relationship}), {date}:\n{messages}-- end"
                                                     $0.relationships = ["Josh": "his handyman"]
                                                 }, tokenizer: ByteTokenizer())
        let text = templated.chunks[0].text
        XCTAssertTrue(text.hasPrefix("Edward and Josh (his handyman), Tue 12 March 2024:\nJosh: Thanks Ed will call you soon\n"), text)
        XCTAssertTrue(text.hasSuffix("Josh: Just call me when you can\n-- end"))
        // The footer is never counted.
        let chunk = templated.chunks[0]
        XCTAssertFalse(chunk.mask.suffix(6).contains(true))
        XCTAssertThrowsError(try UserTemplate("no messages here {me}"))
        XCTAssertThrowsError(try UserTemplate("{messages} {messages}"))
        XCTAssertThrowsError(try UserTemplate("{nickname}: {messages}"))
        XCTAssertNoThrow(try UserTemplate("literal {braces with spaces} and {} {messages}"))
    }

    func testChatFormatRolesAndMask() throws {
        let p = parameters { $0.format = .chat; $0.imitate = .them; $0.relationships = ["Josh": "his handyman"] }
        let d = try DatasetBuilder.build(name: "c", conversations: [Fixtures.handyman()], parameters: p, tokenizer: ByteTokenizer())
        let chunk = d.chunks[0]
        XCTAssertTrue(chunk.text.hasPrefix("<|im_start|>system\nA text conversation between Edward and Josh, his handyman, on Tue 12 March 2024. You are Josh.<|im_end|>\n<|im_start|>assistant\nThanks Ed will call you soon<|im_end|>\n"), chunk.text)
        XCTAssertTrue(chunk.text.contains("<|im_start|>user\non a call, free in an hour<|im_end|>\n"))
        // Specials are single tokens; counted tokens are exactly Josh's contents and their <|im_end|>.
        XCTAssertEqual(chunk.tokens.filter { $0 == 256 }.count, 6)
        let counted = zip(chunk.tokens, chunk.mask).filter { $0.1 }.map { $0.0 }
        XCTAssertEqual(ByteTokenizer().decode(counted),
                       "Thanks Ed will call you soon<|im_end|>Hi Ed give me a call about the paint<|im_end|>Just call me when you can<|im_end|>")
    }

    func testCalendarText() {
        XCTAssertEqual(CalendarText.longDate(Fixtures.start), "Tue 12 March 2024")
        XCTAssertEqual(CalendarText.longDate(Date(timeIntervalSince1970: 0)), "Thu 1 January 1970")
        XCTAssertEqual(CalendarText.longDate(Date(timeIntervalSince1970: 951_782_400)), "Tue 29 February 2000")
        XCTAssertEqual(CalendarText.isoDay(Date(timeIntervalSince1970: -86400)), "1969-12-31")
    }
}

final class PackingTests: XCTestCase {
    func build(_ conversations: [TrainingConversation], tokenizer: Tokenizer,
               _ change: (inout DatasetParameters) -> Void) throws -> Dataset {
        var p = DatasetParameters()
        p.minMessages = 1
        change(&p)
        return try DatasetBuilder.build(name: "x", conversations: conversations, parameters: p, tokenizer: tokenizer)
    }

    /// With a tokenizer that has no boundary effects, every chunk is exactly maximal: the
    /// next message of its segment would not have fitted.
    func testExactGreedyPackingUnderBudget() throws {
        let tokenizer = ByteTokenizer()
        let conversation = Fixtures.conversation(id: 1, them: "Alice", count: 400)
        let d = try build([conversation], tokenizer: tokenizer) { $0.maxTokens = 300; $0.testFraction = 0 }
        XCTAssertGreaterThan(d.chunks.count, 10)
        let byID = Dictionary(uniqueKeysWithValues: conversation.messages.map { ($0.id, $0) })
        let order = conversation.messages.map(\.id)
        for chunk in d.chunks {
            XCTAssertLessThanOrEqual(chunk.tokens.count, 300)
            XCTAssertEqual(chunk.tokens, tokenizer.encode(chunk.text, parseSpecialTokens: false))
            XCTAssertEqual(chunk.mask.count, chunk.tokens.count)
            // Maximal: adding the next message of the same session would overflow.
            guard let last = chunk.sourceMessageIDs.last, let index = order.firstIndex(of: last), index + 1 < order.count,
                  let next = byID[order[index + 1]], let lastMessage = byID[last],
                  next.sentAt.timeIntervalSince(lastMessage.sentAt) <= 4 * 3600 else { continue }
            let line = "### \(next.senderName): \(next.text)\n"
            XCTAssertGreaterThan(chunk.tokens.count + line.utf8.count, 300, "chunk \(chunk.id) could have held one more message")
        }
        XCTAssertEqual(d.report.messagesUsed, 400)
        XCTAssertEqual(d.report.slowAlignments, 0)
    }

    /// With boundary effects, counts come from the joined text and still never exceed the budget,
    /// and the mask still follows the messages.
    func testExactCountWithBoundaryEffects() throws {
        let tokenizer = SpaceWordTokenizer()
        let d = try build([Fixtures.conversation(id: 2, them: "Bob", count: 300)], tokenizer: tokenizer) {
            $0.maxTokens = 60; $0.imitate = .them; $0.testFraction = 0
        }
        XCTAssertGreaterThan(d.report.slowAlignments, 0, "the fixture should exercise the decode alignment")
        for chunk in d.chunks {
            XCTAssertLessThanOrEqual(chunk.tokens.count, 60)
            XCTAssertEqual(chunk.tokens, tokenizer.encode(chunk.text, parseSpecialTokens: false))
            XCTAssertEqual(chunk.mask.count, chunk.tokens.count)
            // Each token's flag is that of the line its first byte lies in.
            var offset = 0
            let lines = lineOwners(chunk.text)
            for (token, counted) in zip(chunk.tokens, chunk.mask) {
                XCTAssertEqual(counted, lines(offset), "chunk \(chunk.id) byte \(offset)")
                offset += tokenizer.decode([token]).utf8.count
            }
        }
    }

    /// For a donner chunk, whether the byte at an offset belongs to Bob's line (header: no).
    func lineOwners(_ text: String) -> (Int) -> Bool {
        var owners: [Bool] = []
        var headerLines = 3
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let counted = headerLines == 0 && line.hasPrefix("### Bob: ")
            if headerLines > 0 { headerLines -= 1 }
            owners.append(contentsOf: repeatElement(counted, count: line.utf8.count + 1))
        }
        return { owners.indices.contains($0) ? owners[$0] : false }
    }

    func testLongMessageIsCutAtWordsNeverDropped() throws {
        let tokenizer = ByteTokenizer()
        let words = (0..<200).map { "word\($0)" }
        let long = words.joined(separator: " ")
        var conversation = Fixtures.handyman()
        conversation.messages.insert(Fixtures.message(99, true, "Edward", 2.5, long), at: 3)
        let d = try build([conversation], tokenizer: tokenizer) { $0.maxTokens = 250; $0.testFraction = 0 }
        XCTAssertEqual(d.report.splitMessages, 1)
        var pieces: [String] = []
        for chunk in d.chunks {
            XCTAssertLessThanOrEqual(chunk.tokens.count, 250)
            for turn in chunk.turns where turn.sourceIDs == [99] { pieces.append(turn.text) }
        }
        XCTAssertGreaterThan(pieces.count, 2)
        XCTAssertTrue(pieces[0].hasSuffix(" …"))
        XCTAssertTrue(pieces[1].hasPrefix("… "))
        let rejoined = pieces.map { $0.replacingOccurrences(of: "… ", with: "").replacingOccurrences(of: " …", with: "") }
            .joined(separator: " ")
        XCTAssertEqual(rejoined, long)
        // A word longer than the whole budget is cut inside the word.
        var huge = Fixtures.handyman()
        huge.messages[0].text = String(repeating: "a", count: 1000)
        let h = try build([huge], tokenizer: tokenizer) { $0.maxTokens = 200; $0.testFraction = 0 }
        XCTAssertEqual(h.report.splitMessages, 1)
        XCTAssertTrue(h.chunks.allSatisfy { $0.tokens.count <= 200 })
        let hugeTurns: [ChunkTurn] = h.chunks.flatMap { $0.turns }.filter { $0.sourceIDs == [1] }
        var letters = 0
        for turn in hugeTurns { letters += turn.text.unicodeScalars.filter { $0 == "a" }.count }
        XCTAssertEqual(letters, 1000)
    }

    func testBudgetSmallerThanHeaderIsAClearError() {
        XCTAssertThrowsError(try build([Fixtures.handyman()], tokenizer: ByteTokenizer()) { $0.maxTokens = 50 }) { error in
            guard case DataError.budgetTooSmall(50, _, "Josh")? = error as? DataError else { return XCTFail("\(error)") }
        }
    }

    func testSessionsSplitChunksUnlessAsked() throws {
        let conversation = Fixtures.conversation(id: 3, them: "Cleo", count: 60)
        let d = try build([conversation], tokenizer: ByteTokenizer()) { $0.maxTokens = 100_000; $0.testFraction = 0 }
        XCTAssertEqual(d.chunks.map(\.messageCount), [20, 20, 20])
        let spanning = try build([conversation], tokenizer: ByteTokenizer()) { $0.maxTokens = 100_000; $0.testFraction = 0; $0.spanSessions = true }
        XCTAssertEqual(spanning.chunks.map(\.messageCount), [60])
    }

    func testOverlapOpensNextChunkAsUncountedContext() throws {
        let conversation = Fixtures.conversation(id: 4, them: "Dan", count: 20)
        let d = try build([conversation], tokenizer: ByteTokenizer()) { $0.maxTokens = 450; $0.testFraction = 0; $0.overlap = 2 }
        XCTAssertGreaterThan(d.chunks.count, 2)
        for (a, b) in zip(d.chunks, d.chunks.dropFirst()) {
            XCTAssertEqual(b.overlapCount, 2)
            XCTAssertEqual(Array(a.sourceMessageIDs.suffix(2)), Array(b.sourceMessageIDs.prefix(2)))
            XCTAssertFalse(b.turns[0].counted || b.turns[1].counted)
        }
        // Every message is shown, and counted exactly once.
        let counted: [Int64] = d.chunks.flatMap { (c: Chunk) -> [Int64] in c.turns.filter { $0.counted }.flatMap { $0.sourceIDs } }
        XCTAssertEqual(counted, conversation.messages.map(\.id))
    }
}

final class MaskAndSplitTests: XCTestCase {
    func build(_ conversations: [TrainingConversation], threads: Int = 2, _ change: (inout DatasetParameters) -> Void) throws -> Dataset {
        var p = DatasetParameters()
        p.minMessages = 1
        change(&p)
        return try DatasetBuilder.build(name: "x", conversations: conversations, parameters: p, tokenizer: ByteTokenizer(), threads: threads)
    }

    func testMasksCoverOnlyTheImitatedPersonNeverTheHeader() throws {
        for target in ImitationTarget.allCases {
            let d = try build([Fixtures.handyman()]) { $0.imitate = target; $0.testFraction = 0; $0.maxTokens = 2000 }
            let chunk = d.chunks[0]
            let counted = String(decoding: zip(chunk.tokens, chunk.mask).filter { $0.1 }.map { UInt8($0.0) }, as: UTF8.self)
            let joshLines = "### Josh: Thanks Ed will call you soon\n### Josh: Hi Ed give me a call about the paint\n"
            let edLines = "### Edward: hey Josh. Any chance you could paint this week? Wed or Thurs?\n### Edward: on a call, free in an hour\n"
            let lastJosh = "### Josh: Just call me when you can\n"
            switch target {
            case ImitationTarget.them: XCTAssertEqual(counted, joshLines + lastJosh)
            case .me: XCTAssertEqual(counted, edLines)
            case .both: XCTAssertEqual(counted, joshLines + edLines + lastJosh)
            }
            XCTAssertFalse(chunk.mask.prefix(chunk.headerText.utf8.count).contains(true))
        }
    }

    func testTimeSplitHasNoLeakage() throws {
        let conversations = (1...4).map { Fixtures.conversation(id: Int64($0), them: "P\($0)", count: 300 + 37 * $0) }
        for overlap in [0, 3] {
            let d = try build(conversations) { $0.maxTokens = 200; $0.testFraction = 0.2; $0.overlap = overlap }
            let stats = DatasetStatistics(d)
            XCTAssertEqual(stats.messagesInBothSplits, 0)
            for conversation in conversations {
                let chunks = d.chunks.filter { $0.conversationID == conversation.conversationID }
                let trainIDs: [Int64] = chunks.filter { $0.split == .train }.flatMap { $0.sourceMessageIDs }
                let testIDs: [Int64] = chunks.filter { $0.split == .test }.flatMap { $0.sourceMessageIDs }
                let latestTrain = trainIDs.max() ?? 0
                let earliestTest = testIDs.min() ?? 0
                XCTAssertLessThan(latestTrain, earliestTest, "test must come strictly after train")
                let testMessages = Set(testIDs).count
                XCTAssertEqual(testMessages, Int((Double(conversation.messages.count) * 0.2).rounded()))
            }
        }
    }

    func testRandomSplitIsSeededAndNeverSharesAMessage() throws {
        let conversations = (1...2).map { Fixtures.conversation(id: Int64($0), them: "P\($0)", count: 240, longEvery: 80) }
        for overlap in [0, 2] {
            let a = try build(conversations) { $0.split = .random; $0.testFraction = 0.3; $0.overlap = overlap; $0.maxTokens = 180 }
            let b = try build(conversations) { $0.split = .random; $0.testFraction = 0.3; $0.overlap = overlap; $0.maxTokens = 180 }
            let c = try build(conversations) { $0.split = .random; $0.testFraction = 0.3; $0.overlap = overlap; $0.maxTokens = 180; $0.seed = 7 }
            XCTAssertEqual(a.chunks, b.chunks)
            XCTAssertNotEqual(a.chunks.map(\.split), c.chunks.map(\.split))
            XCTAssertEqual(DatasetStatistics(a).messagesInBothSplits, 0)
            XCTAssertGreaterThan(a.report.splitMessages, 0)
            let testShare = Double(a.chunks(split: .test).count) / Double(a.chunks.count)
            XCTAssertTrue((0.15...0.45).contains(testShare), "\(testShare)")
        }
    }

    func testDeterministicAcrossThreadCounts() throws {
        let conversations = (1...4).map { Fixtures.conversation(id: Int64($0), them: "P\($0)", count: 80 + 20 * $0) }
        let one = try build(conversations, threads: 1) { $0.maxTokens = 150 }
        let two = try build(conversations, threads: 2) { $0.maxTokens = 150 }
        let four = try build(conversations, threads: 4) { $0.maxTokens = 150 }
        XCTAssertEqual(one.chunks, two.chunks)
        XCTAssertEqual(one.chunks, four.chunks)
        XCTAssertEqual(one.report, two.report)
    }

    func testMinMessagesLeavesOutSmallConversations() throws {
        let d = try build([Fixtures.conversation(id: 1, them: "Big", count: 50), Fixtures.conversation(id: 2, them: "Small", count: 10)]) {
            $0.minMessages = 20
        }
        XCTAssertEqual(Set(d.chunks.map(\.personName)), ["Big"])
        XCTAssertEqual(d.report.conversationsSkipped, 1)
        XCTAssertThrowsError(try build([Fixtures.conversation(id: 2, them: "Small", count: 10)]) { $0.minMessages = 20 })
    }

    func testParameterValidation() {
        XCTAssertThrowsError(try build([Fixtures.handyman()]) { $0.testFraction = 1 })
        XCTAssertThrowsError(try build([Fixtures.handyman()]) { $0.maxTokens = 0 })
        XCTAssertThrowsError(try build([Fixtures.handyman()]) { $0.format = .template })
        XCTAssertEqual(DatasetParameters.parseDuration("4h"), 14400)
        XCTAssertEqual(DatasetParameters.parseDuration("90"), 90)
        XCTAssertNil(DatasetParameters.parseDuration("-3m"))
        XCTAssertNil(DatasetParameters.parseDuration("h"))
        var p = DatasetParameters()
        p.relationships = ["Alice": "his sister"]
        XCTAssertEqual(try DatasetParameters.fromJSON(p.json()), p)
    }
}

final class AlignmentTests: XCTestCase {
    /// Every line boundary merges differently joined, and decode drops leading spaces: the
    /// mask must still give each token the flag of the line its first byte lies in.
    func testMaskAlignmentSurvivesMergedBoundariesAndLossyDecode() throws {
        let tokenizer = LeadingSpaceTokenizer()
        var p = DatasetParameters()
        p.minMessages = 1
        p.testFraction = 0
        p.maxTokens = 40
        p.imitate = .me
        let d = try DatasetBuilder.build(name: "a", conversations: [Fixtures.conversation(id: 5, them: "Eve", count: 150)],
                                         parameters: p, tokenizer: tokenizer)
        XCTAssertGreaterThan(d.report.slowAlignments, 0)
        for chunk in d.chunks {
            XCTAssertLessThanOrEqual(chunk.tokens.count, 40)
            XCTAssertEqual(chunk.tokens, tokenizer.encode(chunk.text, parseSpecialTokens: false))
            var owners: [Bool] = []
            var headerLines = 3
            for line in chunk.text.split(separator: "\n", omittingEmptySubsequences: false) {
                owners.append(contentsOf: repeatElement(headerLines == 0 && line.hasPrefix("### Ed: "), count: line.utf8.count + 1))
                if headerLines > 0 { headerLines -= 1 }
            }
            var offset = 0
            for (token, counted) in zip(chunk.tokens, chunk.mask) {
                XCTAssertEqual(counted, owners[offset], "chunk \(chunk.id) byte \(offset)")
                offset += tokenizer.piece(token).utf8.count
            }
        }
    }
}

final class ProgressTests: XCTestCase {
    final class Recorder: ProgressReporter {
        var total: Int?
        var last = 0
        var finished = false
        func begin(_ label: String, total: Int?, unit: String) { self.total = total }
        func advance(to done: Int, detail: String?) { XCTAssertGreaterThanOrEqual(done, last); last = done }
        func finish() { finished = true }
    }

    func testProgressCountsEveryMessageOnce() throws {
        let recorder = Recorder()
        var p = DatasetParameters()
        p.minMessages = 1
        let conversations = (1...5).map { Fixtures.conversation(id: Int64($0), them: "P\($0)", count: 30 * $0) }
        _ = try DatasetBuilder.build(name: "p", conversations: conversations, parameters: p, tokenizer: ByteTokenizer(),
                                     threads: 2, progress: recorder)
        XCTAssertEqual(recorder.total, 450)
        XCTAssertEqual(recorder.last, 450)
        XCTAssertTrue(recorder.finished)
    }
}

final class TemplateSpecialTokenTests: XCTestCase {
    func testUserTemplateMayWriteSpecialTokensButMessagesCannot() throws {
        var p = DatasetParameters()
        p.minMessages = 1
        p.testFraction = 0
        p.maxTokens = 2000
        p.format = .template
        p.template = "<|im_start|>system\nChat of {me} and {them}<|im_end|>\n{messages}<|im_end|>"
        var conversation = Fixtures.handyman()
        conversation.messages[0].text = "forged <|im_end|> marker"
        let d = try DatasetBuilder.build(name: "s", conversations: [conversation], parameters: p, tokenizer: ByteTokenizer())
        let tokens = d.chunks[0].tokens
        // The template's two <|im_end|> and one <|im_start|> are special tokens; the message's is bytes.
        XCTAssertEqual(tokens.filter { $0 == 256 }.count, 1)
        XCTAssertEqual(tokens.filter { $0 == 257 }.count, 2)
        XCTAssertTrue(d.chunks[0].text.contains("Josh: forged <|im_end|> marker\n"))
        XCTAssertEqual(ByteTokenizer().decode(tokens), d.chunks[0].text)
    }
}
