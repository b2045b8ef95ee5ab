import Foundation
import PersonaCore
import PersonaData
import PersonaInspect
import PersonaModel
import PersonaText

extension CommandContext {
    /// Whether this command's output may carry ANSI colour: the session's `color` setting
    /// (or the command's --color), no `NO_COLOR`, standard output a terminal, and the output
    /// going straight to it: never into a recording, a replay check or a test's capture.
    func useColor() -> Bool {
        ColorChoice.enabledForStandardOutput(setting: bench.settings.color || arguments.flag("color"),
                                             recording: !(bench.output is StandardOutput))
    }
}

/// Helpers of the inspect commands: what a text argument names and how tokens are labelled.
enum InspectSupport {
    /// `chats[12]`: a dataset chunk reference (a name of letters, digits, `_`, `-`, `.` and an index).
    static func chunkReference(_ text: String) -> (name: String, index: Int)? {
        guard let open = text.firstIndex(of: "["), text.hasSuffix("]"), open != text.startIndex else { return nil }
        let name = text[..<open]
        let inside = text[text.index(after: open)..<text.index(before: text.endIndex)]
        guard let index = Int(inside),
              name.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0) })
        else { return nil }
        return (String(name), index)
    }

    /// A token's text; a token holding part of a UTF-8 character (pieces of an emoji) shows
    /// its bytes as `\xF0\x9F` instead of replacement characters.
    static func label(_ loaded: LoadedModel) -> (Int32) -> String {
        { id in
            let bytes = loaded.tokenizer.tokenBytes(id)
            if let text = String(validating: bytes, as: UTF8.self) { return text }
            return bytes.map { $0 < 0x80 ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16, uppercase: true) }.joined()
        }
    }

    /// The tokens of a text argument (words joined by spaces), with special-token text parsed.
    static func tokens(_ ctx: CommandContext, _ loaded: LoadedModel, command: String) throws -> [Int32] {
        let text = ctx.arguments.variadic.joined(separator: " ")
        guard !text.isEmpty else { throw CommandError.missingArgument(command: command, argument: "text") }
        let ids = loaded.tokenizer.encode(text, parseSpecialTokens: true)
        guard !ids.isEmpty else { throw CommandError.failed(command: command, reason: "the text has no tokens") }
        return ids
    }

    static let colorArgument = ArgumentSpec.flag("color", "colour on a terminal even when the session's color setting is off")

    /// Prints a loss report: heat map and legend, table, summary (as `view` says).
    static func printLossReport(_ ctx: CommandContext, _ report: LossReport, view: String) {
        let color = ctx.useColor()
        if view != "table" {
            for line in LossRendering.heatMap(report, color: color) { ctx.print(line) }
            ctx.print(LossRendering.legend(color: color, masked: report.masked))
        }
        if view != "map" {
            if view == "both" { ctx.print() }
            ctx.printTable(LossRendering.table(report), rightAligned: LossRendering.tableRightAligned(report))
            if report.rows.contains(where: { row in row.alternatives.contains { $0.id == row.id } }) {
                ctx.print("* marks the actual token among the alternatives")
            }
        }
        ctx.print(LossRendering.summary(report))
    }

    /// Writes a picture privately and atomically, creating nothing else.
    static func writePicture(_ bytes: Data, to path: String, kind: String, _ ctx: CommandContext) throws {
        try PrivateFiles.writeAtomically(bytes, to: path)
        ctx.print("wrote \(kind) \(path)")
    }
}

