import Foundation
import XCTest
import PersonaCore
import PersonaTensor
import PersonaModel
import PersonaText
@testable import PersonaSession
import PersonaTestSupport

/// `model NAME PATH quantize=…` on a float base, and training an adapter on it (QLoRA).
final class QuantizedBaseTests: XCTestCase {
    /// A tiny float Llama GGUF that carries the default model's tokenizer (so datasets built
    /// with the default tokenizer fit it): F16 projections, F32 embedding and norms.
    static func writeTinyFloatModel(to path: String, dFF: Int = 128) throws {
        let source = try GGUFFile(path: TestPaths.defaultModel)
        let (dModel, layers, heads, kvHeads, headDim) = (64, 2, 4, 2, 16)
        var writer = GGUFWriter()
        let overrides: [String: Int] = [
            "llama.block_count": layers, "llama.embedding_length": dModel, "llama.feed_forward_length": dFF,
            "llama.attention.head_count": heads, "llama.attention.head_count_kv": kvHeads,
            "llama.rope.dimension_count": headDim, "llama.context_length": 256,
        ]
        for key in source.metadata.keys.sorted() where key != "general.file_type" {
            if let value = overrides[key] { writer.add(key, .uint32(UInt32(value))) } else { writer.add(key, source.metadata[key]!) }
        }
        let vocab = try XCTUnwrap(source.strings("tokenizer.ggml.tokens")).count
        var rng = SeededGenerator(seed: 3)
        func gaussian(_ n: Int, _ scale: Float) -> [Float] { (0..<n).map { _ in Float(rng.nextGaussian()) * scale } }
        func halves(_ values: [Float]) -> [UInt8] {
            values.flatMap { v -> [UInt8] in withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { Array($0) } }
        }
        try writer.addTensor("token_embd.weight", shape: [dModel, vocab], values: gaussian(dModel * vocab, 0.5))
        for l in 0..<layers {
            let p = "blk.\(l)."
            try writer.addTensor(p + "attn_norm.weight", shape: [dModel], values: [Float](repeating: 1, count: dModel))
            try writer.addTensor(p + "ffn_norm.weight", shape: [dModel], values: [Float](repeating: 1, count: dModel))
            for (name, columns, rows) in [("attn_q", dModel, heads * headDim), ("attn_k", dModel, kvHeads * headDim),
                                          ("attn_v", dModel, kvHeads * headDim), ("attn_output", heads * headDim, dModel),
                                          ("ffn_gate", dModel, dFF), ("ffn_up", dModel, dFF), ("ffn_down", dFF, dModel)] {
                // Multiples of 1/1024 below 1/8: exact in F16 and in BF16 (the Hugging Face twin).
                let values = (0..<(rows * columns)).map { _ in Float(Int(rng.next() % 255) - 127) / 1024 }
                try writer.addTensor(p + name + ".weight", type: .f16, shape: [columns, rows], bytes: halves(values))
            }
        }
        try writer.addTensor("output_norm.weight", shape: [dModel], values: [Float](repeating: 1, count: dModel))
        try writer.write(to: path)
    }

    /// A session on a small slice of the demo history (invented exports written into
    /// `directory`), with the dataset `tiny`: transcript chunks of at most 64 tokens.
    static func tinyDemoSession(directory: String, workspace: String, output: OutputSink, imitate: String = "me") throws -> Workbench {
        let bench = Workbench(workspacePath: workspace, output: output)
        for line in [
            "set seed=42 threads=2",
            "demo-data \(directory)/exports",
            "import \(directory)/exports me=\"Sam Rivera\" timezone=UTC",
            "dataset build tiny format=transcript max_tokens=64 min_messages=40 since=2024-11-20 imitate=\(imitate) test_fraction=0.3",
        ] { try bench.execute(line: line) }
        return bench
    }

    func testQuantizedBaseLoadsShowsMemoryAndTrains() throws {
        let directory = try TestPaths.temporaryDirectory("quantized-base")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = directory + "/tiny-f16.gguf", odd = directory + "/odd-f16.gguf"
        try Self.writeTinyFloatModel(to: model)
        try Self.writeTinyFloatModel(to: odd, dFF: 96)
        let out = CapturedOutput()
        let bench = try Self.tinyDemoSession(directory: directory, workspace: directory + "/workspace", output: out)
        _ = out.take()

        try bench.execute(line: "model base \(model) quantize=nf4")
        let loaded = out.take()
        XCTAssertTrue(loaded.contains("base: llama,") && loaded.contains("NF4 ×14"), loaded)
        XCTAssertTrue(loaded.contains("quantized at load: 14 projections F16 → NF4"), loaded)
        try bench.execute(line: "show base")
        let shown = out.take()
        XCTAssertTrue(shown.contains("weights: ") && shown.contains("MB as stored → "), shown)
        let object = try XCTUnwrap(bench.object("base")?.value as? LoadedModel)
        let report = try XCTUnwrap(object.quantization)
        XCTAssertLessThan(report.totalBytesAfter, report.totalBytesBefore)
        XCTAssertEqual(object.model.weights.embedding.formatName, "F32")

        try bench.execute(line: "adapter sam rank=4 alpha=8 targets=q,v model=base")
        try bench.execute(line: "train tiny steps=2 batch=2 lr=1e-3")
        let trained = out.take()
        XCTAssertTrue(trained.contains("step 2") || trained.contains("2 steps"), trained)
        XCTAssertFalse(trained.lowercased().contains("nan"), trained)

        // Double quantization and Q8_0 load too.
        try bench.execute(line: "model base-dq \(model) quantize=nf4-dq")
        XCTAssertTrue(out.take().contains("NF4-DQ ×14"))
        try bench.execute(line: "model base-q8 \(model) quantize=q8_0")
        XCTAssertTrue(out.take().contains("Q8_0 ×14"))

        // Refusals: an already-quantized file, rows that are not whole NF4 blocks, an unknown kind.
        XCTAssertThrowsError(try bench.execute(line: "model q4 \(TestPaths.defaultModelPath) quantize=nf4")) {
            XCTAssertTrue(describeError($0).contains("blk.0.attn_q.weight is already quantized (Q4_1)"), describeError($0))
        }
        XCTAssertThrowsError(try bench.execute(line: "model odd \(odd) quantize=nf4")) {
            XCTAssertTrue(describeError($0).contains("tensor blk.0.ffn_down.weight: expected rows of whole NF4 blocks of 64 weights, found rows of 96"),
                          describeError($0))
        }
        XCTAssertNoThrow(try bench.execute(line: "model odd8 \(odd) quantize=q8_0"))
        XCTAssertThrowsError(try bench.execute(line: "model x \(model) quantize=nf3")) {
            XCTAssertTrue(describeError($0).contains("nf4-dq"), describeError($0))
        }
        XCTAssertNil(bench.object("q4"))
    }

