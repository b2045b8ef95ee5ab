import Foundation
import PersonaCore
import PersonaStore

/// What a checkpoint was trained from, and how its run checkpoints, so that a new process can rebuild the run without any
/// session object: the base model by path and digest (and how it was quantized at load), the
/// dataset by name and content digest, and the adapter's name (its settings are in
/// adapter_config.json beside it).
public struct RunIdentity: Codable, Equatable, Sendable {
    public var run: Int64
    public var adapter: String
    /// Absolute path of the GGUF file or Hugging Face folder.
    public var modelPath: String
    /// `LoadQuantization` raw value: none, nf4, nf4-dq or q8_0.
    public var modelQuantization: String
    public var modelDigest: String
    public var dataset: String
    public var datasetDigest: String
    /// How the run checkpoints (`save_every=`, `keep=`), so that a resumed run goes on doing so.
    public var saveEvery: String
    public var keep: Int

    public init(run: Int64, adapter: String, modelPath: String, modelQuantization: String, modelDigest: String,
                dataset: String, datasetDigest: String, saveEvery: String, keep: Int) {
        self.run = run; self.adapter = adapter; self.modelPath = modelPath; self.modelQuantization = modelQuantization
        self.modelDigest = modelDigest; self.dataset = dataset; self.datasetDigest = datasetDigest
        self.saveEvery = saveEvery; self.keep = keep
    }
}

/// `trainer_state.json` of a checkpoint: where training stands and every setting that decides
/// the next steps. The trainer keeps no generator state between steps: the data order of an
/// epoch is drawn from (seed, epoch) and the dropout masks of a micro-batch from (seed, step,
/// micro-batch), so seed, step, epoch and position are the whole random state.
public struct CheckpointState: Codable, Equatable, Sendable {
    public static let currentFormat = 2
    public var format: Int
    public var completedSteps: Int
    /// t of AdamW's bias correction.
    public var adamStep: Int
    public var epoch: Int
    /// Next index into the epoch's permutation.
    public var position: Int
    /// Decimal: JSON numbers do not carry 64 bits.
    public var seed: String
    /// Loss on the test split at this step, when the step evaluated.
    public var evalLoss: Double?
    public var steps: Int
    public var lr: Double
    public var batch: Int
    public var accum: Int
    public var schedule: String
    public var warmup: Int
    public var clip: Double
    public var evalEvery: Int
    public var weightDecay: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var maxLength: Int
    public var recompute: Bool
    /// Sums are split across threads, so the same thread count gives the same bits.
    public var threads: Int
    public var identity: RunIdentity?

