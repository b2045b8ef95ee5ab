import PersonaCore
import PersonaTensor
import PersonaText
import PersonaModel

extension CommandTable {
    /// Commands that read model files (GGUF, safetensors folders) without running them.
    static let modelFileCommands: [CommandSpec] = [
        CommandSpec("model info", summary: "Describe a model file or Hugging Face folder",
                    details: "Architecture, parameter count, tensor types and sizes, memory needed, tokenizer, special tokens and chat template family. Reads only the header; nothing is loaded into memory.",
                    examples: ["model info", "model info models/SmolLM2-135M-Instruct.Q4_1.gguf --tensors --metadata", "model info ~/hf/TinyLlama-1.1B-Chat-v1.0"],
                    arguments: [
                        .positional("path", .path, required: false, "a session model, a .gguf file or a folder with config.json and *.safetensors (default: the session's model)"),
                        .flag("tensors", "also list every tensor with its type, shape and size"),
                        .flag("metadata", "also list every GGUF metadata key with its type and value"),
                    ]) { ctx in
            let path = try ctx.modelPath(ctx.arguments.string("path"))
            let model = try ModelFile.open(path: path)
            let summary = ModelSummary(model)
            ctx.printTable(summary.rows.map { [$0.0, $0.1] })
            ctx.print()
            ctx.printTable(summary.typeTable, rightAligned: [1, 2, 3])
            if ctx.arguments.flag("metadata") && !summary.metadataTable.isEmpty {
                ctx.print()
                ctx.printTable([["key", "type", "value"]] + summary.metadataTable)
            }
            if ctx.arguments.flag("tensors") {
                ctx.print()
                ctx.printTable([["tensor", "type", "shape", "bytes"]] + summary.tensorTable, rightAligned: [3])
            }
        },
    ]
}

extension BenchTable {
    /// Benchmarks of model-file reading.
    static let modelFileBenches: [BenchSpec] = [
        BenchSpec("model-open", summary: "Open a model: map the file, read metadata and the tensor table, build the tokenizer (target < 0.3 s)") { ctx in
            let path = try DefaultModel.resolve(ctx.arguments.string("model"))
            let runs = max(1, ctx.arguments.int("runs") ?? 10)
            var headerSeconds: [Double] = [], modelSeconds: [Double] = [], tokenizerSeconds: [Double] = [], totalSeconds: [Double] = []
            var tensors = 0, vocabulary = 0
            for run in 0...runs {  // run 0 warms the page cache and is not counted
                let start = monotonicSeconds()
                let model = try ModelFile.open(path: path)
                let opened = monotonicSeconds()
                var tokenizerReady = opened
                if let gguf = model.gguf {
                    let tokenizer = try loadTokenizer(gguf: gguf)
                    _ = try? ChatTemplate.forModel(gguf: gguf)
                    vocabulary = tokenizer.vocabularySize
                    tokenizerReady = monotonicSeconds()
                }
                tensors = model.tensorNames.count
                let headerStart = monotonicSeconds()
                _ = try GGUFFile(path: path)
                let headerEnd = monotonicSeconds()
                guard run > 0 else { continue }
                modelSeconds.append(opened - start)
                tokenizerSeconds.append(tokenizerReady - opened)
                totalSeconds.append(tokenizerReady - start)
                headerSeconds.append(headerEnd - headerStart)
            }
            return BenchReport(bench: "model-open", results: [
                BenchResult(name: "open + tokenizer ready", unit: "s", samples: totalSeconds),
                BenchResult(name: "model file (mmap, metadata, config, tensor checks)", unit: "s", samples: modelSeconds),
                BenchResult(name: "tokenizer + chat template", unit: "s", samples: tokenizerSeconds),
                BenchResult(name: "GGUF header parse alone", unit: "s", samples: headerSeconds),
            ], notes: ["model \(path): \(tensors) tensors, \(vocabulary) tokens; target: open + tokenizer ready < 0.3 s"])
        },
        BenchSpec("dequantize", summary: "Dequantize every tensor of a model to float32, SIMD kernels against their naive twin") { ctx in
            let path = try DefaultModel.resolve(ctx.arguments.string("model"))
            let runs = max(1, ctx.arguments.int("runs") ?? 3)
            let model = try ModelFile.open(path: path)
            let views = try model.tensorNames.map { try model.tensor($0) }
            let largest = views.map(\.elementCount).max() ?? 0
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(largest, 1))  // [largest tensor]
            defer { buffer.deallocate() }
            var byType: [GGMLType: (elements: Int, fast: [Double], naive: [Double])] = [:]
            for view in views {
                guard let source = view.data.baseAddress else { continue }
                let fast = measureSeconds(runs: runs, warmup: 1) {
                    dequantize(view.type, source, count: view.elementCount, into: buffer)
                }
                let naive = measureSeconds(runs: 1) {
                    dequantizeReference(view.type, source, count: view.elementCount, into: buffer)
                }
                var entry = byType[view.type] ?? (0, [Double](repeating: 0, count: runs), [0])
                entry.elements += view.elementCount
                for i in 0..<runs { entry.fast[i] += fast[i] }
                entry.naive[0] += naive[0]
                byType[view.type] = entry
            }
            var results: [BenchResult] = []
            for (type, entry) in byType.sorted(by: { $0.value.elements > $1.value.elements }) {
                let elements = Double(entry.elements) / 1e6
                results.append(BenchResult(name: "\(type.name) SIMD, one thread", unit: "M elements/s", samples: entry.fast.map { elements / $0 }))
                results.append(BenchResult(name: "\(type.name) naive twin", unit: "M elements/s", samples: entry.naive.map { elements / $0 }))
            }
            return BenchReport(bench: "dequantize", results: results, notes: ["model \(path); every canonical tensor once per run"])
        },
    ]
}
