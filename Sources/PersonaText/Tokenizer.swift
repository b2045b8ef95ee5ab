/// A tokenizer that matches the model's own (Hugging Face) tokenizer token for token.
/// Implementations: byte-level BPE (GPT-2 family) and SentencePiece-style BPE (Llama 2 family).
/// Both are immutable after loading and safe to use from several threads at once (each keeps a
/// few locked encode caches, and a thread takes a free one).
public protocol Tokenizer: AnyObject {
    /// Number of entries in the vocabulary (ids are 0..<vocabularySize).
    var vocabularySize: Int { get }

    /// Token ids for `text`, with no BOS/EOS added. With `parseSpecialTokens`, special-token
    /// text (`<|im_end|>`) becomes its special token; without, it is tokenized as plain text,
    /// so that user content cannot forge a turn boundary.
    func encode(_ text: String, parseSpecialTokens: Bool) -> [Int32]

    /// The text of `ids` (special tokens included as their text).
    func decode(_ ids: [Int32]) -> String

    /// The bytes token `id` stands for when decoded on its own (empty for an id out of range).
    /// Concatenating these for a sequence and decoding as UTF-8 gives `decode`, except for
    /// the leading space a SentencePiece tokenizer removes (see `decodeStripsLeadingSpace`).
    func tokenBytes(_ id: Int32) -> [UInt8]

    /// The vocabulary entry of `id` as the model stores it (`Ġhello`, `▁hello`, `<|im_end|>`).
    func tokenText(_ id: Int32) -> String?

    /// Whether `id` is a special (control) token such as `<|im_end|>` or `<s>`.
    func isSpecial(_ id: Int32) -> Bool

    /// The id of a vocabulary entry given its stored text (`<|im_end|>`), if there is one.
    func tokenId(forText text: String) -> Int32?

    /// Beginning/end-of-sequence, unknown and padding tokens the model declares.
    var specialTokenIds: SpecialTokenIds { get }

    /// Whether decoding drops one leading space of the first token (SentencePiece's dummy prefix).
    var decodeStripsLeadingSpace: Bool { get }

    /// One line for `model info`: `byte-level BPE (pre-tokenizer smollm)`.
    var kindDescription: String { get }
}

/// The ids of the tokens with a fixed role, where the model has them.
public struct SpecialTokenIds: Equatable, Sendable {
    public var bos: Int32?
    public var eos: Int32?
    public var unknown: Int32?
    public var padding: Int32?
    /// Whether the model expects BOS before a sequence (GGUF `tokenizer.ggml.add_bos_token`).
    public var addsBOS: Bool

    public init(bos: Int32? = nil, eos: Int32? = nil, unknown: Int32? = nil, padding: Int32? = nil, addsBOS: Bool = false) {
        self.bos = bos; self.eos = eos; self.unknown = unknown; self.padding = padding; self.addsBOS = addsBOS
    }
}

extension Tokenizer {
    public func tokenBytes(_ id: Int32) -> [UInt8] { Array(decode([id]).utf8) }
    public func tokenText(_ id: Int32) -> String? { nil }
    public func isSpecial(_ id: Int32) -> Bool { false }
    public func tokenId(forText text: String) -> Int32? { nil }
    public var specialTokenIds: SpecialTokenIds { SpecialTokenIds() }
    public var decodeStripsLeadingSpace: Bool { false }
    public var kindDescription: String { String(describing: type(of: self)) }

    /// Token ids with special-token text parsed (the form for templates the program renders).
    public func encode(_ text: String) -> [Int32] { encode(text, parseSpecialTokens: true) }

    /// The ids of the special tokens, in id order.
    public var specialTokenIdList: [Int32] {
        (0..<Int32(clamping: vocabularySize)).filter { isSpecial($0) }
    }
}