    /// The settings the run was started with.
    public func settings() throws -> TrainSettings {
        var s = TrainSettings()
        guard let seed = UInt64(seed) else { throw TrainError.invalid("seed \(self.seed) is not a 64-bit integer") }
        guard let kind = LearningRateSchedule.Kind(rawValue: schedule) else {
            throw TrainError.badSetting(name: "schedule", value: schedule, expected: LearningRateSchedule.Kind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        s.steps = steps; s.learningRate = lr; s.batchSize = batch; s.accumulation = accum; s.schedule = kind
        s.warmupSteps = warmup; s.clip = clip; s.evalEvery = evalEvery; s.weightDecay = weightDecay
        s.beta1 = beta1; s.beta2 = beta2; s.epsilon = epsilon; s.maxLength = maxLength; s.recompute = recompute
        s.seed = seed; s.threads = threads
        guard threads >= 1 && threads <= 1024 else { throw TrainError.badSetting(name: "threads", value: String(threads), expected: "1 to 1024") }
        try s.validate()
        return s
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }

    /// Reads and checks `trainer_state.json` of a checkpoint folder.
    public static func read(checkpoint: String) throws -> CheckpointState {
        let path = checkpoint + "/" + Checkpoints.stateFile
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainError.badFile(path: path, reason: "cannot be read")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let state: CheckpointState
        do { state = try decoder.decode(CheckpointState.self, from: data) } catch {
            throw TrainError.badFile(path: path, reason: "is not a checkpoint state of format \(currentFormat) (\(describeDecoding(error)))")
        }
        guard state.format == currentFormat else {
            throw TrainError.badFile(path: path, reason: "has format \(state.format); this persona reads format \(currentFormat)")
        }
        guard state.completedSteps >= 0, state.completedSteps <= state.steps, state.adamStep >= 0, state.epoch >= 0, state.position >= 0 else {
            throw TrainError.badFile(path: path, reason: "holds a negative or out-of-range step or data position")
        }
        do { _ = try state.settings() } catch { throw TrainError.badFile(path: path, reason: describeError(error)) }
        return state
    }

    static func describeDecoding(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "no \(key.stringValue)"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "\(c.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type"
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        default: return "\(error)"
        }
    }
}

/// How often a run saves, and how many checkpoints it keeps.
public struct CheckpointPolicy: Equatable, Sendable {
    /// Save after this many steps since the last checkpoint (nil: not by steps).
    public var everySteps: Int?
    /// Save when this many seconds have passed since the last checkpoint (nil: not by time).
    public var everySeconds: Double?
    /// The newest checkpoints kept (the best by eval loss is kept besides).
    public var keep: Int

    public init(everySteps: Int?, everySeconds: Double?, keep: Int) {
        self.everySteps = everySteps; self.everySeconds = everySeconds; self.keep = keep
    }

    /// `save_every=`: a step count (`50`), a time (`90s`, `10m`, `2h`), both separated by a
    /// comma (whichever comes first), or `0` for only at the end.
    public static func parse(_ text: String, keep: Int) throws -> CheckpointPolicy {
        let expected = "a step count (50), a time (90s, 10m, 2h), both (50,10m), or 0 for only at the end"
        guard keep >= 1 && keep <= 1000 else { throw TrainError.badSetting(name: "keep", value: String(keep), expected: "an integer from 1 to 1000") }
        var policy = CheckpointPolicy(everySteps: nil, everySeconds: nil, keep: keep)
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard !parts.isEmpty else { throw TrainError.badSetting(name: "save_every", value: text, expected: expected) }
        if parts == ["0"] { return policy }
        for part in parts {
            let units: [(String, Double)] = [("s", 1), ("m", 60), ("h", 3600)]
            if let (suffix, scale) = units.first(where: { part.hasSuffix($0.0) }) {
                guard policy.everySeconds == nil, let n = Double(part.dropLast(suffix.count)), n > 0, n <= 1e7 else {
                    throw TrainError.badSetting(name: "save_every", value: text, expected: expected)
                }
                policy.everySeconds = n * scale
            } else {
                guard policy.everySteps == nil, let n = Int(part), n >= 1, n <= 10_000_000 else {
                    throw TrainError.badSetting(name: "save_every", value: text, expected: expected)
                }
                policy.everySteps = n
            }
        }
        return policy
    }

    public func isDue(step: Int, lastSavedStep: Int, secondsSinceSave: Double) -> Bool {
        guard step > lastSavedStep else { return false }
        if let n = everySteps, step - lastSavedStep >= n { return true }
        if let t = everySeconds, secondsSinceSave >= t { return true }
        return false
    }

