import Foundation
import PersonaData

/// A real message as a dataset shows it: who wrote it, to whom, and in which split.
public struct RealMessage: Equatable, Sendable {
    public var speaker: String
    /// The other person of the conversation.
    public var partner: String
    public var text: String
    public var split: DatasetSplit

    public init(speaker: String, partner: String, text: String, split: DatasetSplit) {
        self.speaker = speaker; self.partner = partner; self.text = text; self.split = split
    }
}

/// The real messages of a dataset by speaker and split, in time order within each
/// conversation, each message once (overlap context and the pieces of a cut message are
/// not repeated: a turn is identified by its source message ids).
public struct RealMessages: Sendable {
    public var messages: [RealMessage]
    /// The workspace owner.
    public var me: String
    /// The owner's partners, in first-seen order.
    public var contacts: [String]

    public init(messages: [RealMessage], me: String, contacts: [String]) {
        self.messages = messages; self.me = me; self.contacts = contacts
    }

    public init(dataset: Dataset) {
        var seen = Set<[Int64]>()
        var messages: [RealMessage] = []
        var contacts: [String] = []
        var me = ""
        for chunk in dataset.chunks {
            me = chunk.meName
            if !contacts.contains(chunk.personName) { contacts.append(chunk.personName) }
            for turn in chunk.turns {
                let text = turn.text.trimmingCharacters(in: .whitespacesAndNewlines)
                if text.isEmpty { continue }
                // A turn without ids (never from a real build) is kept: it cannot repeat another.
                if !turn.sourceIDs.isEmpty && !seen.insert(turn.sourceIDs).inserted { continue }
                messages.append(RealMessage(speaker: turn.name, partner: turn.fromMe ? chunk.personName : chunk.meName,
                                            text: text, split: chunk.split))
            }
        }
        self.init(messages: messages, me: me, contacts: contacts)
    }

    /// Everyone who wrote a message.
    public var speakers: [String] { ([me] + contacts).filter { s in messages.contains { $0.speaker == s } } }

    public func texts(of speaker: String, split: DatasetSplit? = nil) -> [String] {
        messages.filter { $0.speaker == speaker && (split == nil || $0.split == split) }.map(\.text)
    }

    public func messages(of speaker: String, split: DatasetSplit) -> [RealMessage] {
        messages.filter { $0.speaker == speaker && $0.split == split }
    }

    /// Every speaker's training-split messages (what the classifier learns from).
    public var trainingBySpeaker: [String: [String]] {
        var out: [String: [String]] = [:]
        for m in messages where m.split == .train { out[m.speaker, default: []].append(m.text) }
        return out
    }

    /// Who the person talks with: the owner for a contact, every contact for the owner.
    public func partners(of person: String) -> [String] {
        person == me ? contacts : [me]
    }
}
