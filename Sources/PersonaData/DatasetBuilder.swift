import Dispatch
import Foundation
import PersonaCore
import PersonaStore
import PersonaText

/// Builds a dataset from filtered conversations: per conversation in time order, segments
/// (split part, session), packing under the exact token budget, masks, and the split.
///
/// Conversations are built in parallel and each one only from its own messages and a
/// generator seeded from (seed, conversation id), so the result does not depend on the
/// number of threads. The tokenizer's `encode` must be safe to call from several threads.
public enum DatasetBuilder {
    public static func build(name: String, conversations: [TrainingConversation], parameters: DatasetParameters,
                             tokenizer: Tokenizer, threads: Int = 2,
                             cancellation: CancellationToken? = nil) throws -> Dataset {
        try parameters.validate()
        let layout = try ChunkLayout(parameters: parameters)

        let count = conversations.count
        var results = [ConversationResult?](repeating: nil, count: count)
        var failures = [Error?](repeating: nil, count: count)
        let workers = max(1, min(threads, count))
        results.withUnsafeMutableBufferPointer { resultSlots in
            failures.withUnsafeMutableBufferPointer { failureSlots in
                nonisolated(unsafe) let resultSlots = resultSlots
                nonisolated(unsafe) let failureSlots = failureSlots
                nonisolated(unsafe) let tokenizer = tokenizer
                let next = NextIndex()
                // Workers take conversations one at a time, so a long conversation does not
                // hold up the others; results go to their conversation's slot.
                DispatchQueue.concurrentPerform(iterations: workers) { _ in
                    while let i = next.take(below: count) {
                        if cancellation?.isCancelled == true { return }
                        do {
                            resultSlots[i] = try buildConversation(conversations[i], parameters: parameters,
                                                                   layout: layout, tokenizer: tokenizer)
                        } catch {
                            failureSlots[i] = error
                        }
                    }
                }
            }
        }
        try cancellation?.check()
        if let failure = failures.lazy.compactMap({ $0 }).first { throw failure }

        var report = BuildReport()
        var chunks: [Chunk] = []
        for (conversation, result) in zip(conversations, results) {
            guard let result else { continue }
            if result.skipped { report.conversationsSkipped += 1; continue }
            report.conversations += 1
            report.messagesDropped += result.dropped
            report.splitMessages += result.splitMessages
            report.slowAlignments += result.slowAlignments
            report.joinedEncodes += result.joinedEncodes
            report.joinedTokens += result.joinedTokens
            report.messagesUsed += result.messagesUsed
            for (packed, split) in result.chunks {
                chunks.append(Chunk(id: chunks.count, text: packed.text, tokens: packed.tokens, mask: packed.mask,
                                    split: split, personName: conversation.them, meName: conversation.me, personID: conversation.themPersonID,
                                    conversationID: conversation.conversationID, sourceMessageIDs: packed.sourceMessageIDs,
                                    messageCount: packed.unitCount, overlapCount: packed.overlapCount,
                                    firstMessageAt: packed.firstMessageAt, headerText: packed.headerText, turns: packed.turns))
            }
        }
        if report.conversations == 0 {
            throw DataError.noConversations(reason: "\(conversations.count) conversations given, none with at least \(parameters.minMessages) messages")
        }
        return Dataset(name: name, parameters: parameters, formatVersion: parameters.format.version, chunks: chunks, report: report)
    }

    struct ConversationResult {
        var chunks: [(PackedChunk, DatasetSplit)] = []
        var dropped = 0
        var splitMessages = 0
        var slowAlignments = 0
        var joinedEncodes = 0
        var joinedTokens = 0
        var messagesUsed = 0
        var skipped = false
    }

    static func buildConversation(_ conversation: TrainingConversation, parameters: DatasetParameters,
                                  layout: ChunkLayout, tokenizer: Tokenizer) throws -> ConversationResult {
        var result = ConversationResult()
        guard conversation.messages.count >= parameters.minMessages else {
            result.skipped = true
            return result
        }
        let segmented = ConversationSegmenter(parameters: parameters).segments(of: conversation)
        result.dropped = segmented.dropped
        let packer = ChunkPacker(layout: layout, tokenizer: tokenizer, budget: parameters.maxTokens,
                                 me: conversation.me, them: conversation.them,
                                 relationship: parameters.relationships[conversation.them])
        switch parameters.split {
        case .time:
            for segment in segmented.segments {
                let split = segment.split ?? .train
                for chunk in try packer.pack(segment.units, overlap: parameters.overlap) {
                    result.chunks.append((chunk, split))
                }
            }
        case .random:
            var rng = SeededGenerator(seed: mix(parameters.seed, UInt64(bitPattern: conversation.conversationID)))
            for segment in segmented.segments {
                // Draw each chunk of the plain packing; the pieces of a cut message stay together.
                let base = try packer.pack(segment.units, overlap: 0)
                var splits: [DatasetSplit] = []
                for (i, chunk) in base.enumerated() {
                    let drawn: DatasetSplit = rng.nextDouble() < parameters.testFraction ? .test : .train
                    let continuesCut = i > 0 && base[i - 1].origins.upperBound > chunk.origins.lowerBound
                    splits.append(continuesCut ? splits[i - 1] : drawn)
                }
                if parameters.overlap == 0 {
                    for (chunk, split) in zip(base, splits) { result.chunks.append((chunk, split)) }
                    continue
                }
                // With overlap, repack each run of same-split chunks so context never crosses a split.
                var runStart = 0
                while runStart < base.count {
                    var runEnd = runStart + 1
                    while runEnd < base.count, splits[runEnd] == splits[runStart] { runEnd += 1 }
                    let origins = base[runStart].origins.lowerBound..<base[runEnd - 1].origins.upperBound
                    for chunk in try packer.pack(Array(segment.units[origins]), overlap: parameters.overlap) {
                        result.chunks.append((chunk, splits[runStart]))
                    }
                    runStart = runEnd
                }
            }
        }
        var used = Set<Int64>()
        for (chunk, _) in result.chunks { used.formUnion(chunk.sourceMessageIDs) }
        result.messagesUsed = used.count
        result.splitMessages = packer.splitMessages
        result.slowAlignments = packer.encoder.slowAlignments
        result.joinedEncodes = packer.encoder.joinedEncodes
        result.joinedTokens = packer.encoder.joinedTokens
        return result
    }

    /// A seed for one conversation's stream, from the dataset seed and the conversation id.
    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var z = a ^ (b &* 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A shared counter handing out work items to threads.
final class NextIndex: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func take(below limit: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard value < limit else { return nil }
        defer { value += 1 }
        return value
    }
}