    /// A Hugging Face folder (BF16 projections in Hugging Face row order, tokenizer.json made
    /// from the GGUF) quantizes to the same matrices as the GGUF: rows are permuted before
    /// quantizing, and NF4 blocks never straddle rows.
    func testHuggingFaceFolderQuantizesLikeTheGGUF() throws {
        let directory = try TestPaths.temporaryDirectory("quantized-hf")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ggufPath = directory + "/tiny.gguf", folder = directory + "/tiny-hf"
        try Self.writeTinyFloatModel(to: ggufPath)
        let file = try ModelFile.open(path: ggufPath)
        let c = file.config
        var hf = SafetensorsWriter()
        for name in file.tensorNames {
            let view = try file.tensor(name)
            var values = try file.floats(name)
            if let rows = TensorNames.ropePermutation(forGGUF: name) {
                let source = values
                source.withUnsafeBytes { src in values.withUnsafeMutableBytes { dst in
                    permuteRowsGGUFToHuggingFace(src.baseAddress!, into: dst.baseAddress!, rowBytes: 4 * view.shape[0],
                                                 groups: rows == .query ? c.nHeads : c.nKVHeads, headDim: c.headDim)
                } }
            }
            let hfName = try XCTUnwrap(TensorNames.huggingFaceName(forGGUF: name))
            if view.type == .f16 {
                let bf16 = values.flatMap { v -> [UInt8] in
                    XCTAssertEqual(v.bitPattern & 0xFFFF, 0, "\(name): \(v) is not exact in BF16")
                    return withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { Array($0) }
                }
                try hf.add(hfName, dtype: .bf16, shape: view.shape.reversed(), bytes: bf16)
            } else {
                try hf.add(hfName, shape: view.shape.reversed(), values: values)
            }
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try hf.write(to: folder + "/model.safetensors")
        let gguf = try XCTUnwrap(file.gguf)
        try huggingFaceTokenizerJSON(gguf: gguf).write(to: URL(fileURLWithPath: folder + "/tokenizer.json"))
        try huggingFaceTokenizerConfigJSON(gguf: gguf).write(to: URL(fileURLWithPath: folder + "/tokenizer_config.json"))
        let configJSON = """
        {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": \(c.dModel), "num_hidden_layers": \(c.nLayers),
         "num_attention_heads": \(c.nHeads), "num_key_value_heads": \(c.nKVHeads), "intermediate_size": \(c.dFF), "vocab_size": \(c.vocabSize),
         "max_position_embeddings": \(c.contextLength), "rms_norm_eps": \(Float(c.rmsNormEps)), "rope_theta": \(c.ropeTheta),
         "tie_word_embeddings": true, "hidden_act": "silu"}
        """
        try configJSON.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)

        for kind in [LoadQuantization.nf4, .nf4DoubleQuant, .q8_0] {
            let a = try LoadedModel.open(path: ggufPath, quantize: kind), b = try LoadedModel.open(path: folder, quantize: kind)
            XCTAssertEqual(b.quantization?.sourceFormats, ["BF16"])
            XCTAssertEqual(a.quantization?.sourceFormats, ["F16"])
            for l in 0..<c.nLayers {
                for p in Projection.allCases {
                    let x = a.model.weights.layers[l].matrix(p), y = b.model.weights.layers[l].matrix(p)
                    var u = [Float](repeating: 0, count: x.rows * x.columns), v = u
                    x.dequantizeRows(0..<x.rows, into: &u)
                    y.dequantizeRows(0..<y.rows, into: &v)
                    XCTAssertEqual(u, v, "\(kind.rawValue) \(x.name)")
                }
            }
            let ids = a.tokenizer.encode("The keeper climbed the steps.", parseSpecialTokens: false)
            XCTAssertEqual(ids, b.tokenizer.encode("The keeper climbed the steps.", parseSpecialTokens: false))
            let la = try a.model.tokenLosses(ids), lb = try b.model.tokenLosses(ids)
            XCTAssertEqual(la.nll.count, lb.nll.count)
            for (x, y) in zip(la.nll, lb.nll) { XCTAssertEqual(x, y, accuracy: 1e-4, kind.rawValue) }
        }
    }
}
