import Foundation
import PersonaCore
import PersonaTensor

/// How to store a float base's projection matrices when loading it (the QLoRA recipe).
public enum LoadQuantization: String, CaseIterable, Sendable {
    /// As stored in the file.
    case none
    /// NF4, blocks of 64, float32 absmax per block (4.5 bits per weight).
    case nf4
    /// NF4 with the absmax values double-quantized to 8 bits (about 4.13 bits per weight).
    case nf4DoubleQuant = "nf4-dq"
    /// Q8_0 as ggml stores it (8.5 bits per weight; the fused decode kernels read it).
    case q8_0

    /// The block length that each row must be a whole number of.
    public var blockSize: Int {
        switch self {
        case .none: return 1
        case .nf4, .nf4DoubleQuant: return NF4.blockSize
        case .q8_0: return QuantizedBlocks.weightsPerBlock
        }
    }

    /// The storage format name the quantized matrices report.
    public var formatName: String {
        switch self {
        case .none: return "as stored"
        case .nf4: return "NF4"
        case .nf4DoubleQuant: return "NF4-DQ"
        case .q8_0: return "Q8_0"
        }
    }
}

/// What quantizing at load did: how many matrices, their bytes before and after, how long.
public struct QuantizationReport: Sendable {
    public var kind: LoadQuantization
    public var matrices: Int
    /// Storage formats the projections had in the file (`BF16`, `F32`, …).
    public var sourceFormats: [String]
    /// Bytes of the projections as stored in the file, and as quantized.
    public var sourceBytes: Int
    public var quantizedBytes: Int
    /// Format the embedding (and the head) kept.
    public var keptFormats: [String]
    public var seconds: Double
    /// All weights (embedding, head, norms included) before and after, in bytes.
    public var totalBytesBefore = 0
    public var totalBytesAfter = 0

    public var bitsPerWeight: Double { Double(quantizedBytes) * 8 / Double(max(1, weights)) }
    var weights: Int = 0

    /// `weights: 538.2 MB as stored → 236.1 MB`
    public var totalsLine: String {
        "weights: \(quantizeMegabytes(totalBytesBefore)) as stored → \(quantizeMegabytes(totalBytesAfter)) quantized"
    }

    /// `quantized at load: 210 projections BF16 → NF4, 162.4 MB → 45.7 MB (4.50 bits/weight) in 2.1 s; …`
    public var line: String {
        String(format: "quantized at load: %d projections %@ → %@, %@ → %@ (%.2f bits/weight) in %.1f s; embedding%@ kept as %@",
               matrices, sourceFormats.joined(separator: "+"), kind.formatName, quantizeMegabytes(sourceBytes),
               quantizeMegabytes(quantizedBytes), bitsPerWeight, seconds, keptFormats.count > 1 ? " and head" : "",
               keptFormats.joined(separator: "/"))
    }
}

/// `12.7 MB`, with more digits below 10 MB.
private func quantizeMegabytes(_ bytes: Int) -> String {
    let mb = Double(bytes) / 1e6
    return String(format: mb < 10 ? "%.3f MB" : "%.1f MB", mb)
}

/// Float formats that quantizing at load accepts.
private let floatFormats: Set<String> = ["F32", "F16", "BF16"]

