import Foundation
import PersonaCore
import PersonaData
import PersonaModel
import PersonaSample
import PersonaStore

/// A conversation typed one line at a time: the person types as `user`, the model answers
/// as `persona`. The settings (model, adapter, sampler, seed, format) are fixed when it
/// starts; the model's KV cache and the seeded generator carry over between lines.
final class ChatSession {
    let key: String
    let persona: String
    let user: String
    let generator: ConversationGenerator
    let layout: ChunkLayout
    let formatLabel: String
    let samplerName: String
    let settings: SamplerSettings
    let seed: UInt64
    let modelPath: String
    let adapterName: String?
    var rng: SeededGenerator
    var history: [(speaker: String, text: String)] = []

    init(key: String, persona: String, user: String, generator: ConversationGenerator, layout: ChunkLayout, formatLabel: String,
         samplerName: String, settings: SamplerSettings, seed: UInt64, modelPath: String, adapterName: String?) {
        self.key = key; self.persona = persona; self.user = user; self.generator = generator; self.layout = layout
        self.formatLabel = formatLabel; self.samplerName = samplerName; self.settings = settings; self.seed = seed
        self.modelPath = modelPath; self.adapterName = adapterName
        rng = SeededGenerator(seed: seed)
    }

    var transcript: String { history.map { "\($0.speaker): \($0.text)" }.joined(separator: "\n") }

    /// Streams the model's next `turns` turns (the persona first) and keeps them.
    func answer(turns: Int, ctx: CommandContext) throws -> [GeneratedTurn] {
        let request = ConversationRequest(me: user, them: persona, firstSpeaker: persona, turns: turns, layout: layout,
                                          date: Date(timeIntervalSince1970: 1_710_000_000), history: history)
        var draw = rng
        let written = try generator.generate(request, rng: &draw, cancellation: ctx.cancellation) { ctx.bench.output.write($0) }
        rng = draw
        for t in written { history.append((t.speaker, t.text)) }
        return written
    }

    /// The loop score (printed only when it fell into one) and a flagged copy of the owner's words.
    func check(_ written: [GeneratedTurn], ctx: CommandContext) throws -> (repetition: RepetitionScore, copied: RegurgitationFinder.Match?) {
        let repetition = RepetitionScore.measure(transcript)
        if repetition.fellIntoLoop { ctx.print(repetition.summary) }
        var copied: RegurgitationFinder.Match?
        if let finder = try CommandTable.regurgitationFinder(ctx), let match = finder.longestCopy(in: written.map(\.text).joined(separator: "\n")), match.flagged {
            ctx.print("copied \(match.characterCount) characters from your message #\(match.messageId): \"\(match.text)\"")
            copied = match
        }
        return (repetition, copied)
    }

    func generation(kind: String, prompt: String, turns: [(speaker: String, text: String)], repetition: RepetitionScore, copied: RegurgitationFinder.Match?) -> NewGeneration {
        NewGeneration(kind: kind, model: modelPath, adapter: adapterName, sampler: samplerName,
                      settings: settings.changedAssignments.joined(separator: " "), seed: seed, format: formatLabel,
                      persona: persona, partner: user, prompt: prompt, turns: turns.map { GenerationTurn(sender: $0.speaker, text: $0.text) },
                      output: turns.map { "\($0.speaker): \($0.text)" }.joined(separator: "\n"),
                      repetition: repetition.summary, regurgitation: copied.map { "copied \($0.characterCount) characters from message #\($0.messageId)" },
                      looped: repetition.fellIntoLoop, copyFlagged: copied != nil)
    }
}

/// `chat say=…`'s conversation, carried from one `chat` command to the next.
final class ChatState {
    var chat: ChatSession?
}

/// The live chat: every line is the person's message and the model answers, until `/end`
/// or Ctrl-D. Lines starting with `/` steer it; a leading `\` sends the rest as it is.
final class LiveChat: LineMode {
    let chat: ChatSession
    /// The `chat` command that opened it: its context prints through the session's output
    /// and names the command in errors.
    let ctx: CommandContext
    /// How many turns the last `/save` stored (nil before any).
    var savedTurns: Int?

    static let commands: [(word: String, help: String)] = [
        ("/undo", "take back your last message and the answer to it"),
        ("/retry", "draw the last answer again"),
        ("/save", "save the chat as a generation ('generations' lists them)"),
        ("/end", "leave the chat (Ctrl-D too)"),
        ("/help", "this list"),
    ]

    init(chat: ChatSession, ctx: CommandContext) { self.chat = chat; self.ctx = ctx }

    var prompt: String { "\(chat.user) (to \(chat.persona))> " }
    var endLine: String { "/end" }

