import Foundation
import PersonaCore

/// Runs Hugging Face `tokenizers` (Python) on the same texts with the same tokenizer, one
/// thread (`RAYON_NUM_THREADS=1`), for the tokenizer benchmark's comparison.
public struct HuggingFacePeer {
    public struct Result {
        public var version: String
        /// The faster of `encode_batch` and `encode_batch_fast`, whose timings `seconds` are.
        public var method: String
        /// Median seconds of every method tried.
        public var medians: [String: Double]
        /// Seconds per run of `encode_batch` over all texts.
        public var seconds: [Double]
        /// Processor seconds per run (robust to other processes sharing the machine).
        public var cpuSeconds: [Double]
        /// Ids of each text.
        public var ids: [[Int32]]
    }

    /// The Python interpreter: `$PERSONA_PYTHON`, else `python3` on the PATH.
    public static var python: String { ProcessInfo.processInfo.environment["PERSONA_PYTHON"] ?? "python3" }

    static let script = #"""
import json, struct, sys, time
try:
    import tokenizers
    from tokenizers import Tokenizer
except ImportError as e:
    print(json.dumps({"error": "python tokenizers is not installed (%s); install it with: python3 -m pip install --user 'tokenizers==0.23.*'" % e}))
    sys.exit(0)
tok_path, texts_path, ids_path, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tok = Tokenizer.from_file(tok_path)
texts = json.load(open(texts_path, encoding="utf-8"))
# Both batch entry points; the faster one is the peer's figure (encode_batch_fast skips offsets).
methods, cpu_seconds = {}, {}
for name in ("encode_batch", "encode_batch_fast"):
    method = getattr(tok, name, None)
    if method is None:
        continue
    times, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        encodings = method(texts, add_special_tokens=False)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    methods[name] = times
    cpu_seconds[name] = cpu
best = min(methods, key=lambda m: sorted(methods[m])[len(methods[m]) // 2])
seconds = methods[best]
with open(ids_path, "wb") as f:
    for e in encodings:
        ids = e.ids
        f.write(struct.pack("<i", len(ids)))
        f.write(struct.pack("<%di" % len(ids), *ids))
print(json.dumps({"version": tokenizers.__version__, "seconds": seconds, "cpu_seconds": cpu_seconds[best], "method": best, "all": methods}))
"""#

    /// nil result with a reason when Python or its `tokenizers` is missing.
    public static func run(tokenizerJSON: Data, texts: [String], runs: Int) throws -> (Result?, String?) {
        let dir = NSTemporaryDirectory() + "persona-hf-peer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tokPath = dir + "/tokenizer.json", textsPath = dir + "/texts.json", idsPath = dir + "/ids.bin", scriptPath = dir + "/peer.py"
        try tokenizerJSON.write(to: URL(fileURLWithPath: tokPath))
        var textsJSON = "["
        for (i, text) in texts.enumerated() { textsJSON += (i > 0 ? ",\n" : "") + jsonString(text) }
        try Data((textsJSON + "]").utf8).write(to: URL(fileURLWithPath: textsPath))
        try Data(script.utf8).write(to: URL(fileURLWithPath: scriptPath))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, scriptPath, tokPath, textsPath, idsPath, String(runs)]
        var environment = ProcessInfo.processInfo.environment
        environment["RAYON_NUM_THREADS"] = "1"
        environment["TOKENIZERS_PARALLELISM"] = "false"
        process.environment = environment
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return (nil, "could not start \(python): \(error.localizedDescription)") }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let object = try? JSONSerialization.jsonObject(with: output) as? [String: Any] else {
            return (nil, "\(python) failed (status \(process.terminationStatus)) running Hugging Face tokenizers")
        }
        if let error = object["error"] as? String { return (nil, error) }
        let seconds = (object["seconds"] as? [NSNumber] ?? []).map(\.doubleValue)
        let version = object["version"] as? String ?? "?"

        guard let data = FileManager.default.contents(atPath: idsPath) else { return (nil, "the peer wrote no ids") }
        var ids: [[Int32]] = []
        ids.reserveCapacity(texts.count)
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset + 4 <= raw.count {
                let count = Int(raw.loadUnaligned(fromByteOffset: offset, as: Int32.self))
                offset += 4
                guard count >= 0, offset + 4 * count <= raw.count else { break }
                ids.append((0..<count).map { raw.loadUnaligned(fromByteOffset: offset + 4 * $0, as: Int32.self) })
                offset += 4 * count
            }
        }
        var medians: [String: Double] = [:]
        for (name, times) in object["all"] as? [String: [NSNumber]] ?? [:] {
            let sorted = times.map(\.doubleValue).sorted()
            if !sorted.isEmpty { medians[name] = sorted[sorted.count / 2] }
        }
        return (Result(version: version, method: object["method"] as? String ?? "encode_batch", medians: medians,
                       seconds: seconds, cpuSeconds: (object["cpu_seconds"] as? [NSNumber] ?? []).map(\.doubleValue), ids: ids), nil)
    }
}
