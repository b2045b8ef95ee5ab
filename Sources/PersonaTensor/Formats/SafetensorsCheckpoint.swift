import Foundation

/// The safetensors weights of a Hugging Face folder: `model.safetensors`, or the shards named
/// by `model.safetensors.index.json` (`{"weight_map": {"tensor name": "file name"}}`).
public final class SafetensorsCheckpoint: @unchecked Sendable {
    public let directory: String
    public let files: [SafetensorsFile]
    /// Every tensor name, with the file that holds it.
    private let location: [String: (file: Int, info: SafetensorsTensorInfo)]

    public init(directory: String) throws {
        self.directory = directory
        let manager = FileManager.default
        let indexPath = directory + "/model.safetensors.index.json"
        var files: [SafetensorsFile] = []
        var location: [String: (file: Int, info: SafetensorsTensorInfo)] = [:]
        if manager.fileExists(atPath: indexPath) {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: indexPath)) } catch {
                throw TensorError.unreadableFile(path: indexPath, reason: error.localizedDescription)
            }
            guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  let weightMap = root["weight_map"] as? [String: Any] else {
                throw TensorError.malformedFile(path: indexPath, what: "expected a JSON object with a \"weight_map\" object")
            }
            var shardIndex: [String: Int] = [:]
            for (name, value) in weightMap.sorted(by: { $0.key < $1.key }) {
                guard let fileName = value as? String, !fileName.isEmpty, !fileName.contains("/"), fileName != "..", fileName != "." else {
                    throw TensorError.malformedFile(path: indexPath, what: "weight_map entry '\(name)' is not a plain file name in this folder")
                }
                let shard: Int
                if let known = shardIndex[fileName] { shard = known } else {
                    files.append(try SafetensorsFile(path: directory + "/" + fileName))
                    shard = files.count - 1
                    shardIndex[fileName] = shard
                }
                guard let info = files[shard].tensor(named: name) else {
                    throw TensorError.malformedFile(path: indexPath, what: "weight_map says '\(name)' is in \(fileName), but that file has no such tensor")
                }
                location[name] = (shard, info)
            }
        } else {
            let single = directory + "/model.safetensors"
            var candidates: [String] = []
            if manager.fileExists(atPath: single) { candidates = [single] } else {
                let names = (try? manager.contentsOfDirectory(atPath: directory)) ?? []
                candidates = names.filter { $0.hasSuffix(".safetensors") }.sorted().map { directory + "/" + $0 }
            }
            guard !candidates.isEmpty else {
                throw TensorError.unreadableFile(path: directory, reason: "no model.safetensors, model.safetensors.index.json or *.safetensors file")
            }
            for path in candidates {
                let file = try SafetensorsFile(path: path)
                files.append(file)
                for info in file.tensors {
                    guard location.updateValue((files.count - 1, info), forKey: info.name) == nil else {
                        throw TensorError.malformedFile(path: path, what: "tensor '\(info.name)' also appears in another file of the folder")
                    }
                }
            }
        }
        self.files = files
        self.location = location
    }

    public var tensorNames: [String] { location.keys.sorted() }

    public func tensor(named name: String) -> SafetensorsTensorInfo? { location[name]?.info }

    /// Drops the resident pages of `range` in whichever file holds it.
    public func releasePages(_ range: UnsafeRawBufferPointer) { for file in files { file.releasePages(range) } }

    /// The tensor's bytes, valid while this checkpoint lives.
    public func data(for name: String) -> UnsafeRawBufferPointer? {
        guard let (file, info) = location[name] else { return nil }
        return files[file].data(for: info)
    }
}