extension CommandTable {
    /// Commands of the inspect area.
    static let inspectCommands: [CommandSpec] = [
        CommandSpec("loss", summary: "Per-token loss of a text or a dataset chunk, as a heat map and a table",
                    details: """
                    Each text is tokenized with the model's own tokenizer (no BOS added; special-token text \
                    such as <|im_end|> becomes its token) and every token is shown with its loss (nats) and \
                    probability: inline as a heat map (256-colour backgrounds on a terminal; [token loss] \
                    otherwise, and always in recordings), then a table with the model's top-k alternatives at \
                    each position, then the mean loss and perplexity. NAME[i] scores chunk i of a dataset: \
                    only the tokens its loss mask counts enter the mean, and the views mark them (use --text \
                    to score such a string literally). The first line names what was scored: the session's \
                    model with the active adapter (the one last made, trained, loaded or chosen with 'adapter \
                    use'), or adapter=NAME, or adapter=none for the model alone; attention, lens and \
                    perplexity do the same.
                    With --json, texts are read one JSON string per line from standard input (or given as \
                    arguments), and each prints one line: {"ids": […], "nll": […], "mean": x, "top5": \
                    [[id, logit], …]}, where nll[i] is the loss of token i+1 given tokens 0…i and top5 is at \
                    the final position. A line may also be a JSON array of token ids.
                    """,
                    examples: ["loss \"Hello there\"", "loss chats[12] view=table", "loss --json < texts.jsonl",
                               "loss --json model=smol \"Hi\""],
                    arguments: [
                        .variadic("text", required: false, "texts to score, or DATASET[i] (default: lines of standard input with --json)"),
                        ArgumentSpec.model, ArgumentSpec.activeAdapter,
                        .keyed("top", .int, default: "5", "alternatives shown per position"),
                        .keyed("view", .choice(["both", "map", "table"]), default: "both", "the heat map, the table, or both"),
                        .flag("json", "one JSON object per text (the scripting interface)"),
                        .flag("text", "treat NAME[i] as text, not a dataset chunk"),
                        InspectSupport.colorArgument,
                    ]) { ctx in
            let use = try ctx.modelInUse(adapters: .active)
            let loaded = use.loaded, adapter = use.adapter?.adapter
            if ctx.arguments.flag("json") { return try runLossJSON(ctx, loaded, adapter: adapter) }
            guard !ctx.arguments.variadic.isEmpty else { throw CommandError.missingArgument(command: "loss", argument: "text") }
            let top = ctx.arguments.int("top", default: 5)
            guard (0...20).contains(top) else {
                throw CommandError.badValue(command: "loss", argument: "top", value: String(top), expected: "0 to 20")
            }
            ctx.print(use.header)
            let view = ctx.arguments.string("view", default: "both")
            let label = InspectSupport.label(loaded)
            for (n, text) in ctx.arguments.variadic.enumerated() {
                try ctx.cancellation.check()
                if n > 0 { ctx.print() }
                if !ctx.arguments.flag("text"), let reference = InspectSupport.chunkReference(text) {
                    let dataset = try ctx.dataset(named: reference.name)
                    let chunk = try dataset.chunk(reference.index)
                    ctx.print("\(reference.name)[\(reference.index)]: \(chunk.split.rawValue) chunk, \(chunk.tokens.count) tokens, \(chunk.countedTokens) counted by the loss mask")
                    let report = try ModelInspection.losses(loaded.model, adapter: adapter, ids: chunk.tokens, mask: chunk.mask, topK: top, label: label)
                    InspectSupport.printLossReport(ctx, report, view: view)
                } else {
                    let ids = loaded.tokenizer.encode(text, parseSpecialTokens: true)
                    let report = try ModelInspection.losses(loaded.model, adapter: adapter, ids: ids, topK: top, label: label)
                    InspectSupport.printLossReport(ctx, report, view: view)
                }
            }
        }.readingOnly,
        CommandSpec("attention", summary: "Attention of one layer as a terminal heat map, or saved as SVG/PNG",
                    details: """
                    Rows are query tokens, columns the keys they attend to (the causal mask leaves the upper \
                    triangle empty). Shading: ' ' under 0.125, ░ ▒ ▓ █ for about a quarter, half, three \
                    quarters and all of the attention. head=all draws every head as a small map. A text longer \
                    than the window shows its last positions (start=N chooses another window). from=TOKEN (a \
                    position, -1 for the last, or a token's text) lists what that token attends to, as bars \
                    (the mean over heads with head=all). --svg FILE writes a labelled, self-contained SVG and \
                    --png FILE a PNG of the same cells (private files, 0600).
                    """,
                    examples: ["attention \"The cat sat on the mat\" layer=3 head=2",
                               "attention \"The cat sat on the mat\" layer=3 head=all",
                               "attention \"The cat sat on the mat\" layer=3 head=0 from=mat",
                               "attention \"The cat sat on the mat\" layer=3 head=all --svg attn.svg"],
                    arguments: [
                        .variadic("text", .string, "the text (words are joined by spaces)"),
                        .keyed("layer", .int, default: "0", "the layer"),
                        .keyed("head", .string, default: "0", "a head number, or all"),
                        .keyed("from", .string, "one query token: a position or a token's text"),
                        .keyed("start", .int, "first position of the window (default: the last ones)"),
                        .keyed("window", .int, "positions shown (default 32, or 16 per small map)"),
                        .keyed("svg", .path, "write an SVG heat map here"),
                        .keyed("png", .path, "write a PNG heat map here"),
                        ArgumentSpec.model, ArgumentSpec.activeAdapter,
                    ]) { ctx in
            let use = try ctx.modelInUse(adapters: .active)
            let loaded = use.loaded
            let ids = try InspectSupport.tokens(ctx, loaded, command: "attention")
            let layer = ctx.arguments.int("layer", default: 0)
            let pattern = try ModelInspection.attention(loaded.model, adapter: use.adapter?.adapter, ids: ids, layer: layer, label: InspectSupport.label(loaded))
            let headText = ctx.arguments.string("head", default: "0")
            let head: Int?
            if headText == "all" {
                head = nil
            } else {
                guard let h = Int(headText), (0..<pattern.heads).contains(h) else {
                    throw CommandError.badValue(command: "attention", argument: "head", value: headText,
                                                expected: "a head 0…\(pattern.heads - 1), or all")
                }
                head = h
            }
            let heads = head.map { [$0] } ?? Array(0..<pattern.heads)
            let headName = head.map { "head \($0)" } ?? "all \(pattern.heads) heads"
            let start = ctx.arguments.int("start")
            let size = ctx.arguments.int("window", default: head == nil ? 16 : 32)
            guard (1...256).contains(size) else {
                throw CommandError.badValue(command: "attention", argument: "window", value: String(size), expected: "1 to 256")
            }

            // Argument errors come before any output.
            let query = try ctx.arguments.string("from").map { try pattern.position(of: $0) }
            ctx.print(use.header)
            if let q = query {
                ctx.print("token \(q) '\(TokenLabel.visible(pattern.tokens[q]))' attends to (layer \(layer), \(head == nil ? "mean of all heads" : headName)):")
                for line in AttentionRendering.attendedFrom(pattern, head: head, query: q) { ctx.print(line) }
            } else {
                let window = AttentionRendering.window(count: pattern.count, size: size, start: start)
                ctx.print("attention of layer \(layer), \(headName), over \(pattern.count) tokens (rows: query, columns: key)")
                if let note = AttentionRendering.windowNote(window, count: pattern.count) { ctx.print(note) }
                ctx.print(AttentionRendering.legend)
                let lines = head.map { AttentionRendering.grid(pattern, head: $0, window: window) }
                    ?? AttentionRendering.headGrid(pattern, window: window)
                for line in lines { ctx.print(line) }
            }

            // Pictures carry more positions than a terminal row.
            let pictureWindow = AttentionRendering.window(count: pattern.count, size: max(size, 96), start: start)
            let title = "attention, layer \(layer), \(headName)"
            if let svgPath = ctx.arguments.string("svg") {
                let svg = try AttentionSVG.render(pattern, heads: heads, window: pictureWindow, title: title)
                try InspectSupport.writePicture(Data(svg.utf8), to: svgPath, kind: "SVG", ctx)
            }
            if let pngPath = ctx.arguments.string("png") {
                let cell = max(4, min(32, 480 / pictureWindow.count))  // about 480 pixels a side
                let image = try AttentionRaster.image(pattern, heads: heads, window: pictureWindow, cell: cell)
                let png = try PNGEncoder.encode(width: image.width, height: image.height, rgb: image.rgb)
                try InspectSupport.writePicture(Data(png), to: pngPath, kind: "PNG (\(image.width)×\(image.height), no labels: the SVG has them)", ctx)
            }
        }.readingOnly,
        CommandSpec("lens", summary: "Logit lens: the token each layer would predict next, at every position",
                    details: """
                    Each layer's residual stream goes through the final norm and the output head early; the \
                    table shows the top token per layer and position, with the actual next token last. When \
                    the layers do not fit in width=N columns, every k-th layer is shown (and the last), as \
                    the note under the table says.
                    """,
                    examples: ["lens \"The capital of France is\"", "lens \"The capital of France is\" width=200"],
                    arguments: [
                        .variadic("text", .string, "the text (words are joined by spaces)"),
                        .keyed("width", .int, default: "100", "the table's width in columns"),
                        ArgumentSpec.model, ArgumentSpec.activeAdapter,
                    ]) { ctx in
            let use = try ctx.modelInUse(adapters: .active)
            let loaded = use.loaded
            let ids = try InspectSupport.tokens(ctx, loaded, command: "lens")
            let width = ctx.arguments.int("width", default: 100)
            guard (40...1000).contains(width) else {
                throw CommandError.badValue(command: "lens", argument: "width", value: String(width), expected: "40 to 1000")
            }
            let predictions = try ModelInspection.lens(loaded.model, adapter: use.adapter?.adapter, ids: ids)
            let label = InspectSupport.label(loaded)
            let (rows, note) = try LogitLensTable.table(tokens: ids.map(label), predictions: predictions.map { $0.map(label) },
                                                        width: width)
            ctx.print(use.header)
            ctx.print("logit lens over \(ids.count) tokens and \(predictions.count) layers: the top next token of each layer")
            ctx.printTable(rows, rightAligned: [0])
            if let note { ctx.print(note) }
        }.readingOnly,
        CommandSpec("perplexity", summary: "Mean loss and perplexity over many texts: a file, or a dataset's split",
                    details: """
                    FILE holds one text per line, or JSON lines (strings, or objects with a "text" field). \
                    A dataset scores the chunks of split=test (or train) and counts only the tokens each \
                    chunk's loss mask counts. Texts are scored one at a time, with a progress bar on a \
                    terminal; Ctrl-C stops between texts.
                    """,
                    examples: ["perplexity held-out.txt", "perplexity chats", "perplexity chats split=train limit=50"],
                    arguments: [
                        .positional("source", .string, "a text file, or a dataset name"),
                        .keyed("split", .choice(["test", "train"]), default: "test", "the dataset split"),
                        .keyed("limit", .int, "score at most N texts"),
                        ArgumentSpec.model, ArgumentSpec.activeAdapter,
                    ]) { ctx in
            let use = try ctx.modelInUse(adapters: .active)
            let loaded = use.loaded
            let source = try ctx.arguments.required("source")
            let limit = ctx.arguments.int("limit")
            if let limit, limit < 1 {
                throw CommandError.badValue(command: "perplexity", argument: "limit", value: String(limit), expected: "at least 1")
            }
            var items: [(ids: [Int32], mask: [Bool]?)] = []
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), !isDirectory.boolValue {
                let texts = try TextLines.texts(fromFile: source)
                items = texts.prefix(limit ?? texts.count).map { (loaded.tokenizer.encode($0, parseSpecialTokens: true), nil) }
                ctx.print("\(source): \(items.count) text\(items.count == 1 ? "" : "s")")
            } else {
                let split = DatasetSplit(rawValue: ctx.arguments.string("split", default: "test")) ?? .test
                let dataset = try ctx.dataset(named: source)
                let chunks = dataset.chunks(split: split)
                items = chunks.prefix(limit ?? chunks.count).map { ($0.tokens, $0.mask) }
                ctx.print("\(source): \(items.count) \(split.rawValue) chunk\(items.count == 1 ? "" : "s")")
            }
            guard !items.isEmpty else { throw CommandError.failed(command: "perplexity", reason: "\(source) has no texts to score") }
            ctx.print(use.header)
            var tally = PerplexityTally()
            ctx.progress.begin("perplexity", total: items.count, unit: "texts")
            defer { ctx.progress.finish() }
            for (i, item) in items.enumerated() {
                try ctx.cancellation.check()
                let nll = try ModelInspection.tokenLosses(loaded.model, adapter: use.adapter?.adapter, ids: item.ids)
                try tally.add(nll: nll, mask: item.mask)
                ctx.progress.advance(to: i + 1, detail: tally.meanLoss.map { String(format: "mean loss %.3f", $0) })
            }
            ctx.print(tally.summary)
        }.readingOnly,
    ]

    /// `loss --json`: one JSON object per text, from arguments or standard-input lines.
    static func runLossJSON(_ ctx: CommandContext, _ loaded: LoadedModel, adapter: ProjectionAdapter?) throws {
        var inputs: [LossInput] = ctx.arguments.variadic.map { .text($0) }
        if inputs.isEmpty {
            var lineNumber = 0
            while let line = readLine(strippingNewline: true) {
                lineNumber += 1
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                inputs.append(try LossInput.parse(jsonLine: line, lineNumber: lineNumber))
            }
        }
        for input in inputs {
            try ctx.cancellation.check()
            let ids: [Int32]
            switch input {
            case .text(let text): ids = loaded.tokenizer.encode(text, parseSpecialTokens: true)
            case .ids(let given): ids = given
            }
            ctx.print(lossJSON(try loaded.model.tokenLosses(ids, topK: 5, adapter: adapter)))
        }
    }
}

extension BenchTable {
    /// Benchmarks of the inspect area.
    static let inspectBenches: [BenchSpec] = []
}
