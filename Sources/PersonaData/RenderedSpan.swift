/// A piece of a rendered chunk: its text, how it is tokenized, and whether the loss counts it.
///
/// Text is tokenized the way Hugging Face does with special-token parsing: a special span
/// (`<|im_start|>`) becomes its one token, and each maximal run of plain spans is encoded as
/// one string without special-token parsing, so message text can never forge a turn marker.
public struct RenderedSpan: Equatable, Sendable {
    public var text: String
    /// The text of one special token of the template (parsed as special).
    public var isSpecial: Bool
    /// Whether the loss counts the tokens of this span.
    public var counted: Bool

    public init(_ text: String, special: Bool = false, counted: Bool = false) {
        self.text = text; self.isSpecial = special; self.counted = counted
    }
}
