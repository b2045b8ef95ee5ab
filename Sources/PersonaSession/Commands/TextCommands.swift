import Foundation
import PersonaCore
import PersonaModel
import PersonaTensor
import PersonaText


/// Tokenizers the session has loaded, by model path (loading one takes ~0.1 s).
final class TextState {
    private var tokenizers: [String: Tokenizer] = [:]

    func tokenizer(for path: String) throws -> Tokenizer {
        if let loaded = tokenizers[path] { return loaded }
        let tokenizer = try loadTokenizer(path: path)
        tokenizers[path] = tokenizer
        return tokenizer
    }
}

extension CommandTable {
    /// Commands of the text area.
    static let textCommands: [CommandSpec] = [
        CommandSpec("tokenize", summary: "Show how a model's tokenizer splits text",
                    details: """
                    Prints each token with its id, its vocabulary entry and the bytes it stands for, then the count. \
                    Special-token text such as <|im_end|> becomes its special token unless --plain is given. \
                    With --json, reads one JSON string per line from standard input and prints one {"ids": […]} per line \
                    (no BOS or other added tokens unless the text contains special-token text).
                    """,
                    examples: ["tokenize \"hey! are we still on for lunch?\"", "tokenize model=models/SmolLM2-135M-Instruct.Q4_1.gguf 👍🏽",
                               "tokenize --json < lines.jsonl"],
                    arguments: [
                        .positional("text", .string, required: false, "the text to tokenize"),
                        .keyed("model", .object(.model), "a session model, a model file (GGUF) or a Hugging Face folder (default: the session's model)"),
                        .flag("json", "read JSON strings from standard input, one per line; print their ids"),
                        .flag("plain", "treat special-token text as plain text"),
                    ]) { ctx in
            let modelPath = try ctx.modelPath(ctx.arguments.string("model"))
            let tokenizer = try ctx.bench.state(TextState.self) { TextState() }.tokenizer(for: modelPath)
            let parseSpecial = !ctx.arguments.flag("plain")
            if ctx.arguments.flag("json") {
                try tokenizeJSONLines(ctx, tokenizer: tokenizer, parseSpecial: parseSpecial)
                return
            }
            guard let text = ctx.arguments.string("text") else {
                throw CommandError.missingArgument(command: "tokenize", argument: "text")
            }
            let ids = tokenizer.encode(text, parseSpecialTokens: parseSpecial)
            var rows: [[String]] = [["#", "id", "token", "bytes"]]
            for (i, id) in ids.enumerated() {
                let bytes = tokenizer.tokenBytes(id)
                let shown = tokenizer.isSpecial(id) ? "(special)" : showBytes(bytes)
                rows.append([String(i), String(id), tokenizer.tokenText(id) ?? "?", shown])
            }
            if ids.isEmpty { ctx.print("no tokens") } else { ctx.printTable(rows, rightAligned: [0, 1]) }
            ctx.print("\(ids.count) token\(ids.count == 1 ? "" : "s"), \(text.utf8.count) bytes (\(tokenizer.kindDescription))")
        },
    ]
}

/// Bytes as text where printable, `\xNN` otherwise, with the space visible as `␠`.
func showBytes(_ bytes: [UInt8]) -> String {
    let text = String(decoding: bytes, as: UTF8.self)
    if Array(text.utf8) == bytes, !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
        return text.replacingOccurrences(of: " ", with: "␠")
    }
    return bytes.map { b in
        (0x21...0x7E).contains(b) ? String(UnicodeScalar(b)) : b == 0x20 ? "␠" : String(format: "\\x%02X", b)
    }.joined()
}

private func tokenizeJSONLines(_ ctx: CommandContext, tokenizer: Tokenizer, parseSpecial: Bool) throws {
    var lineNumber = 0
    while let line = readLine(strippingNewline: true) {
        lineNumber += 1
        if line.isEmpty { continue }
        guard let text = (try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])) as? String else {
            throw CommandError.failed(command: "tokenize --json", reason: "standard input line \(lineNumber) is not a JSON string")
        }
        let ids = tokenizer.encode(text, parseSpecialTokens: parseSpecial)
        ctx.print("{\"ids\": [" + ids.map { String($0) }.joined(separator: ", ") + "]}")
    }
}

extension BenchTable {
    /// Benchmarks of the text area.
    static let textBenches: [BenchSpec] = [
        BenchSpec("tokenize", summary: "Tokenizer encode speed on 20 MB of messages, against Hugging Face tokenizers") { ctx in
            try tokenizeBench(ctx)
        },
    ]
}

/// Processor time of this process (user + system), which other processes on the machine do not inflate.
private func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

