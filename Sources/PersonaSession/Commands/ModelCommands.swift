import Foundation
import PersonaCore
import PersonaTensor
import PersonaModel

/// Models the session has opened without naming them (the default model), by path.
final class ModelAreaState {
    var unnamed: [String: LoadedModel] = [:]
}


extension CommandContext {
    /// The model `model=NAME` names (a session model or a file), or with no name the
    /// session's model, else the default model (see `modelReference`).
    func loadedModel(_ name: String?) throws -> LoadedModel {
        try load(modelReference(name))
    }

    func openUnnamedModel(path: String) throws -> LoadedModel {
        let state = bench.state(ModelAreaState.self) { ModelAreaState() }
        if let m = state.unnamed[path] { return m }
        let m = try LoadedModel.open(path: path, threads: bench.settings.threads)
        state.unnamed[path] = m
        return m
    }
}

extension CommandTable {
    /// Commands of the model area.
    static let modelCommands: [CommandSpec] = [
        CommandSpec("model", summary: "Load a model file as a named session object, and make it the session's model",
                    details: "Commands that take model= use the model loaded last when none is given ('model use NAME' switches). The weights stay mapped from the file in their stored formats (a 4-bit file stays 4-bit). "
                        + "For a float model (a Hugging Face folder of F32/F16/BF16 safetensors, or a GGUF with F32/F16 weights), "
                        + "quantize= stores the seven projection matrices of every block as NF4 (blocks of 64, bitsandbytes' code book), "
                        + "NF4 with double-quantized scales (nf4-dq) or Q8_0: the frozen base of QLoRA. The embedding and head stay as stored.",
                    examples: ["model base", "model smol models/SmolLM2-135M-Instruct.Q4_1.gguf",
                               "model base models/SmolLM2-135M-Instruct quantize=nf4"],
                    arguments: [
                        .positional("name", .string, "the name to give it"),
                        .positional("path", .path, required: false, "a GGUF file or a Hugging Face model folder (default: the default model)"),
                        .keyed("quantize", .choice(LoadQuantization.allCases.map(\.rawValue)), default: "none",
                               "quantize a float model's projections at load"),
                    ]) { ctx in
            let name = try ctx.arguments.required("name")
            let path = try ctx.arguments.string("path") ?? DefaultModel.resolve(nil)
            if CommandTable.command(named: "model " + name) != nil {
                throw CommandError.badValue(command: "model", argument: "name", value: name, expected: "a name that is not a model subcommand")
            }
            let word = ctx.arguments.string("quantize") ?? "none"
            guard let quantize = LoadQuantization(rawValue: word) else {
                throw CommandError.badValue(command: "model", argument: "quantize", value: word,
                                            expected: LoadQuantization.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let loaded = try LoadedModel.open(path: path, threads: ctx.bench.settings.threads, quantize: quantize,
                                              progress: ctx.progress)
            ctx.bench.register(NamedObject(name: name, kind: .model, summary: loaded.summary, value: loaded,
                                           details: { loaded.details }))
            ctx.print("\(name): \(loaded.summary)")
            if let q = loaded.quantization { ctx.print("  " + q.line) }
            ctx.activateModel(name)
        },
        CommandSpec("model use", summary: "Make a loaded model the session's model (what model= defaults to)",
                    details: "Commands that take model= run on the session's model when none is given: the one loaded last, or the one chosen here. "
                        + "An active adapter made for another model stops being active.",
                    examples: ["model use base"],
                    arguments: [.positional("name", .object(.model), "a model loaded with 'model NAME FILE'")]) { ctx in
            let name = try ctx.arguments.required("name")
            _ = try ctx.bench.object(name, kind: .model, as: LoadedModel.self)
            ctx.print("session model: \(name)")
            ctx.activateModel(name)
        },
        // `loss` (with its --json form for scripts) is declared with the inspect commands.
    ]
}

enum LossInput {
    case text(String)
    case ids([Int32])

    static func parse(jsonLine line: String, lineNumber: Int) throws -> LossInput {
        let value = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
        if let text = value as? String { return .text(text) }
        if let numbers = value as? [Any] {
            var ids: [Int32] = []
            for n in numbers {
                guard let i = n as? Int, let id = Int32(exactly: i) else {
                    throw CommandError.failed(command: "loss", reason: "standard input line \(lineNumber): token ids must be integers")
                }
                ids.append(id)
            }
            return .ids(ids)
        }
        throw CommandError.failed(command: "loss", reason: "standard input line \(lineNumber): expected a JSON string (or an array of token ids), found \(line.prefix(40))")
    }
}

/// Shortest round-tripping decimal of a Float (JSON has no NaN: those become null).
private func jsonNumber(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }

func lossJSON(_ l: TokenLosses) -> String {
    let ids = l.ids.map { String($0) }.joined(separator: ", ")
    let nll = l.nll.map(jsonNumber).joined(separator: ", ")
    let mean = l.mean.map { $0.isFinite ? "\($0)" : "null" } ?? "null"
    let top = l.top.map { "[\($0.id), \(jsonNumber($0.logit))]" }.joined(separator: ", ")
    return "{\"ids\": [\(ids)], \"nll\": [\(nll)], \"mean\": \(mean), \"top5\": [\(top)]}"
}

extension BenchTable {
    /// Benchmarks of the model area.
    static let modelBenches: [BenchSpec] = [
        BenchSpec("decode", summary: "Tokens/s generating 128 tokens after a short prompt (KV cache), vs llama.cpp") { ctx in
            try runModelBench(ctx, mode: .decode)
        },
        BenchSpec("prefill", summary: "Tokens/s reading a 200-token prompt, vs llama.cpp") { ctx in
            try runModelBench(ctx, mode: .prefill)
        },
    ]
}

enum ModelBenchMode: String { case decode, prefill }

/// A short chat prompt (decode) and a prose passage (prefill, cut to 200 tokens).
private let decodePrompt = "<|im_start|>user\nTell me a short story about a lighthouse keeper and a storm.<|im_end|>\n<|im_start|>assistant\n"
private let prefillPassage = """
The lighthouse stood at the end of a long spit of rock, where the sea came in grey and heavy \
from the west. Every evening the keeper climbed the ninety-one steps, trimmed the wick, wound \
the clockwork that turned the lens, and wrote three lines in the log: the wind, the sea, and \
the ships he had seen. In winter the storms came one after another, and the spray reached the \
lantern room itself; in summer the nights were short and quiet, and he read by the last of the \
light. Nobody visited except the supply boat, twice a month when the weather allowed, and the \
gulls, who visited every day whether the weather allowed or not. He kept a garden in the lee of \
the wall, potatoes and kale and a row of stubborn onions, and he talked to them when he weeded. \
One October the boat did not come, and then it did not come again, and he began to count his \
candles and his flour with more care than before.
"""

func runModelBench(_ ctx: CommandContext, mode: ModelBenchMode) throws -> BenchReport {
    let threads = ctx.arguments.int("threads") ?? ctx.bench.settings.threads
    let path = try DefaultModel.resolve(ctx.arguments.string("model"))
    let baselineMB = residentMB() ?? 0
    let loaded = try LoadedModel.open(path: path, threads: threads)
    let model = loaded.model
    let newTokens = 128
    let runs = ctx.arguments.int("runs") ?? (mode == .decode ? 3 : 5)
    guard runs >= 1 else { throw CommandError.badValue(command: "bench", argument: "runs", value: String(runs), expected: "at least 1") }

    var prompt: [Int32]
    switch mode {
    case .decode:
        prompt = loaded.tokenizer.encode(decodePrompt, parseSpecialTokens: true)
    case .prefill:
        prompt = []
        let passage = loaded.tokenizer.encode(prefillPassage, parseSpecialTokens: false)
        guard !passage.isEmpty else { throw CommandError.failed(command: "bench prefill", reason: "the tokenizer produced no tokens") }
        while prompt.count < 200 { prompt += passage }
        prompt = Array(prompt.prefix(200))
    }
    let cache = try model.makeCache(capacity: min(model.config.contextLength, prompt.count + newTokens + 1))

    var rates: [Double] = []
    for run in 0...runs {  // run 0 warms caches and page-ins, and is not counted
        try ctx.cancellation.check()
        let seconds: Double
        switch mode {
        case .decode: seconds = try model.greedyDecode(prompt, newTokens: newTokens, cache: cache).seconds
        case .prefill: seconds = try model.prefillSeconds(prompt, cache: cache)
        }
        if run > 0 { rates.append(Double(mode == .decode ? newTokens : prompt.count) / seconds) }
    }
    let peakMB = peakResidentMB() ?? .nan
    var results = [
        BenchResult(name: "persona tokens/s", unit: "tok/s", samples: rates),
        BenchResult(name: "persona peak RSS", unit: "MB", samples: [peakMB]),
        BenchResult(name: "persona peak RSS above baseline", unit: "MB", samples: [peakMB - baselineMB]),
    ]
    var notes = [
        "model \(path): \(loaded.summary)",
        "\(mode == .decode ? "\(newTokens) new tokens after a \(prompt.count)-token prompt" : "\(prompt.count)-token prompt"), threads \(threads), OpenBLAS core \(BLASThreads.coreName)",
    ]

    // The peer, on the same file and prompt, in a child process (PERSONA_BENCH_PEER=0 skips it).
    if ProcessInfo.processInfo.environment["PERSONA_BENCH_PEER"] == "0" {
        notes.append("peer llama.cpp skipped (PERSONA_BENCH_PEER=0)")
        return BenchReport(bench: mode.rawValue, results: results, notes: notes)
    }
    switch runLlamaCppPeer(mode: mode, modelPath: path, threads: threads, runs: runs, prompt: prompt, newTokens: newTokens) {
    case .success(let peer):
        let peerRate = BenchResult(name: "llama.cpp tokens/s", unit: "tok/s", samples: peer.rates)
        results.append(peerRate)
        results.append(BenchResult(name: "llama.cpp peak RSS above baseline", unit: "MB", samples: [peer.peakAboveBaselineMB]))
        results.append(BenchResult(name: "speed ratio persona/llama.cpp", unit: "x", samples: [results[0].value / peerRate.value]))
        results.append(BenchResult(name: "RSS ratio persona/llama.cpp (above baseline)", unit: "x",
                                   samples: [(peakMB - baselineMB) / peer.peakAboveBaselineMB]))
        notes.append("peer: llama-cpp-python \(peer.version), n_threads=\(threads), n_batch=512")
    case .failure(let reason):
        notes.append("peer llama.cpp not run: \(reason)")
    }
    return BenchReport(bench: mode.rawValue, results: results, notes: notes)
}

struct PeerFigures {
    var rates: [Double]
    var peakAboveBaselineMB: Double
    var version: String
}

struct PeerFailure: Error { var reason: String }

/// Runs scripts/bench-llamacpp.py with the Python that has llama-cpp-python
/// (`PERSONA_LLAMACPP_PYTHON`, else /tmp/llamacpp-venv/bin/python, else python3).
func runLlamaCppPeer(mode: ModelBenchMode, modelPath: String, threads: Int, runs: Int, prompt: [Int32],
                     newTokens: Int) -> Result<PeerFigures, PeerFailure> {
    let env = ProcessInfo.processInfo.environment
    let candidates = [env["PERSONA_LLAMACPP_PYTHON"], "/tmp/llamacpp-venv/bin/python"].compactMap { $0 }
    let python = candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/env"
    let script = "scripts/bench-llamacpp.py"
    guard FileManager.default.fileExists(atPath: script) else { return .failure(PeerFailure(reason: "\(script) not found (run from the repository root)")) }
    var arguments = python == "/usr/bin/env" ? ["python3"] : []
    arguments += [script, "--model", modelPath, "--mode", mode.rawValue, "--threads", String(threads), "--runs", String(runs),
                  "--new-tokens", String(newTokens), "--prompt-ids", prompt.map { String($0) }.joined(separator: ",")]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { return .failure(PeerFailure(reason: "could not start \(python): \(error)")) }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let rates = object["tokens_per_second"] as? [Double],
          let peak = object["peak_rss_above_baseline_mb"] as? Double else {
        let lastLine = errorText.split(separator: "\n").last.map(String.init) ?? "no output"
        return .failure(PeerFailure(reason: "\(script) failed (status \(process.terminationStatus)): \(lastLine)"))
    }
    return .success(PeerFigures(rates: rates, peakAboveBaselineMB: peak, version: object["version"] as? String ?? "?"))
}
