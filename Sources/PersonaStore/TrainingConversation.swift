import Foundation

/// What a message is, so that filters and dataset builders can decide what to keep.
public enum MessageKind: String, CaseIterable, Sendable {
    /// Something a person wrote.
    case text
    /// A photo, video, voice note or file, kept as a placeholder (`<Media omitted>`).
    case media
    /// A notice from the app (encryption notice, someone joined, number changed, message deleted).
    case system
    /// A tapback or emoji reaction to another message.
    case reaction
}

/// One message of a one-to-one conversation, as dataset builders see it.
public struct TrainingMessage: Equatable, Sendable {
    /// Row id in the store (stable: used to trace a chunk back to its source messages).
    public var id: Int64
    /// True when the workspace's owner sent it.
    public var fromMe: Bool
    /// Display name of the sender.
    public var senderName: String
    /// When it was sent (absolute time; render in UTC or the user's zone as the format says).
    public var sentAt: Date
    public var text: String
    public var kind: MessageKind

    public init(id: Int64, fromMe: Bool, senderName: String, sentAt: Date, text: String, kind: MessageKind) {
        self.id = id; self.fromMe = fromMe; self.senderName = senderName; self.sentAt = sentAt; self.text = text; self.kind = kind
    }
}

/// A one-to-one conversation that passed the filters, in time order: the unit that
/// dataset building packs into chunks.
public struct TrainingConversation: Equatable, Sendable {
    public var conversationID: Int64
    /// Display name of the workspace's owner ("Ed").
    public var me: String
    /// Display name of the other person ("Alice").
    public var them: String
    public var themPersonID: Int64
    /// Messages in time order (ties broken by store order).
    public var messages: [TrainingMessage]

    public init(conversationID: Int64, me: String, them: String, themPersonID: Int64, messages: [TrainingMessage]) {
        self.conversationID = conversationID; self.me = me; self.them = them; self.themPersonID = themPersonID; self.messages = messages
    }
}
