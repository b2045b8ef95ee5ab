import Foundation

/// One conversation's turns by the person being judged, and who they were talking with.
public struct SpeakerSample: Equatable, Sendable, Codable {
    public var partner: String
    public var texts: [String]
    public init(partner: String, texts: [String]) { self.partner = partner; self.texts = texts }
}

/// Shares of messages (and of conversations) the classifier gives to the intended speaker,
/// among all speakers and against the partner alone.
public struct AttributionScore: Equatable, Sendable, Codable {
    public var perMessage: Double
    public var perConversation: Double
    public var pairwisePerMessage: Double
    public var pairwisePerConversation: Double
    public var messages: Int
    public var conversations: Int

    public init(perMessage: Double, perConversation: Double, pairwisePerMessage: Double, pairwisePerConversation: Double,
                messages: Int, conversations: Int) {
        self.perMessage = perMessage; self.perConversation = perConversation
        self.pairwisePerMessage = pairwisePerMessage; self.pairwisePerConversation = pairwisePerConversation
        self.messages = messages; self.conversations = conversations
    }
}

extension SpeakerClassifier {
    /// How often `speaker`'s samples are attributed to `speaker`: per message and per sample
    /// (the sum of log-likelihoods over the sample's texts), among everyone and against the
    /// sample's partner. A speaker the classifier does not know scores 0.
    public func score(_ samples: [SpeakerSample], as speaker: String) -> AttributionScore {
        var messageHits = 0, pairMessageHits = 0, messages = 0
        var conversationHits = 0, pairConversationHits = 0, conversations = 0
        let target = index(of: speaker)
        for sample in samples where !sample.texts.isEmpty {
            let pair = [target, index(of: sample.partner)].compactMap { $0 }
            var sums = [Double](repeating: 0, count: speakers.count)
            for text in sample.texts {
                let l = logLikelihoods(text)
                for i in l.indices { sums[i] += l[i] }
                messages += 1
                if let target {
                    if SpeakerClassifier.best(l, among: Array(speakers.indices)) == target { messageHits += 1 }
                    if SpeakerClassifier.best(l, among: pair) == target { pairMessageHits += 1 }
                }
            }
            conversations += 1
            if let target {
                if SpeakerClassifier.best(sums, among: Array(speakers.indices)) == target { conversationHits += 1 }
                if SpeakerClassifier.best(sums, among: pair) == target { pairConversationHits += 1 }
            }
        }
        func share(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        return AttributionScore(perMessage: share(messageHits, messages), perConversation: share(conversationHits, conversations),
                                pairwisePerMessage: share(pairMessageHits, messages),
                                pairwisePerConversation: share(pairConversationHits, conversations),
                                messages: messages, conversations: conversations)
    }
}

extension RealMessages {
    /// The person's held-out messages cut into samples of `size` consecutive messages of one
    /// conversation (the size of the person's share of a generated conversation), so that the
    /// ceiling is measured on the same amount of text per decision as the generated turns.
    /// A shorter remainder at the end of a conversation is kept only when it is all there is.
    public func heldOutSamples(of person: String, size: Int) -> [SpeakerSample] {
        let size = max(1, size)
        var byPartner: [String: [String]] = [:]
        var order: [String] = []
        for m in messages(of: person, split: .test) {
            if byPartner[m.partner] == nil { order.append(m.partner) }
            byPartner[m.partner, default: []].append(m.text)
        }
        var out: [SpeakerSample] = []
        for partner in order {
            let texts = byPartner[partner] ?? []
            var start = 0
            while start < texts.count {
                let end = min(texts.count, start + size)
                if end - start == size || start == 0 { out.append(SpeakerSample(partner: partner, texts: Array(texts[start..<end]))) }
                start = end
            }
        }
        return out
    }
}