    func recordedForm(of line: String) -> String? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return nil }
        // Lines a session file would read as prose or output are written escaped.
        if trimmed.hasPrefix("#") || trimmed.hasPrefix(SessionFile.outputMark) { return "\\" + line }
        return line
    }

    func take(_ line: String, in bench: Workbench) throws {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return }
        if trimmed.hasPrefix("\\") { return try say(String(trimmed.dropFirst())) }
        guard trimmed.hasPrefix("/") else { return try say(trimmed) }
        switch trimmed {
        case "/end":
            bench.closeLineMode()
            let turns = chat.history.count
            let saved = savedTurns == turns ? "saved" : savedTurns == nil ? "not saved" : "not saved since the last /save"
            ctx.print("chat with \(chat.persona) ended: \(turns) turn\(turns == 1 ? "" : "s"), \(turns == 0 ? "nothing to save" : saved)")
        case "/undo":
            guard let lastMine = chat.history.lastIndex(where: { $0.speaker == chat.user }) else {
                throw CommandError.failed(command: "chat", reason: "/undo: nothing to take back")
            }
            let removed = chat.history.count - lastMine
            let message = chat.history[lastMine].text
            chat.history.removeSubrange(lastMine...)
            ctx.print("took back \(jsonString(message))" + (removed > 1 ? " and the answer" : "") + "; \(chat.history.count) turns left")
        case "/retry":
            guard let last = chat.history.last, last.speaker == chat.persona else {
                throw CommandError.failed(command: "chat", reason: "/retry: there is no answer to draw again" + (chat.history.isEmpty ? "" : "; type a message"))
            }
            while chat.history.last?.speaker == chat.persona { chat.history.removeLast() }
            try answer()
        case "/save":
            guard !chat.history.isEmpty else { throw CommandError.failed(command: "chat", reason: "/save: the chat is empty") }
            let id = try CommandTable.saveGeneration(ctx, chat.generation(kind: "chat", prompt: "", turns: chat.history,
                                                                          repetition: RepetitionScore.measure(chat.transcript), copied: nil))
            savedTurns = chat.history.count
            ctx.print("saved as generation \(id)")
        case "/help":
            for c in Self.commands { ctx.print("\(c.word.padding(toLength: 8, withPad: " ", startingAt: 0))\(c.help)") }
            ctx.print("Other lines are your messages; start one with \\ to send it as it is (\\/end).")
        default:
            let word = String(trimmed.prefix { $0 != " " })
            let suggestion = closestMatch(word, in: Self.commands.map(\.word)).map { " (did you mean '\($0)'?)" } ?? ""
            throw CommandError.failed(command: "chat", reason: "unknown chat command '\(word)'\(suggestion); /help lists them, \\\(word) sends it as a message")
        }
    }

    private func say(_ message: String) throws {
        chat.history.append((chat.user, message))
        try answer()
    }

    private func answer() throws {
        let written = try chat.answer(turns: 1, ctx: ctx)
        if written.isEmpty, !ctx.cancellation.isCancelled {
            chat.history.removeLast()
            throw CommandError.failed(command: "chat", reason: "the chat no longer fits the model's context; /undo, or /save and /end")
        }
        if ctx.cancellation.isCancelled { ctx.print("(stopped: kept what was written)") }
        _ = try chat.check(written, ctx: ctx)
    }
}

extension CommandTable {
    /// Starts the conversation a `chat` command describes: the people, the sampler and seed,
    /// the model and adapter, and the format (the adapter's dataset's unless format= is given).
    static func startChat(_ ctx: CommandContext, key: String, persona: String, user: String) throws -> ChatSession {
        let (samplerName, settings, seed) = try samplerAndSeed(ctx)
        let use = try ctx.modelInUse(adapters: .onlyNamed)
        let loaded = use.loaded
        let lora = use.adapter.map { (name: $0.name, adapter: $0.adapter) }
        let parameters = try generationParameters(ctx, adapter: lora?.name)
        let layout = try ChunkLayout(parameters: parameters)
        let generator = try ConversationGenerator(model: loaded.model, tokenizer: loaded.tokenizer, settings: settings,
                                                  capacity: loaded.model.config.contextLength, adapter: lora?.adapter)
        return ChatSession(key: key, persona: persona, user: user, generator: generator, layout: layout,
                           formatLabel: formatLabel(layout, markup: parameters.chatMarkup), samplerName: samplerName,
                           settings: settings, seed: seed, modelPath: loaded.path, adapterName: lora?.name)
    }