extension LlamaWeights {
    /// These weights with the seven projection matrices of every block quantized into owned
    /// buffers. The embedding and the head stay as stored: QLoRA (and bitsandbytes through
    /// transformers) quantizes only the linear layers inside the blocks, an embedding lookup
    /// reads one row so storage format saves no time there, and a tied head shares it.
    /// Refuses (one line naming the tensor) weights that are already quantized, rows that are
    /// not whole blocks, and non-finite values.
    public func quantizingProjections(_ kind: LoadQuantization, threads: Int = 2,
                                      progress: ProgressReporter? = nil) throws -> (LlamaWeights, QuantizationReport?) {
        guard kind != .none else { return (self, nil) }
        let start = Date()
        var jobs: [(layer: Int, projection: Projection, matrix: WeightMatrix)] = []
        for (l, layer) in layers.enumerated() {
            for p in Projection.allCases { jobs.append((l, p, layer.matrix(p))) }
        }
        for job in jobs {
            let w = job.matrix
            guard floatFormats.contains(w.formatName) else {
                throw ModelError.invalid("\(w.name) is already quantized (\(w.formatName)); quantize=\(kind.rawValue) needs a float model (F32, F16 or BF16 weights): load this file without quantize=")
            }
            guard w.columns % kind.blockSize == 0 else {
                throw ModelError.badWeight(tensor: w.name, expected: "rows of whole \(kind.formatName) blocks of \(kind.blockSize) weights",
                                           actual: "rows of \(w.columns)")
            }
        }

        let lock = NSLock()
        var results = [WeightMatrix?](repeating: nil, count: jobs.count)
        var bytes = [Int](repeating: 0, count: jobs.count)
        var failure: Error?
        var done = 0
        progress?.begin("quantize \(kind.formatName)", total: jobs.count, unit: "matrices")
        defer { progress?.finish() }
        let workers = max(1, min(threads, jobs.count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for j in stride(from: worker, to: jobs.count, by: workers) {
                lock.lock(); let stop = failure != nil; lock.unlock()
                if stop { return }
                do {
                    let (m, n) = try quantize(jobs[j].matrix, kind)
                    lock.lock()
                    results[j] = m; bytes[j] = n; done += 1
                    progress?.advance(to: done, detail: jobs[j].matrix.name)
                    lock.unlock()
                } catch {
                    lock.lock(); if failure == nil { failure = error }; lock.unlock()
                    return
                }
            }
        }
        if let failure { throw failure }

        var out = self
        for (j, job) in jobs.enumerated() {
            let m = results[j]!
            switch job.projection {
            case .q: out.layers[job.layer].q = m
            case .k: out.layers[job.layer].k = m
            case .v: out.layers[job.layer].v = m
            case .o: out.layers[job.layer].o = m
            case .gate: out.layers[job.layer].gate = m
            case .up: out.layers[job.layer].up = m
            case .down: out.layers[job.layer].down = m
            }
        }
        var sourceFormats: [String] = []
        for job in jobs where !sourceFormats.contains(job.matrix.formatName) { sourceFormats.append(job.matrix.formatName) }
        var kept = [embedding.formatName]
        if output.name != embedding.name { kept.append(output.formatName) }
        var report = QuantizationReport(kind: kind, matrices: jobs.count, sourceFormats: sourceFormats,
                                        sourceBytes: jobs.reduce(0) { $0 + $1.matrix.rows * $1.matrix.rowBytes },
                                        quantizedBytes: bytes.reduce(0, +), keptFormats: kept,
                                        seconds: Date().timeIntervalSince(start))
        report.weights = jobs.reduce(0) { $0 + $1.matrix.rows * $1.matrix.columns }
        // Row bytes count the codes only; scales held beside them (NF4) are added.
        let rowBytes = results.reduce(0) { $0 + $1!.rows * $1!.rowBytes }
        report.totalBytesBefore = storedBytes
        report.totalBytesAfter = out.storedBytes + report.quantizedBytes - rowBytes
        return (out, report)
    }
}

/// One matrix quantized into owned bytes, read a row tile at a time; the quantized matrix and its byte count.
private func quantize(_ w: WeightMatrix, _ kind: LoadQuantization) throws -> (WeightMatrix, Int) {
    var nonFinite: (row: Int, value: Float)?
    func read(_ range: Range<Int>, _ tile: UnsafeMutablePointer<Float>) {
        w.dequantizeRows(range, into: tile)
        // A non-finite weight is reported after the matrix (and zeroed: quantizers convert to integers).
        for i in 0..<(range.count * w.columns) where !tile[i].isFinite {
            if nonFinite == nil { nonFinite = (range.lowerBound + i / w.columns, tile[i]) }
            tile[i] = 0
        }
    }
    let result: (WeightMatrix, Int)
    switch kind {
    case .none:
        return (w, w.rows * w.rowBytes)
    case .nf4, .nf4DoubleQuant:
        let m = NF4Matrix(rows: w.rows, columns: w.columns, doubleQuantize: kind == .nf4DoubleQuant, readRows: read)
        result = (m.weightMatrix(name: w.name), m.byteCount)
    case .q8_0:
        let rowBytes = w.columns / 32 * QuantizedBlocks.q8_0Bytes
        let bytes = RawBytes(count: w.rows * rowBytes)
        let tileRows = max(1, 16_384 / w.columns)
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * w.columns)
        defer { tile.deallocate() }
        for r0 in stride(from: 0, to: w.rows, by: tileRows) {
            let r1 = min(w.rows, r0 + tileRows)
            read(r0..<r1, tile)
            QuantizedBlocks.quantizeQ8_0(tile, count: (r1 - r0) * w.columns, into: bytes.pointer + r0 * rowBytes)
        }
        result = (WeightMatrix(name: w.name, rows: w.rows, columns: w.columns, storage: .q8_0(UnsafeRawPointer(bytes.pointer)),
                               owner: bytes), bytes.count)
    }
    if let nonFinite {
        throw ModelError.badWeight(tensor: w.name, expected: "finite weights to quantize", actual: "\(nonFinite.value) in row \(nonFinite.row)")
    }
    return result
}
