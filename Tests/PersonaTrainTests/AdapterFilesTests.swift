import Foundation
import PersonaCore
import PersonaTensor
import PersonaTestSupport
import XCTest
@testable import PersonaTrain

final class AdapterFilesTests: XCTestCase {
    func randomAdapter(_ model: FrozenLlama, targets: [LoRATarget] = LoRATarget.allCases, seed: UInt64 = 3) throws -> LoRAAdapter {
        var rng = SeededGenerator(seed: seed)
        let adapter = LoRAAdapter(name: "a", config: try LoRAConfig(rank: 2, alpha: 5, dropout: 0.05, targets: targets, useRSLoRA: true),
                                  shape: model.shape, baseModel: "HuggingFaceTB/SmolLM2-135M-Instruct", rng: &rng)
        for e in adapter.tensors where e.name.contains("lora_B") {
            for i in e.offset..<(e.offset + e.count) { adapter.parameters[i] = Float(rng.nextGaussian()) }
        }
        return adapter
    }

    func testPermutationIsABijectionAndMatchesTheConverter() {
        // llama.cpp's permute: reshape(n_head, 2, hd/2, …).swapaxes(1, 2): HF row h·hd + j·hd/2 + i → h·hd + 2i + j.
        let hd = 8
        let rows = (0..<16).map { AdapterFiles.ggufRow(ofHFRow: $0, headDim: hd) }
        XCTAssertEqual(Set(rows).count, 16)
        XCTAssertEqual(Array(rows[0..<8]), [0, 2, 4, 6, 1, 3, 5, 7])
        XCTAssertEqual(rows[8], 8)
    }

