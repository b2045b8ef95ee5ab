/// A tokenizer that matches the model's own (Hugging Face) tokenizer token for token.
/// Implementations: byte-level BPE (GPT-2 family) and SentencePiece-style BPE (Llama 2 family).
public protocol Tokenizer: AnyObject {
    /// Number of entries in the vocabulary (ids are 0..<vocabularySize).
    var vocabularySize: Int { get }

    /// Token ids for `text`, with no BOS/EOS added. With `parseSpecialTokens`, special-token
    /// text (`<|im_end|>`) becomes its special token; without, it is tokenized as plain text,
    /// so that user content cannot forge a turn boundary.
    func encode(_ text: String, parseSpecialTokens: Bool) -> [Int32]

    /// The text of `ids` (special tokens included as their text).
    func decode(_ ids: [Int32]) -> String
}
