import Foundation
import XCTest
@testable import PersonaTensor
import PersonaTestSupport

/// The default model's header, metadata and tensor table against the gguf-py summary in
/// Tests/Golden/smollm2-gguf-metadata.json.
final class FormatsGGUFTests: XCTestCase {
    private func golden() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.golden("smollm2-gguf-metadata.json")))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testDefaultModelHeaderAndMetadata() throws {
        let file = try GGUFFile(path: TestPaths.defaultModel)
        let reference = try golden()
        let source = try XCTUnwrap(reference["source"] as? [String: Any])
        XCTAssertEqual(Int(file.version), source["gguf_version"] as? Int)
        XCTAssertEqual(file.tensors.count, source["tensor_count"] as? Int)
        XCTAssertEqual(file.tensors.count, 272)
        XCTAssertEqual(file.alignment, source["alignment"] as? Int)
        XCTAssertEqual(file.dataOffset, source["tensor_data_start"] as? Int)
        XCTAssertEqual(file.fileSize, source["size_bytes"] as? Int)

        let summary = try XCTUnwrap(reference["summary"] as? [String: Any])
        XCTAssertEqual(file.string("general.architecture"), "llama")
        XCTAssertEqual(file.int("llama.block_count"), 30)
        XCTAssertEqual(file.int("llama.block_count"), summary["n_layers"] as? Int)
        XCTAssertEqual(file.int("llama.embedding_length"), summary["d_model"] as? Int)
        XCTAssertEqual(file.int("llama.feed_forward_length"), summary["d_ff"] as? Int)
        XCTAssertEqual(file.int("llama.attention.head_count"), summary["n_heads"] as? Int)
        XCTAssertEqual(file.int("llama.attention.head_count_kv"), summary["n_kv_heads"] as? Int)
        XCTAssertEqual(file.double("llama.rope.freq_base"), summary["rope_theta"] as? Double)
        XCTAssertEqual(file.double("llama.attention.layer_norm_rms_epsilon"), summary["rms_norm_eps"] as? Double)
        XCTAssertEqual(file.int("llama.context_length"), summary["context_length"] as? Int)

        // Every scalar key/value gguf-py reports, with the same value.
        let kv = try XCTUnwrap(reference["kv"] as? [String: Any])
        for (key, expected) in kv {
            let actual = try XCTUnwrap(file.metadata[key], "key \(key) missing")
            switch expected {
            case let text as String: XCTAssertEqual(actual.stringValue, text, key)
            case let list as [String]: XCTAssertEqual(file.strings(key), list, key)
            case let number as NSNumber:
                if case .bool(let flag) = actual {
                    XCTAssertEqual(flag, number.boolValue, key)
                } else {
                    XCTAssertEqual(actual.doubleValue, number.doubleValue, key)
                }
            default: XCTFail("unexpected golden value for \(key)")
            }
        }

        let arrays = try XCTUnwrap(reference["array_summaries"] as? [String: Any])
        let tokens = try XCTUnwrap(file.strings("tokenizer.ggml.tokens"))
        let tokenSummary = try XCTUnwrap(arrays["tokenizer.ggml.tokens"] as? [String: Any])
        XCTAssertEqual(tokens.count, tokenSummary["count"] as? Int)
        XCTAssertEqual(Array(tokens.prefix(10)), tokenSummary["first_10"] as? [String])
        XCTAssertEqual(Array(tokens.suffix(5)), tokenSummary["last_5"] as? [String])
        let merges = try XCTUnwrap(file.strings("tokenizer.ggml.merges"))
        let mergeSummary = try XCTUnwrap(arrays["tokenizer.ggml.merges"] as? [String: Any])
        XCTAssertEqual(merges.count, mergeSummary["count"] as? Int)
        XCTAssertEqual(Array(merges.prefix(10)), mergeSummary["first_10"] as? [String])
        XCTAssertEqual(Array(merges.suffix(5)), mergeSummary["last_5"] as? [String])
        let types = try XCTUnwrap(file.ints("tokenizer.ggml.token_type"))
        let typeSummary = try XCTUnwrap(arrays["tokenizer.ggml.token_type"] as? [String: Any])
        XCTAssertEqual(types.count, typeSummary["count"] as? Int)
        XCTAssertEqual(types.indices.filter { types[$0] != 1 }, typeSummary["non_normal_ids"] as? [Int])
    }

    func testDefaultModelTensorTable() throws {
        let file = try GGUFFile(path: TestPaths.defaultModel)
        let reference = try golden()
        let table = try XCTUnwrap(reference["tensors"] as? [[String: Any]])
        XCTAssertEqual(table.count, file.tensors.count)
        for (actual, expected) in zip(file.tensors, table) {
            let name = try XCTUnwrap(expected["name"] as? String)
            XCTAssertEqual(actual.name, name)
            XCTAssertEqual(actual.type.name, expected["type"] as? String, name)
            XCTAssertEqual(Int(actual.type.rawValue), expected["type_id"] as? Int, name)
            XCTAssertEqual(actual.shape, expected["shape"] as? [Int], name)
            XCTAssertEqual(actual.elementCount, expected["n_elements"] as? Int, name)
            XCTAssertEqual(actual.byteCount, expected["n_bytes"] as? Int, name)
            XCTAssertEqual(actual.offset, expected["data_offset"] as? Int, name)
            XCTAssertEqual(file.data(for: actual).count, actual.byteCount, name)
            XCTAssertEqual(file.tensor(named: name)?.offset, actual.offset, name)
        }
        XCTAssertEqual(file.tensors.reduce(0) { $0 + $1.byteCount }, reference["tensor_bytes_total"] as? Int)
        XCTAssertNil(file.tensor(named: "output.weight"))
        var counts: [String: Int] = [:]
        for tensor in file.tensors { counts[tensor.type.name, default: 0] += 1 }
        XCTAssertEqual(counts, reference["tensor_type_counts"] as? [String: Int])
    }

    func testOpeningIsFast() throws {
        // Warm the page cache, then time a full open (header, metadata, string arrays, tensor table).
        _ = try GGUFFile(path: TestPaths.defaultModel)
        let start = DispatchTime.now().uptimeNanoseconds
        let file = try GGUFFile(path: TestPaths.defaultModel)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        XCTAssertEqual(file.tensors.count, 272)
        XCTAssertLessThan(seconds, 1.0, "GGUF open took \(seconds) s")  // generous for debug builds; the bench checks 0.3 s in release
    }
}