    static let chatCommands: [CommandSpec] = [
        CommandSpec("chat", summary: "Talk with the model: you type one side, it answers as the other, streaming",
                    details: """
                    'chat as=NAME' starts a live chat: the prompt shows who is talking, each line you type is your message, \
                    and the model answers as NAME, streaming. /undo takes back your last message and its answer, /retry \
                    draws the last answer again, /save stores the chat as a generation, /end or Ctrl-D returns to the \
                    workbench prompt; a line starting with \\ is sent as it is (\\/end sends "/end"). The model, adapter, \
                    sampler, seed and format hold for the whole chat. Piped input and .persona files chat the same way: the \
                    lines after 'chat' are the messages, up to /end. With say="…" one answer is written and the workbench \
                    prompt stays; a later 'chat say="…"' carries that conversation on ('chat --reset' forgets it), and \
                    both=N then lets the model write N more turns for both sides. as= and with= are people in the store \
                    unless --invent is given. Ctrl-C stops an answer and keeps what was written.
                    """,
                    examples: ["chat as=\"Alex Chen\" sampler=warm", "chat as=Alice with=Ed say=\"are you coming tonight?\"",
                               "chat say=\"ok see you\" both=4", "chat as=Pirate with=Captain --invent"],
                    arguments: [
                        .keyed("as", .person, "who the model is"),
                        .keyed("with", .person, "who you are (default: the store's owner)"),
                        .keyed("say", .string, "one line: answer it and stay at the workbench prompt"),
                        .keyed("both", .int, default: "0", "with say=: then let the model write this many turns for both sides"),
                        .keyed("sampler", .object(.sampler), "the sampler (default: plain sampling)"),
                        .keyed("seed", .string, "seed of the chat's draws (default: the sampler's, else drawn from the session)"),
                        .keyed("format", .choice(["transcript", "donner", "chat"]), "the dataset format (default: the adapter's dataset's, else transcript)"),
                        .keyed("markup", .choice(ChatMarkupName.allCases.map(\.rawValue)), "chat format: the template family (default: the dataset's, else chatml)"),
                        .keyed("adapter", .object(.adapter), "a LoRA adapter to apply"),
                        .keyed("model", .object(.model), "the model (default: the default model)"),
                        .flag("invent", "allow people who are not in the store"),
                        .flag("reset", "forget the conversation of 'chat say='"),
                    ]) { ctx in
            let a = ctx.arguments
            let state = ctx.bench.state(ChatState.self) { ChatState() }
            if a.flag("reset") {
                state.chat = nil
                ctx.print("chat reset")
                if !a.has("as") { return }
            }
            let both = a.int("both", default: 0)
            guard (0...100).contains(both) else { throw CommandError.badValue(command: "chat", argument: "both", value: String(both), expected: "0 to 100") }
            let say = a.string("say")

            // 'chat say=…' alone carries the current conversation on, with its settings.
            let chat: ChatSession
            if !a.has("as"), say != nil, let current = state.chat {
                chat = current
            } else {
                guard let asked = a.string("as") else {
                    throw CommandError.failed(command: "chat", reason: "missing AS: who the model is (as=NAME)" + (say == nil ? "" : "; there is no chat to carry on"))
                }
                let invent = a.flag("invent")
                let persona = try storePerson(ctx, argument: "as", asked, invent: invent)
                let user: String
                if let given = a.string("with") {
                    user = try storePerson(ctx, argument: "with", given, invent: invent)
                } else if let owner = try ctx.messageStore().ownerName() {
                    user = owner
                } else {
                    throw CommandError.failed(command: "chat", reason: "the store does not know who you are (import with me=NAME); give with=NAME")
                }
                guard persona != user else { throw CommandError.badValue(command: "chat", argument: "as", value: persona, expected: "someone other than \(user)") }
                let key = [persona, user, a.string("format") ?? "", a.string("markup") ?? "", a.string("sampler") ?? "",
                           a.string("seed") ?? "", a.string("model") ?? "", a.string("adapter") ?? ""].joined(separator: "\u{1}")
                if say != nil, let current = state.chat, current.key == key {
                    chat = current
                } else {
                    chat = try startChat(ctx, key: key, persona: persona, user: user)
                    if say != nil {
                        state.chat = chat
                        ctx.print("new chat: you are \(user), the model is \(persona) (seed \(chat.seed))")
                    }
                }
            }

            guard let line = say else {
                ctx.bench.openLineMode(LiveChat(chat: chat, ctx: ctx))
                ctx.print("chat: you are \(chat.user), the model is \(chat.persona) (seed \(chat.seed), format \(chat.formatLabel)); "
                          + "type your messages; /undo /retry /save /help; /end or Ctrl-D returns to the workbench")
                return
            }
            chat.history.append((chat.user, line))
            ctx.print("\(chat.user): \(line)")
            let written = try chat.answer(turns: 1 + both, ctx: ctx)
            if ctx.cancellation.isCancelled { ctx.print("(stopped: kept what was written)") }
            let (repetition, copied) = try chat.check(written, ctx: ctx)
            let exchange: [(speaker: String, text: String)] = [(speaker: chat.user, text: line)] + written.map { (speaker: $0.speaker, text: $0.text) }
            _ = try saveGeneration(ctx, chat.generation(kind: "chat", prompt: line, turns: exchange, repetition: repetition, copied: copied))
        },
    ]
}
