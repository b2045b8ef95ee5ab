import PersonaCore

/// Errors of the data layer, each one line a person can act on.
public enum DataError: UserFacingError, Equatable {
    /// A parameter of `dataset build` is out of range or inconsistent.
    case badParameter(name: String, value: String, expected: String)
    /// The prompt header (and footer) alone leave no room for any message text.
    case budgetTooSmall(maxTokens: Int, headerTokens: Int, conversation: String)
    /// A user template lacks a placeholder it needs, or names one that does not exist.
    case badTemplate(reason: String)
    /// Nothing was left to build from after the filters.
    case noConversations(reason: String)
    /// A dataset of that name does not exist in the workspace.
    case noSuchDataset(name: String)
    /// A chunk index outside the dataset.
    case noSuchChunk(dataset: String, index: Int, count: Int)
    /// A stored dataset row is inconsistent (tokens and mask of different lengths, bad blob).
    case corruptDataset(name: String, reason: String)
    /// An export format or file name that cannot be used.
    case badExport(reason: String)

    public var message: String {
        switch self {
        case .badParameter(let name, let value, let expected):
            return "dataset: \(name)=\(value) is not valid; expected \(expected)"
        case .budgetTooSmall(let maxTokens, let headerTokens, let conversation):
            return "dataset: max_tokens=\(maxTokens) leaves no room for messages: the prompt of the conversation with \(conversation) alone takes \(headerTokens) tokens"
        case .badTemplate(let reason):
            return "dataset: template: \(reason)"
        case .noConversations(let reason):
            return "dataset: no conversations to build from: \(reason)"
        case .noSuchDataset(let name):
            return "no dataset named '\(name)' in the workspace"
        case .noSuchChunk(let dataset, let index, let count):
            return "dataset \(dataset) has \(count) chunks; index \(index) is outside 0..<\(count)"
        case .corruptDataset(let name, let reason):
            return "dataset \(name) in the workspace database is damaged: \(reason)"
        case .badExport(let reason):
            return "dataset export: \(reason)"
        }
    }

    public var hint: String? {
        switch self {
        case .budgetTooSmall: return "raise max_tokens or choose a shorter prompt format"
        case .noSuchDataset: return "build it first with 'dataset build NAME'"
        case .badTemplate: return "placeholders are {me}, {them}, {date}, {relationship} and {messages}; {messages} is required"
        case .noConversations: return "import messages first, or lower min_messages"
        default: return nil
        }
    }
}
