import Foundation
import PersonaCore
import PersonaData
import PersonaModel
import PersonaText

/// One message the model wrote.
public struct GeneratedTurn: Sendable {
    public var speaker: String
    public var text: String
    public var tokenCount: Int
    public var stopReason: StopReason
    /// Mean of the model's log-probabilities of the turn's tokens.
    public var meanLogProbability: Double
}

/// What to generate: a conversation between `me` and `them` in the dataset format the adapter
/// was trained with, so that prompts look like training chunks.
public struct ConversationRequest {
    public var me: String
    public var them: String
    /// Who writes the first generated turn (turns then alternate).
    public var firstSpeaker: String
    public var turns: Int
    public var layout: ChunkLayout
    public var date: Date
    public var relationship: String?
    /// Messages already written, oldest first: (speaker, text).
    public var history: [(speaker: String, text: String)]
    /// Text the first generated turn begins with.
    public var start: String?
    /// Names the model must not write (a third person inventing themselves into the chat).
    public var bannedNames: [String]

    public init(me: String, them: String, firstSpeaker: String, turns: Int, layout: ChunkLayout, date: Date,
                relationship: String? = nil, history: [(speaker: String, text: String)] = [], start: String? = nil,
                bannedNames: [String] = []) {
        self.me = me; self.them = them; self.firstSpeaker = firstSpeaker; self.turns = turns; self.layout = layout
        self.date = date; self.relationship = relationship; self.history = history; self.start = start
        self.bannedNames = bannedNames
    }

    var context: ChunkContext { ChunkContext(me: me, them: them, date: date, relationship: relationship) }

    func unit(_ speaker: String, _ text: String) -> MessageUnit {
        MessageUnit(sourceIDs: [], fromMe: speaker == me, senderName: speaker, text: text, sentAt: date)
    }
}

/// Writes a conversation turn by turn: renders the prompt in the dataset format, samples a
/// turn until the speaker boundary (a newline in transcript formats) or the end-of-turn token
/// (chat templates), appends it, and goes on. The KV cache carries over between turns.
public final class ConversationGenerator {
    let tokenizer: Tokenizer
    let source: ModelLogitsSource
    let settings: SamplerSettings
    let table: TokenByteTable

    public init(model: LlamaModel, tokenizer: Tokenizer, settings: SamplerSettings, capacity: Int,
                adapter: ProjectionAdapter? = nil) throws {
        guard tokenizer.vocabularySize == model.config.vocabSize else {
            throw SampleError.source("the tokenizer has \(tokenizer.vocabularySize) tokens, the model \(model.config.vocabSize)")
        }
        self.tokenizer = tokenizer
        self.settings = settings
        source = ModelLogitsSource(model: model, capacity: capacity, adapter: adapter)
        table = TokenByteTable(TokenizerVocabulary(tokenizer))
    }

    /// Tokens of rendered spans: special spans parse special-token text, the rest never do.
    func encode(_ spans: [RenderedSpan]) -> [Int32] {
        var ids: [Int32] = []
        for span in spans where !span.text.isEmpty { ids += tokenizer.encode(span.text, parseSpecialTokens: span.isSpecial) }
        return ids
    }

    /// The spans of a turn up to where its text goes (the speaker label or the role header).
    static func openTurn(_ layout: ChunkLayout, _ unit: MessageUnit) -> [RenderedSpan] {
        let marker = "\u{E000}"
        var probe = unit
        probe.text = marker
        var out: [RenderedSpan] = []
        for span in layout.message(probe) {
            if let range = span.text.range(of: marker) {
                var head = span
                head.text = String(span.text[..<range.lowerBound])
                out.append(head)
                break
            }
            out.append(span)
        }
        return out
    }

    /// The tokens that end a turn in `layout`'s format.
    func endTokens(_ layout: ChunkLayout) -> Set<Int32> {
        var ends = Set<Int32>()
        if let eos = tokenizer.specialTokenIds.eos { ends.insert(eos) }
        if layout.format == .chat {
            for text in ["<|im_end|>", "<|eot_id|>", "<|end_of_text|>"] {
                if let id = tokenizer.tokenId(forText: text) { ends.insert(id) }
            }
        }
        return ends
    }