private func tokenizeBench(_ ctx: CommandContext) throws -> BenchReport {
    let modelPath = try DefaultModel.resolve(ctx.arguments.string("model"))
    let runs = max(1, ctx.arguments.int("runs") ?? 3)
    let threads = max(1, ctx.arguments.int("threads") ?? ctx.bench.settings.threads)
    var report = BenchReport(bench: "tokenize")

    // Model open to tokenizer ready: mmap, metadata, vocabulary and merges.
    var tokenizer: Tokenizer?
    var gguf: GGUFFile?
    let openSeconds = try measureSeconds(runs: max(runs, 3)) {
        if modelPath.hasSuffix(".gguf") {
            let file = try GGUFFile(path: modelPath)
            tokenizer = try loadTokenizer(gguf: file)
            gguf = file
        } else {
            tokenizer = try loadTokenizer(path: modelPath)
        }
    }
    guard tokenizer != nil else { throw CommandError.failed(command: "bench tokenize", reason: "no tokenizer loaded") }
    report.results.append(BenchResult(name: "model open + tokenizer ready", unit: "s", samples: openSeconds))

    let messages = SyntheticMessages.generate(targetBytes: 20_000_000, seed: 20_240_315)
    let totalBytes = messages.reduce(0) { $0 + $1.utf8.count }
    let megabytes = Double(totalBytes) / 1e6

    // Persona, one thread. Each run starts from a fresh tokenizer so the cache starts cold, as HF's does.
    var ids: [[Int32]] = []
    var tokenCount = 0
    var single: [Double] = []
    var singleCPU: [Double] = []
    for _ in 0..<runs {
        let fresh = try gguf.map { try loadTokenizer(gguf: $0) } ?? loadTokenizer(path: modelPath)
        var produced: [[Int32]] = []
        produced.reserveCapacity(messages.count)
        let start = monotonicSeconds(), startCPU = processCPUSeconds()
        for m in messages { produced.append(fresh.encode(m, parseSpecialTokens: true)) }
        single.append(monotonicSeconds() - start)
        singleCPU.append(processCPUSeconds() - startCPU)
        ids = produced
    }
    tokenCount = ids.reduce(0) { $0 + $1.count }
    report.results.append(BenchResult(name: "persona encode, 1 thread", unit: "MB/s", samples: single.map { megabytes / $0 }))
    report.results.append(BenchResult(name: "persona encode, 1 thread", unit: "Mtok/s", samples: single.map { Double(tokenCount) / $0 / 1e6 }))
    report.results.append(BenchResult(name: "persona encode, 1 thread, CPU time", unit: "MB/s", samples: singleCPU.map { megabytes / $0 }))

    if threads > 1 {
        var multi: [Double] = []
        for _ in 0..<runs {
            let fresh = try gguf.map { try loadTokenizer(gguf: $0) } ?? loadTokenizer(path: modelPath)
            let chunk = (messages.count + threads - 1) / threads
            let start = monotonicSeconds()
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let lower = t * chunk, upper = min(messages.count, lower + chunk)
                guard lower < upper else { return }
                for m in messages[lower..<upper] { _ = fresh.encode(m, parseSpecialTokens: true) }
            }
            multi.append(monotonicSeconds() - start)
        }
        report.results.append(BenchResult(name: "persona encode, \(threads) threads", unit: "MB/s", samples: multi.map { megabytes / $0 }))
    }

    report.notes.append("text: \(messages.count) synthetic messages, \(String(format: "%.1f", megabytes)) MB, \(tokenCount) tokens; model \(modelPath)")
    if let gguf {
        let (peer, reason) = try HuggingFacePeer.run(tokenizerJSON: try huggingFaceTokenizerJSON(gguf: gguf), texts: messages, runs: runs)
        if let peer, !peer.seconds.isEmpty {
            report.results.append(BenchResult(name: "HF tokenizers \(peer.version) \(peer.method), 1 thread", unit: "MB/s",
                                              samples: peer.seconds.map { megabytes / $0 }))
            report.results.append(BenchResult(name: "HF tokenizers \(peer.version) \(peer.method), 1 thread", unit: "Mtok/s",
                                              samples: peer.seconds.map { Double(tokenCount) / $0 / 1e6 }))
            if !peer.cpuSeconds.isEmpty {
                report.results.append(BenchResult(name: "HF tokenizers \(peer.version) \(peer.method), 1 thread, CPU time", unit: "MB/s",
                                                  samples: peer.cpuSeconds.map { megabytes / $0 }))
            }
            func ratio(_ name: String, _ theirs: [Double], _ ours: [Double]) {
                let r = BenchResult(name: "", unit: "", samples: theirs).value / BenchResult(name: "", unit: "", samples: ours).value
                report.results.append(BenchResult(name: name, value: r, unit: "x", runs: 1, min: r, max: r))
            }
            ratio("speed-up over HF, 1 thread", peer.seconds, single)
            if !peer.cpuSeconds.isEmpty { ratio("speed-up over HF, 1 thread, CPU time", peer.cpuSeconds, singleCPU) }
            let differing = zip(ids, peer.ids).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
            if peer.ids.count != ids.count {
                report.notes.append("ids: HF returned \(peer.ids.count) encodings for \(ids.count) messages")
            } else if differing.isEmpty {
                report.notes.append("ids: identical to HF tokenizers for all \(ids.count) messages")
            } else {
                report.notes.append("ids: \(differing.count) of \(ids.count) messages differ from HF tokenizers (first: #\(differing[0]) \(messages[differing[0]].debugDescription))")
            }
            report.notes.append("peer: \(HuggingFacePeer.python) with RAYON_NUM_THREADS=1, the tokenizer.json built from the GGUF's vocabulary and merges; medians "
                                + peer.medians.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", megabytes / $0.value)) MB/s" }.joined(separator: ", "))
        } else {
            report.notes.append("peer: not measured: \(reason ?? "no timings")")
        }
    } else {
        report.notes.append("peer: only measured for GGUF models (the tokenizer.json is built from the GGUF)")
    }
    return report
}
