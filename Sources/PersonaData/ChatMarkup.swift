/// The chat template families whose turns the `chat` format can write with exact masks.
public enum ChatMarkupName: String, Codable, CaseIterable, Sendable {
    /// `<|im_start|>role\n…<|im_end|>\n` (SmolLM2, Qwen).
    case chatML = "chatml"
    /// `<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>` (Llama 3).
    case llama3
}

/// Role markup of one chat template family, split into spans so that the loss can count a
/// turn's content and end-of-turn token but never the role header. The layout is the one
/// each family's Hugging Face `chat_template` renders (without BOS, which trainers add).
public struct ChatMarkup: Sendable {
    public enum Role: String, Sendable { case system, user, assistant }

    public let name: ChatMarkupName

    public init(_ name: ChatMarkupName) { self.name = name }

    public func system(_ text: String) -> [RenderedSpan] {
        turn(role: .system, text: text, counted: false)
    }

    public func turn(role: Role, text: String, counted: Bool) -> [RenderedSpan] {
        switch name {
        case .chatML:
            return [
                RenderedSpan("<|im_start|>", special: true),
                RenderedSpan(role.rawValue + "\n"),
                RenderedSpan(text, counted: counted),
                RenderedSpan("<|im_end|>", special: true, counted: counted),
                RenderedSpan("\n"),
            ]
        case .llama3:
            return [
                RenderedSpan("<|start_header_id|>", special: true),
                RenderedSpan(role.rawValue),
                RenderedSpan("<|end_header_id|>", special: true),
                RenderedSpan("\n\n"),
                RenderedSpan(text, counted: counted),
                RenderedSpan("<|eot_id|>", special: true, counted: counted),
            ]
        }
    }
}
