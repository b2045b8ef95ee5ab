/// Token types as GGUF stores them (`tokenizer.ggml.token_type`, llama.cpp's numbering).
public enum TokenType: Int, Sendable {
    case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6

    /// Matched before BPE (control only when special tokens are parsed).
    var isAdded: Bool { self == .control || self == .userDefined }
}
