import COpenBLAS
import Foundation
import PersonaCore
import PersonaTensor

/// Writes the base model with an adapter folded in (W + s · B A for every adapted projection)
/// as one float32 safetensors file with Hugging Face Llama names and row order (Q and K rows
/// un-permuted, see `AdapterFiles`), for tools that do not know LoRA. Tensors are streamed to a
/// temporary file one at a time (the merged model is never whole in memory) and the file is
/// renamed into place, mode 0600.
public enum AdapterMerge {
    struct Entry {
        var name: String
        var rows: Int
        var columns: Int
        var fill: (UnsafeMutablePointer<Float>) -> Void
    }

    public static func writeMerged(model: FrozenLlama, adapter: LoRAAdapter?, to path: String) throws {
        if let adapter, adapter.shape != model.shape {
            throw TrainError.invalid("adapter '\(adapter.name)' was made for another model shape")
        }
        let s = model.shape, hd = s.headDim
        var entries: [Entry] = []
        func matrixEntry(_ name: String, _ m: any FrozenMatrix, layer: Int?, target: LoRATarget?) -> Entry {
            Entry(name: name, rows: m.rows, columns: m.columns) { out in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: m.rows * m.columns)
                defer { scratch.deallocate() }
                m.dequantizeRows(0..<m.rows, into: scratch)
                if let adapter, let layer, let target, let slot = adapter.slot(layer: layer, target: target) {
                    let p = adapter.parameters.baseAddress!, r = adapter.config.rank
                    // W += s · B A  ([out, r] · [r, in])
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m.rows), Int32(m.columns), Int32(r),
                                adapter.config.scaling, p + slot.bOffset, Int32(r), p + slot.aOffset, Int32(m.columns),
                                1, scratch, Int32(m.columns))
                }
                let permuted = target == .q || target == .k
                for hfRow in 0..<m.rows {
                    let from = permuted ? AdapterFiles.ggufRow(ofHFRow: hfRow, headDim: hd) : hfRow
                    (out + hfRow * m.columns).update(from: scratch + from * m.columns, count: m.columns)
                }
            }
        }
        func vectorEntry(_ name: String, _ v: [Float]) -> Entry {
            Entry(name: name, rows: 1, columns: v.count) { out in v.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: v.count) } }
        }
        entries.append(matrixEntry("model.embed_tokens.weight", model.embedding, layer: nil, target: nil))
        for (l, b) in model.blocks.enumerated() {
            let p = "model.layers.\(l)."
            entries.append(vectorEntry(p + "input_layernorm.weight", b.attentionNorm))
            for t in LoRATarget.allCases {
                entries.append(matrixEntry(p + t.peftModule + ".weight", b.matrix(t), layer: l, target: t))
            }
            entries.append(vectorEntry(p + "post_attention_layernorm.weight", b.mlpNorm))
        }
        entries.append(vectorEntry("model.norm.weight", model.finalNorm))
        if !model.tiedOutput {
            entries.append(matrixEntry("lm_head.weight", model.output, layer: nil, target: nil))
        }

        // Header, then the data in the same order.
        var offset = 0
        var headerEntries: [String] = []
        for e in entries {
            let bytes = e.rows * e.columns * 4
            let shape = e.rows == 1 ? "[\(e.columns)]" : "[\(e.rows),\(e.columns)]"
            headerEntries.append("\(jsonString(e.name)):{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        var header = "{\"__metadata__\":{\"format\":\"pt\"}," + headerEntries.joined(separator: ",") + "}"
        while (header.utf8.count + 8) % 8 != 0 { header += " " }

        let directory = (path as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\((path as NSString).lastPathComponent).partial-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: temporary) else {
            throw FileError.cannotWrite(path: path, reason: "cannot create \(temporary)")
        }
        do {
            var length = UInt64(header.utf8.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: Data(header.utf8))
            for e in entries {
                let count = e.rows * e.columns
                let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
                e.fill(buffer)
                try handle.write(contentsOf: Data(bytesNoCopy: buffer, count: count * 4, deallocator: .custom { p, _ in p.deallocate() }))
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            unlink(temporary)
            throw FileError.cannotWrite(path: path, reason: error.localizedDescription)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FileError.cannotWrite(path: path, reason: reason)
        }
    }
}
