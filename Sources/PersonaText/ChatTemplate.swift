import Foundation
import PersonaTensor

/// One message of a chat.
public struct ChatMessage: Equatable, Sendable {
    public var role: String
    public var content: String
    public init(role: String, content: String) { self.role = role; self.content = content }
}

/// The chat formats rendered natively (no Jinja interpreter): recognised from the template text
/// a model ships, or chosen by name.
public enum ChatTemplateFamily: String, CaseIterable, Sendable {
    /// `<|im_start|>role\ncontent<|im_end|>\n` (SmolLM2, Qwen2).
    case chatml
    /// `<s>[INST] <<SYS>>\n…\n<</SYS>>\n\nuser [/INST] assistant </s>` (Llama 2).
    case llama2
    /// `<|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>` (Llama 3).
    case llama3
    /// `<s>[INST] user [/INST]assistant</s>` (Mistral).
    case mistral
}

/// A chat template: a family plus what the model's template fixes (its default system prompt,
/// the text of BOS and EOS).
public struct ChatTemplate: Equatable, Sendable {
    public var family: ChatTemplateFamily
    /// Inserted as the first message when the chat does not start with a system message
    /// (SmolLM2's "You are a helpful AI assistant named SmolLM, …").
    public var defaultSystemPrompt: String?
    public var bosText: String
    public var eosText: String

    public init(family: ChatTemplateFamily, defaultSystemPrompt: String? = nil, bosText: String? = nil, eosText: String? = nil) {
        self.family = family
        self.defaultSystemPrompt = defaultSystemPrompt
        switch family {
        case .chatml: self.bosText = bosText ?? "<|im_start|>"; self.eosText = eosText ?? "<|im_end|>"
        case .llama3: self.bosText = bosText ?? "<|begin_of_text|>"; self.eosText = eosText ?? "<|eot_id|>"
        case .llama2, .mistral: self.bosText = bosText ?? "<s>"; self.eosText = eosText ?? "</s>"
        }
    }

    /// Recognises the family of a Jinja chat template. `origin` names the file for the error.
    public static func recognise(_ source: String, origin: String, bosText: String? = nil, eosText: String? = nil) throws -> ChatTemplate {
        if source.contains("<|start_header_id|>") {
            return ChatTemplate(family: .llama3, bosText: bosText, eosText: eosText)
        }
        if source.contains("<|im_start|>") {
            return ChatTemplate(family: .chatml, defaultSystemPrompt: chatMLDefaultSystemPrompt(source))
        }
        if source.contains("[INST]") {
            return ChatTemplate(family: source.contains("<<SYS>>") ? .llama2 : .mistral, bosText: bosText, eosText: eosText)
        }
        let excerpt = String(source.prefix(60)).replacingOccurrences(of: "\n", with: "\\n")
        throw TextError.unrecognisedChatTemplate(source: origin, excerpt: excerpt.isEmpty ? "(empty)" : excerpt + "…")
    }

    /// The template of a GGUF file (`tokenizer.chat_template`), or nil when it has none.
    public static func forModel(gguf: GGUFFile) throws -> ChatTemplate? {
        guard let source = gguf.string("tokenizer.chat_template") else { return nil }
        let tokens = gguf.strings("tokenizer.ggml.tokens")
        func text(_ key: String) -> String? {
            guard let id = gguf.int(key), let tokens, id >= 0, id < tokens.count else { return nil }
            return tokens[id]
        }
        return try recognise(source, origin: gguf.path + " (tokenizer.chat_template)",
                             bosText: text("tokenizer.ggml.bos_token_id"), eosText: text("tokenizer.ggml.eos_token_id"))
    }

    /// The fixed default system prompt of a ChatML template: the literal after
    /// `<|im_start|>system\n` in the branch taken when the first message is not a system one.
    static func chatMLDefaultSystemPrompt(_ source: String) -> String? {
        guard source.contains("!= 'system'") || source.contains("!= \"system\"") else { return nil }
        for marker in ["<|im_start|>system\n", "<|im_start|>system\\n"] {
            guard let start = source.range(of: marker) else { continue }
            guard let end = source.range(of: "<|im_end|>", range: start.upperBound..<source.endIndex) else { continue }
            let literal = String(source[start.upperBound..<end.lowerBound])
            // A prompt built from variables is not a fixed default.
            if literal.contains("{{") || literal.contains("{%") || literal.contains("'") || literal.contains("\"") { return nil }
            return literal.replacingOccurrences(of: "\\n", with: "\n")
        }
        return nil
    }

    /// The prompt text for `messages`; with `addGenerationPrompt`, the opening of the assistant's turn.
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        switch family {
        case .chatml: return renderChatML(messages, addGenerationPrompt)
        case .llama3: return renderLlama3(messages, addGenerationPrompt)
        case .llama2: return renderLlama2(messages)
        case .mistral: return renderMistral(messages)
        }
    }

    private func renderChatML(_ messages: [ChatMessage], _ addGenerationPrompt: Bool) -> String {
        var out = ""
        if let system = defaultSystemPrompt, let first = messages.first, first.role != "system" {
            out += "<|im_start|>system\n" + system + "<|im_end|>\n"
        }
        for m in messages { out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n" }
        if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        return out
    }

    private func renderLlama3(_ messages: [ChatMessage], _ addGenerationPrompt: Bool) -> String {
        var out = bosText
        for m in messages {
            out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + m.content.trimmingCharacters(in: .whitespacesAndNewlines) + eosText
        }
        if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        return out
    }

    /// Splits off a leading system message (or the default).
    private func systemAndRest(_ messages: [ChatMessage]) -> (String?, ArraySlice<ChatMessage>) {
        if let first = messages.first, first.role == "system" { return (first.content, messages.dropFirst()) }
        return (defaultSystemPrompt, messages[...])
    }

    private func renderLlama2(_ messages: [ChatMessage]) -> String {
        let (system, rest) = systemAndRest(messages)
        var out = ""
        for (index, m) in rest.enumerated() {
            var content = m.content
            if index == 0, let system { content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content }
            let trimmed = content.trimmingCharacters(in: .whitespacesAndNewlines)
            if m.role == "assistant" { out += " " + trimmed + " " + eosText }
            else { out += bosText + "[INST] " + trimmed + " [/INST]" }
        }
        return out
    }

    private func renderMistral(_ messages: [ChatMessage]) -> String {
        let (system, rest) = systemAndRest(messages)
        var out = bosText
        for (index, m) in rest.enumerated() {
            if m.role == "assistant" { out += m.content + eosText; continue }
            var content = m.content
            if index == 0, let system { content = system + "\n\n" + content }
            out += "[INST] " + content + " [/INST]"
        }
        return out
    }
}
