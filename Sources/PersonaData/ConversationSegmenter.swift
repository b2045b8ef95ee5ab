import Foundation
import PersonaStore

/// Turns a conversation's messages into segments: runs of consecutive messages that may
/// share a chunk (same split part and, unless asked otherwise, same session), with the
/// kinds the parameters leave out removed and bursts merged when asked.
struct ConversationSegmenter {
    let parameters: DatasetParameters

    struct Segment {
        var units: [MessageUnit]
        /// The split of every message in it (time split); nil when the split is decided later.
        var split: DatasetSplit?
    }

    struct Result {
        var segments: [Segment]
        var dropped: Int
    }

    func keeps(_ message: TrainingMessage) -> Bool {
        // The store keeps messages that are only spaces; as chat lines they say nothing.
        if message.text.unicodeScalars.allSatisfy(\.properties.isWhitespace) { return false }
        switch message.kind {
        case .text: return true
        case .media: return parameters.media
        case .reaction: return parameters.reactions
        case .system: return false
        }
    }

    func segments(of conversation: TrainingConversation) -> Result {
        let kept = conversation.messages.filter(keeps)
        let dropped = conversation.messages.count - kept.count
        // Time split: the last fraction of the conversation's messages is test.
        let testCount: Int
        switch parameters.split {
        case .time: testCount = min(kept.count, Int((Double(kept.count) * parameters.testFraction).rounded()))
        case .random: testCount = 0
        }
        let testStart = kept.count - testCount

        var segments: [Segment] = []
        var current: [MessageUnit] = []
        var currentSplit: DatasetSplit? = nil
        var previous: TrainingMessage? = nil
        for (index, message) in kept.enumerated() {
            let split: DatasetSplit? = parameters.split == .time ? (index >= testStart ? .test : .train) : nil
            let newSession = previous.map { message.sentAt.timeIntervalSince($0.sentAt) > parameters.sessionGapSeconds } ?? true
            let newSegment = current.isEmpty || split != currentSplit || (newSession && !parameters.spanSessions)
            if newSegment, !current.isEmpty {
                segments.append(Segment(units: current, split: currentSplit))
                current = []
            }
            currentSplit = split
            let text = message.text
            if parameters.merge, !newSession, !newSegment, let last = current.last, last.fromMe == message.fromMe {
                current[current.count - 1].text += parameters.mergeSeparator + text
                current[current.count - 1].sourceIDs.append(message.id)
            } else {
                current.append(MessageUnit(sourceIDs: [message.id], fromMe: message.fromMe, senderName: message.senderName,
                                           text: text, sentAt: message.sentAt))
            }
            previous = message
        }
        if !current.isEmpty { segments.append(Segment(units: current, split: currentSplit)) }
        return Result(segments: segments, dropped: dropped)
    }
}