    /// "every 50 steps or 10 min" and the like.
    public var summary: String {
        var parts: [String] = []
        if let n = everySteps { parts.append("every \(n) step\(n == 1 ? "" : "s")") }
        if let t = everySeconds {
            let text = t >= 3600 && t.truncatingRemainder(dividingBy: 3600) == 0 ? "\(Int(t / 3600)) h"
                : t >= 60 && t.truncatingRemainder(dividingBy: 60) == 0 ? "\(Int(t / 60)) min" : "\(TrainSettings.formatNumber(t)) s"
            parts.append((parts.isEmpty ? "every " : "") + text)
        }
        return parts.isEmpty ? "at the end only" : parts.joined(separator: " or ")
    }
}

/// The checkpoint folders of one run (`runs/run-N/checkpoint-NNNNNN`), each written under a
/// staging name and renamed into place whole.
public enum Checkpoints {
    public static let stateFile = "trainer_state.json"
    public static let optimizerFile = "optimizer.safetensors"
    static let prefix = "checkpoint-"
    /// Names a folder of the run (`latest`, `best`) in a one-line file.
    public static let latestPointer = "latest"
    public static let bestPointer = "best"

    public static func folderName(step: Int) -> String { String(format: "checkpoint-%06d", step) }

    /// The step a checkpoint folder's name carries.
    public static func step(ofFolder path: String) -> Int? {
        let name = (path as NSString).lastPathComponent
        guard name.hasPrefix(prefix), let n = Int(name.dropFirst(prefix.count)), n >= 0 else { return nil }
        return n
    }

    /// Finished checkpoint folders in `directory`, oldest first.
    public static func list(in directory: String) -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard let step = step(ofFolder: name) else { return nil }
            return (step, directory + "/" + name)
        }.sorted { $0.0 < $1.0 }
    }

    /// The folder a pointer file names, if it names one that exists.
    public static func pointer(_ file: String, in directory: String) -> String? {
        guard let text = try? String(contentsOfFile: directory + "/" + file, encoding: .utf8) else { return nil }
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard step(ofFolder: name) != nil, !name.contains("/"), FileManager.default.fileExists(atPath: directory + "/" + name) else { return nil }
        return directory + "/" + name
    }

    /// Removes staging folders a killed writer left (only the run's lock holder calls this).
    public static func removeStaging(in directory: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix("." + prefix) && name.contains(".partial-") {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    /// Keeps the newest `keep` checkpoints and the one `best` names; removes the others.
    public static func prune(in directory: String, keep: Int) {
        let all = list(in: directory)
        let best = pointer(bestPointer, in: directory)
        for (index, entry) in all.enumerated() where index < all.count - keep && entry.path != best {
            try? FileManager.default.removeItem(atPath: entry.path)
        }
    }
}

extension TrainSettings {
    static func formatNumber(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }
}

/// A digest of a base model file (or Hugging Face folder) that is cheap on multi-gigabyte
/// files: SHA-256 over the size and, for files above 16 MiB, 256 slices of 64 KiB spread
/// evenly from the first byte to the last (the whole file below that). A re-quantized,
/// re-converted or truncated model changes it; so does any edit to the header or metadata.
public enum ModelDigest {
    static let wholeFileLimit = 16 << 20
    static let slices = 256, sliceBytes = 64 << 10

    public static func of(path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TrainError.badFile(path: path, reason: "does not exist")
        }
        if isDirectory.boolValue {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
                .filter { $0.hasSuffix(".safetensors") || $0 == "config.json" || $0 == "tokenizer.json" }.sorted()
            let parts = try names.map { "\($0) \(try fileDigest(path + "/" + $0))" }
            return "sha256-sampled:" + SHA256.hex(Array(parts.joined(separator: "\n").utf8))
        }
        return "sha256-sampled:" + (try fileDigest(path))
    }

    static func fileDigest(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw TrainError.badFile(path: path, reason: "cannot be read") }
        defer { try? handle.close() }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        var bytes = Array("size \(size)\n".utf8)
        if size <= wholeFileLimit {
            bytes += [UInt8](try handle.readToEnd() ?? Data())
        } else {
            for i in 0..<slices {
                let offset = UInt64((size - sliceBytes) * i / (slices - 1))
                try handle.seek(toOffset: offset)
                bytes += [UInt8](try handle.read(upToCount: sliceBytes) ?? Data())
            }
        }
        return SHA256.hex(bytes)
    }
}