    func testSaveLoadRoundTripWithPEFTNamesAndPrivateFiles() throws {
        let model = TinyModel.make()
        let adapter = try randomAdapter(model)
        let directory = try TestPaths.temporaryDirectory("adapter")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try AdapterFiles.save(adapter, to: directory + "/out")
        for file in [AdapterFiles.weightsFile, AdapterFiles.configFile] {
            let mode = try FileManager.default.attributesOfItem(atPath: directory + "/out/" + file)[.posixPermissions] as? Int
            XCTAssertEqual(mode, 0o600, file)
        }
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/out/" + AdapterFiles.configFile))) as? [String: Any])
        XCTAssertEqual(config["r"] as? Int, 2)
        XCTAssertEqual(config["lora_alpha"] as? Double, 5)
        XCTAssertEqual(config["peft_type"] as? String, "LORA")
        XCTAssertEqual(config["task_type"] as? String, "CAUSAL_LM")
        XCTAssertEqual(config["bias"] as? String, "none")
        XCTAssertEqual(config["use_rslora"] as? Bool, true)
        XCTAssertEqual(config["target_modules"] as? [String], ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
        XCTAssertEqual(config["base_model_name_or_path"] as? String, "HuggingFaceTB/SmolLM2-135M-Instruct")

        // On disk: PEFT names, HF row order for q/k lora_B.
        let (tensors, _) = try SafetensorsCodec.read(path: directory + "/out/" + AdapterFiles.weightsFile)
        XCTAssertEqual(tensors.count, adapter.tensors.count)
        let name = "base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight"
        let onDisk = try XCTUnwrap(tensors[name])
        let entry = try XCTUnwrap(adapter.tensor(named: name))
        XCTAssertEqual(onDisk.shape, [model.shape.kvDim, 2])
        for hfRow in 0..<entry.rows {
            let g = AdapterFiles.ggufRow(ofHFRow: hfRow, headDim: model.shape.headDim)
            XCTAssertEqual(onDisk.values[hfRow * 2], adapter.parameters[entry.offset + g * 2])
        }

        let loaded = try AdapterFiles.load(from: directory + "/out", name: "b", shape: model.shape)
        XCTAssertEqual(loaded.config, adapter.config)
        XCTAssertEqual((0..<adapter.parameterCount).map { adapter.parameters[$0] }, (0..<loaded.parameterCount).map { loaded.parameters[$0] })
    }

    func testLoadsF16GoldenInitAndBF16() throws {
        let path = try TestPaths.golden("lora-init.safetensors")
        let shape = ModelShape(layers: 30, hidden: 576, heads: 9, kvHeads: 3, intermediate: 1536, vocab: 49152)
        let adapter = LoRAAdapter(name: "g", config: try LoRAConfig(rank: 8, alpha: 16), shape: shape)
        try AdapterFiles.fill(adapter, fromSafetensors: path)
        XCTAssertEqual(adapter.parameterCount, 2_442_240)
        let e = try XCTUnwrap(adapter.tensor(named: "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"))
        var nonzero = 0
        for i in e.offset..<(e.offset + e.count) where adapter.parameters[i] != 0 { nonzero += 1 }
        XCTAssertGreaterThan(nonzero, e.count / 2)

        // A hand-made BF16 file: 1.0, −2.0, 0.5, 3.0 as [2, 2].
        let directory = try TestPaths.temporaryDirectory("bf16")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var header = "{\"t\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}"
        while (header.utf8.count + 8) % 8 != 0 { header += " " }
        var data = Data()
        var n = UInt64(header.utf8.count).littleEndian
        data.append(Data(bytes: &n, count: 8)); data.append(Data(header.utf8))
        for v: Float in [1, -2, 0.5, 3] { var b = UInt16(v.bitPattern >> 16).littleEndian; data.append(Data(bytes: &b, count: 2)) }
        try data.write(to: URL(fileURLWithPath: directory + "/x.safetensors"))
        let (t, _) = try SafetensorsCodec.read(path: directory + "/x.safetensors")
        XCTAssertEqual(t["t"]?.values, [1, -2, 0.5, 3])
        // A header that claims more data than the file holds is rejected with the tensor named.
        var bad = "{\"t\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"
        while (bad.utf8.count + 8) % 8 != 0 { bad += " " }
        var badData = Data(); var m = UInt64(bad.utf8.count).littleEndian
        badData.append(Data(bytes: &m, count: 8)); badData.append(Data(bad.utf8)); badData.append(Data(count: 8))
        try badData.write(to: URL(fileURLWithPath: directory + "/bad.safetensors"))
        XCTAssertThrowsError(try SafetensorsCodec.read(path: directory + "/bad.safetensors")) { error in
            // The shared reader names the tensor, quoted, with what does not fit.
            XCTAssertTrue(describeError(error).contains("tensor 't' data runs past end of file"), describeError(error))
        }
    }

    func testMergedModelEqualsBasePlusAdapter() throws {
        let model = TinyModel.make()
        let adapter = try randomAdapter(model, targets: [.q, .k, .o, .down])
        let directory = try TestPaths.temporaryDirectory("merge")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/merged.safetensors"
        try AdapterMerge.writeMerged(model: model, adapter: adapter, to: path)
        let (t, _) = try SafetensorsCodec.read(path: path)
        func matrix(_ name: String, permuteFor target: LoRATarget?) throws -> FloatMatrix {
            let tensor = try XCTUnwrap(t[name], name)
            let m = FloatMatrix(rows: tensor.shape[0], columns: tensor.shape[1])
            for hfRow in 0..<m.rows {
                let g = (target == .q || target == .k) ? AdapterFiles.ggufRow(ofHFRow: hfRow, headDim: model.shape.headDim) : hfRow
                for c in 0..<m.columns { m.values[g * m.columns + c] = tensor.values[hfRow * m.columns + c] }
            }
            return m
        }
        var blocks: [FrozenBlock] = []
        for l in 0..<model.shape.layers {
            let p = "model.layers.\(l)."
            blocks.append(FrozenBlock(
                attentionNorm: try XCTUnwrap(t[p + "input_layernorm.weight"]).values,
                q: try matrix(p + "self_attn.q_proj.weight", permuteFor: .q), k: try matrix(p + "self_attn.k_proj.weight", permuteFor: .k),
                v: try matrix(p + "self_attn.v_proj.weight", permuteFor: nil), o: try matrix(p + "self_attn.o_proj.weight", permuteFor: nil),
                mlpNorm: try XCTUnwrap(t[p + "post_attention_layernorm.weight"]).values,
                gate: try matrix(p + "mlp.gate_proj.weight", permuteFor: nil), up: try matrix(p + "mlp.up_proj.weight", permuteFor: nil),
                down: try matrix(p + "mlp.down_proj.weight", permuteFor: nil)))
        }
        let merged = FrozenLlama(shape: model.shape, embedding: try matrix("model.embed_tokens.weight", permuteFor: nil), blocks: blocks,
                                 finalNorm: try XCTUnwrap(t["model.norm.weight"]).values, source: path)
        XCTAssertNil(t["lm_head.weight"], "tied head is not duplicated")
        let batch = try TrainingBatch(sequences: [[1, 2, 3, 4, 5, 6]])
        let viaAdapter = try TrainingGraph(model: model, maxSequences: 1, maxLength: 6, rank: 2).tokenLosses(batch: batch, adapter: adapter)
        let viaMerged = try TrainingGraph(model: merged, maxSequences: 1, maxLength: 6, rank: 2).tokenLosses(batch: batch, adapter: nil)
        let report = compare(viaMerged, viaAdapter, atol: 1e-4)
        XCTAssertTrue(report.passed, "merged vs base+adapter: \(report)")
        let base = try TrainingGraph(model: model, maxSequences: 1, maxLength: 6, rank: 2).tokenLosses(batch: batch, adapter: nil)
        XCTAssertFalse(compare(base, viaAdapter, atol: 1e-3).passed, "the adapter changes the model")
    }
}