    /// The prompt tokens after `turns`, with the next turn opened for `speaker`.
    public func prompt(_ request: ConversationRequest, turns: [(speaker: String, text: String)], next speaker: String, begin: String) -> [Int32] {
        var ids: [Int32] = []
        if tokenizer.specialTokenIds.addsBOS, let bos = tokenizer.specialTokenIds.bos { ids.append(bos) }
        ids += encode(request.layout.header(request.context))
        for t in turns { ids += encode(request.layout.message(request.unit(t.speaker, t.text))) }
        var open = ConversationGenerator.openTurn(request.layout, request.unit(speaker, ""))
        // "Alice: " ends in a space that BPE would attach to the next word: the label ends at
        // the colon and the model writes " word", as in training. A given beginning joins the label.
        if var last = open.last, !last.isSpecial {
            if begin.isEmpty {
                if last.text.hasSuffix(" ") { last.text.removeLast() }
            } else {
                last.text += begin
            }
            open[open.count - 1] = last
        } else if !begin.isEmpty {
            open.append(RenderedSpan(begin))
        }
        ids += encode(open)
        return ids
    }

    /// Generates `request.turns` turns. `stream(text)` receives the text as it is written
    /// (whole UTF-8 characters only; a turn's label first). Stops early, keeping what was
    /// written, when `cancellation` is raised.
    public func generate(_ request: ConversationRequest, rng: inout SeededGenerator, cancellation: CancellationToken?,
                         stream: (String) -> Void) throws -> [GeneratedTurn] {
        var settings = self.settings
        settings.n = 1
        if settings.mode == .beam { settings.n = 1 }
        let transcriptLike = request.layout.format != .chat
        if transcriptLike { settings.stop.append("\n") }
        // A turn must not write the other side's label, nor a name that is not in the chat.
        settings.suppressStrings += [request.me + ":", request.them + ":"] + request.bannedNames
        let sampler = try Sampler(settings: settings, vocabularySize: source.vocabularySize, vocabulary: table)
        let ends = endTokens(request.layout)

        var written = request.history
        var out: [GeneratedTurn] = []
        var speaker = request.firstSpeaker
        for index in 0..<request.turns {
            if cancellation?.isCancelled == true { break }
            let begin = index == 0 ? (request.start ?? "") : ""
            let ids = prompt(request, turns: written, next: speaker, begin: begin)
            // A turn that might not fit in the context is not begun: the conversation ends here.
            if ids.count + settings.maxTokens + 1 > source.capacity { break }
            stream(transcriptLike ? "\(speaker):" + (begin.isEmpty ? "" : " " + begin) : "\(speaker): \(begin)")
            var decoder = StreamingDecoder(tokenizer: tokenizer)
            var streamedNewline = false
            let candidates = try sampler.generate(source: source, prompt: ids, endTokens: ends, rng: &rng,
                                                  cancellation: cancellation) { _, token in
                guard !streamedNewline else { return }
                var piece = decoder.append(token)
                if let cut = piece.firstIndex(of: "\n"), transcriptLike {
                    piece = String(piece[..<cut])
                    streamedNewline = true
                }
                if !piece.isEmpty { stream(piece) }
            }
            let tail = decoder.finish()
            if !streamedNewline, !tail.isEmpty { stream(tail) }
            stream("\n")
            guard let best = candidates.first else { break }
            var text = (begin.isEmpty ? "" : begin) + best.text
            if transcriptLike, let cut = text.firstIndex(of: "\n") { text = String(text[..<cut]) }
            text = text.trimmingCharacters(in: .whitespaces)
            let mean = best.logProbabilities.isEmpty ? 0 : best.logProbabilities.reduce(0.0) { $0 + Double($1) } / Double(best.logProbabilities.count)
            out.append(GeneratedTurn(speaker: speaker, text: text, tokenCount: best.tokens.count, stopReason: best.stopReason,
                                     meanLogProbability: mean))
            written.append((speaker, text))
            if best.stopReason == .cancelled { break }
            speaker = speaker == request.me ? request.them : request.me
        }
        return out
    }
}
