import Foundation

/// The named chunk layouts. Each has a version, stored with the dataset, that changes
/// whenever its rendering changes, so an old dataset is never mistaken for a new one.
public enum ChunkFormatName: String, Codable, CaseIterable, Sendable {
    /// The reference project's published layout (Llama 2 prompt, `### Name: text` lines).
    case donner
    /// A one-line header, then `Name: text` lines.
    case transcript
    /// The model's chat template: a system prompt describing the conversation, then turns
    /// as roles from the point of view of the imitated person.
    case chat
    /// The user's own template with `{me}`, `{them}`, `{date}`, `{relationship}`, `{messages}`.
    case template

    public var version: Int {
        switch self {
        case .donner, .transcript, .chat, .template: return 1
        }
    }
}

/// What a chunk's header and footer may mention: the two people and when it starts.
public struct ChunkContext: Equatable, Sendable {
    public var me: String
    public var them: String
    /// Time of the chunk's first message.
    public var date: Date
    /// How `them` relates to `me` ("his sister"), when the user said.
    public var relationship: String?

    public init(me: String, them: String, date: Date, relationship: String?) {
        self.me = me; self.them = them; self.date = date; self.relationship = relationship
    }
}

/// One message as a chunk shows it (possibly several merged messages, or part of a long one).
public struct MessageUnit: Equatable, Sendable {
    /// Store ids of the messages it came from (several when merged).
    public var sourceIDs: [Int64]
    public var fromMe: Bool
    public var senderName: String
    public var text: String
    public var sentAt: Date
    /// Set on the pieces of a message that was split to fit the budget.
    public var isSplitPiece: Bool

    public init(sourceIDs: [Int64], fromMe: Bool, senderName: String, text: String, sentAt: Date, isSplitPiece: Bool = false) {
        self.sourceIDs = sourceIDs; self.fromMe = fromMe; self.senderName = senderName
        self.text = text; self.sentAt = sentAt; self.isSplitPiece = isSplitPiece
    }
}

/// Renders chunks of one format: a header (never counted by the loss), one piece per
/// message, and a footer. Message pieces do not depend on the chunk they land in, so
/// packing can tokenize each message once.
public struct ChunkLayout: Sendable {
    public let format: ChunkFormatName
    public let imitate: ImitationTarget
    public let markup: ChatMarkup
    private let userTemplate: UserTemplate?

    public init(parameters: DatasetParameters) throws {
        format = parameters.format
        imitate = parameters.imitate
        markup = ChatMarkup(parameters.chatMarkup)
        if parameters.format == .template {
            guard let text = parameters.template else {
                throw DataError.badParameter(name: "template", value: "(none)", expected: "a template text when format=template")
            }
            userTemplate = try UserTemplate(text)
        } else {
            userTemplate = nil
        }
    }

    /// The reference project's system and instruction lines, verbatim.
    public static let donnerSystem = "<<SYS>>Write a realistic text message chat. Avoid repetition.<</SYS>>"

    /// Whether the header's text depends on the chunk's date (so it must be re-tokenized per chunk).
    public var headerDependsOnDate: Bool {
        switch format {
        case .donner, .transcript: return false
        case .chat: return true
        case .template: return userTemplate?.mentionsDate ?? false
        }
    }

    public func header(_ context: ChunkContext) -> [RenderedSpan] {
        switch format {
        case .donner:
            return [RenderedSpan("\(Self.donnerSystem)\n[INST]Write a chat between \(context.me) and \(context.them)[/INST]\n\n")]
        case .transcript:
            return [RenderedSpan("A text message conversation between \(context.me) and \(context.them).\n\n")]
        case .chat:
            return markup.system(systemPrompt(context))
        case .template:
            return [RenderedSpan(userTemplate?.header(context) ?? "")].filter { !$0.text.isEmpty }
        }
    }

    public func footer(_ context: ChunkContext) -> [RenderedSpan] {
        switch format {
        case .donner, .transcript, .chat: return []
        case .template:
            return [RenderedSpan(userTemplate?.footer(context) ?? "")].filter { !$0.text.isEmpty }
        }
    }

    /// Whether the loss counts this sender's messages.
    public func counts(fromMe: Bool) -> Bool {
        switch imitate {
        case .both: return true
        case .me: return fromMe
        case .them: return !fromMe
        }
    }

    public func message(_ unit: MessageUnit) -> [RenderedSpan] {
        let counted = counts(fromMe: unit.fromMe)
        switch format {
        case .donner:
            return [RenderedSpan("### \(unit.senderName): \(unit.text)\n", counted: counted)]
        case .transcript, .template:
            return [RenderedSpan("\(unit.senderName): \(unit.text)\n", counted: counted)]
        case .chat:
            // The imitated person speaks as the assistant; with both imitated, the owner does.
            let isAssistant = imitate == .them ? !unit.fromMe : unit.fromMe
            return markup.turn(role: isAssistant ? .assistant : .user, text: unit.text, counted: counted)
        }
    }

    /// "A text conversation between Ed and Alice, his sister, on Tue 12 March 2024."
    public func systemPrompt(_ context: ChunkContext) -> String {
        var text = "A text conversation between \(context.me) and \(context.them)"
        if let relationship = context.relationship, !relationship.isEmpty { text += ", \(relationship)," }
        text += " on \(CalendarText.longDate(context.date))."
        switch imitate {
        case .me: text += " You are \(context.me)."
        case .them: text += " You are \(context.them)."
        case .both: break
        }
        return text
    }
}
