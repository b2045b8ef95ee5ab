import Foundation
import XCTest
import PersonaTensor
import PersonaTestSupport
@testable import PersonaText

final class ChatTemplateTests: XCTestCase {
    func forwardCase(_ id: String) throws -> String {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: TestPaths.golden("forward-cases.json")))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        return try XCTUnwrap(cases.first { $0["id"] as? String == id }?["text"] as? String)
    }

    func smolLMTemplate() throws -> ChatTemplate {
        try XCTUnwrap(try ChatTemplate.forModel(gguf: GGUFFile(path: TestPaths.defaultModel)))
    }

    /// fwd-0 was rendered by transformers' apply_chat_template with the GGUF's template.
    func testChatMLRendersForwardCaseZeroByteForByte() throws {
        let template = try smolLMTemplate()
        XCTAssertEqual(template.family, .chatml)
        XCTAssertEqual(template.defaultSystemPrompt, "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        let rendered = template.render(messages: [ChatMessage(role: "user", content: "hey! are we still on for lunch?")], addGenerationPrompt: true)
        XCTAssertEqual(rendered, try forwardCase("fwd-0"))
        let ids = try DefaultModelTokenizer.get().encode(rendered, parseSpecialTokens: true)
        XCTAssertEqual(ids.count, 39)
    }

    func testChatMLWithSystemMessageHasNoDefault() throws {
        let messages = [ChatMessage(role: "system", content: "You are Ed. Reply the way Ed texts: short, lowercase, lots of emoji."),
                        ChatMessage(role: "user", content: "Alice: did you feed the cat?"),
                        ChatMessage(role: "assistant", content: "yep 🐱 twice lol")]
        XCTAssertEqual(try smolLMTemplate().render(messages: messages, addGenerationPrompt: false), try forwardCase("fwd-2"))
    }

    func testOtherFamiliesAreRecognisedAndRendered() throws {
        let llama3 = try ChatTemplate.recognise("{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] | trim }}<|eot_id|>{% endfor %}", origin: "t")
        XCTAssertEqual(llama3.render(messages: [ChatMessage(role: "user", content: " hi ")], addGenerationPrompt: true),
                       "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
        let llama2 = try ChatTemplate.recognise("{% if messages[0]['role'] == 'system' %}<<SYS>>\\n{% endif %}[INST] [/INST]", origin: "t")
        XCTAssertEqual(llama2.family, .llama2)
        XCTAssertEqual(llama2.render(messages: [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "hi"),
                                                ChatMessage(role: "assistant", content: "hello"), ChatMessage(role: "user", content: "bye")],
                                     addGenerationPrompt: true),
                       "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nhi [/INST] hello </s><s>[INST] bye [/INST]")
        let mistral = try ChatTemplate.recognise("{{ bos_token }}{% for message in messages %}[INST] {{ message['content'] }} [/INST]{% endfor %}", origin: "t")
        XCTAssertEqual(mistral.family, .mistral)
        XCTAssertEqual(mistral.render(messages: [ChatMessage(role: "user", content: "hi"), ChatMessage(role: "assistant", content: "hello"),
                                                 ChatMessage(role: "user", content: "bye")], addGenerationPrompt: true),
                       "<s>[INST] hi [/INST]hello</s>[INST] bye [/INST]")
    }

    func testUnrecognisedTemplateNamesTheFallbacks() {
        XCTAssertThrowsError(try ChatTemplate.recognise("{% for m in messages %}<|user|>{{ m.content }}{% endfor %}", origin: "model.gguf")) { error in
            let text = (error as? TextError)?.description ?? "\(error)"
            XCTAssertTrue(text.contains("model.gguf"), text)
            for family in ChatTemplateFamily.allCases { XCTAssertTrue(text.contains(family.rawValue), text) }
        }
    }
}
