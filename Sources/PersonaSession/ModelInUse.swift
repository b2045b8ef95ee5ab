import Foundation
import PersonaCore
import PersonaData
import PersonaModel
import PersonaTrain

/// The session's choice of model: the one `model NAME PATH` loaded last, or `model use NAME`
/// chose. Every command that takes `model=` runs on it when none is given; the default model
/// is only the fallback of a session that has loaded none.
final class SessionModelState {
    var activeModel: String?
    /// The dataset each adapter was last trained on, and its parameters (format, markup…):
    /// what the adapter expects its text to look like.
    var trainedOn: [String: (dataset: String, parameters: DatasetParameters)] = [:]
}

/// What a `model=` value names, before anything is loaded: a session model, or a file.
struct ModelReference: Equatable {
    /// The session model's name, or the path as given (what `adapter` records as its base).
    var reference: String
    /// The file or folder the weights come from.
    var path: String
    /// Whether `reference` is a session object (else a path).
    var isSessionModel: Bool
    /// Whether nothing chose it: the default model.
    var isDefault: Bool

    /// How output names it: the session name, the path as given, or the default model's
    /// file name (not its folder, which differs from machine to machine).
    var displayName: String {
        if isSessionModel { return reference }
        if isDefault { return URL(fileURLWithPath: path).lastPathComponent + " (the default model)" }
        return reference
    }
}

/// Which adapter applies when a command is not given `adapter=`.
enum AdapterDefault {
    /// None: only `adapter=NAME` applies one.
    case onlyNamed
    /// The session's active adapter (the one last made, trained, loaded or chosen with
    /// `adapter use`), so that inspection scores the model as it now is.
    case active
}

/// The model a command runs on, and the adapter applied to it, as `modelInUse` resolved them.
struct ModelInUse {
    var model: ModelReference
    var loaded: LoadedModel
    /// The adapter and its name (`adapter=none`, or no active adapter: nil).
    var adapter: (name: String, adapter: LoRAAdapter)?
    /// The dataset the adapter was trained on in this session, with its format (nil: none).
    var trainedOn: (dataset: String, parameters: DatasetParameters)?

    /// One line naming what ran: `model base, adapter ed` / `model base, no adapter`.
    var header: String { "model \(model.displayName), " + (adapter.map { "adapter \($0.name)" } ?? "no adapter") }
}

extension ArgumentSpec {
    /// `model=`, declared once for every command that runs a model.
    static let model = ArgumentSpec.keyed("model", .object(.model),
                                          "a session model or a model file (default: the session's model, else the default model)")
    /// `adapter=` of the commands that apply the active adapter unless told otherwise.
    static let activeAdapter = ArgumentSpec.keyed("adapter", .object(.adapter),
                                                  "the adapter to apply (default: the active one), or none for the model alone")
}

extension CommandContext {
    var sessionModels: SessionModelState { bench.state(SessionModelState.self) { SessionModelState() } }

    /// What `model=VALUE` names (nil: not given). The one resolution every command uses:
    /// a session model's name, else an existing file or folder (relative to the current
    /// folder), else an error naming both readings. Not given: the session's active model,
    /// else the default model.
    func modelReference(_ given: String?) throws -> ModelReference {
        if let given, !given.isEmpty {
            if let object = bench.object(given) {
                guard object.kind == .model, let loaded = object.value as? LoadedModel else {
                    throw CommandError.failed(command: command.name, reason: "'\(given)' is a \(object.kind.rawValue), not a model")
                }
                return ModelReference(reference: given, path: loaded.path, isSessionModel: true, isDefault: false)
            }
            if FileManager.default.fileExists(atPath: given) {
                return ModelReference(reference: given, path: given, isSessionModel: false,
                                      isDefault: given == (try? DefaultModel.resolve(nil)))
            }
            let models = bench.names(of: .model)
            throw CommandError.failed(command: command.name,
                                      reason: "model=\(given): no model named '\(given)' in the session and no file or folder at that path"
                                          + (models.isEmpty ? "; load one with 'model NAME FILE'" : " (session models: \(models.joined(separator: ", ")))"))
        }
        if let active = sessionModels.activeModel, let object = bench.object(active), object.kind == .model,
           let loaded = object.value as? LoadedModel {
            return ModelReference(reference: active, path: loaded.path, isSessionModel: true, isDefault: false)
        }
        let path = try DefaultModel.resolve(nil)
        return ModelReference(reference: path, path: path, isSessionModel: false, isDefault: true)
    }

    /// The path of the model `model=VALUE` names (for commands that need only its tokenizer).
    func modelPath(_ given: String?) throws -> String { try modelReference(given).path }

    /// The runnable model of a reference: the session object, or the file opened once for the session.
    func load(_ reference: ModelReference) throws -> LoadedModel {
        if reference.isSessionModel { return try bench.object(reference.reference, kind: .model, as: LoadedModel.self) }
        return try openUnnamedModel(path: reference.path)
    }

    /// The model and adapter this command runs on, from its `model=` and `adapter=` (when it
    /// declares them). `adapter=NAME` applies that adapter, on its own base model unless
    /// `model=` names one (which must then be the same file); `adapter=none` applies none;
    /// otherwise `adapters` decides. An active adapter made for another model than the one
    /// `model=` names is left out.
    func modelInUse(adapters: AdapterDefault) throws -> ModelInUse {
        let declares = { (name: String) in self.command.arguments.contains { $0.name == name } }
        let givenModel = declares("model") ? arguments.string("model") : nil
        let givenAdapter = declares("adapter") ? arguments.string("adapter") : nil

        var adapter: (name: String, adapter: LoRAAdapter)?
        var explicitAdapter = false
        if let givenAdapter, givenAdapter != "none" {
            adapter = (givenAdapter, try bench.object(givenAdapter, kind: .adapter, as: LoRAAdapter.self))
            explicitAdapter = true
        } else if givenAdapter == nil, adapters == .active, let active = train.activeAdapter,
                  let value = bench.object(active)?.value as? LoRAAdapter {
            adapter = (active, value)
        }

        let model: ModelReference
        if let givenModel {
            model = try modelReference(givenModel)
            if let a = adapter, !a.adapter.baseModel.isEmpty, let base = try? modelReference(a.adapter.baseModel),
               !sameFile(base.path, model.path) {
                guard !explicitAdapter else {
                    throw CommandError.failed(command: command.name,
                                              reason: "adapter \(a.name) was made for \(base.displayName), not \(model.displayName)")
                }
                adapter = nil
            }
        } else if let a = adapter, !a.adapter.baseModel.isEmpty {
            model = try modelReference(a.adapter.baseModel)
        } else {
            model = try modelReference(nil)
        }
        return ModelInUse(model: model, loaded: try load(model), adapter: adapter,
                          trainedOn: adapter.flatMap { sessionModels.trainedOn[$0.name] })
    }

    /// `train` calls this: the adapter becomes the active one, and remembers the dataset
    /// (and so the format) it was trained on.
    func noteTraining(adapter: String, dataset: String) throws {
        train.activeAdapter = adapter
        sessionModels.trainedOn[adapter] = (dataset, try self.dataset(named: dataset).parameters)
    }

    private func sameFile(_ a: String, _ b: String) -> Bool {
        let cwd = FileManager.default.currentDirectoryPath
        return OutputNormaliser.absolute(a, in: cwd) == OutputNormaliser.absolute(b, in: cwd)
    }

    /// Makes `name` the active model. An active adapter made for another model stops being
    /// active (the model as it now is has no adapter), and the line saying so is printed.
    func activateModel(_ name: String) {
        sessionModels.activeModel = name
        guard let adapterName = train.activeAdapter,
              let adapter = bench.object(adapterName)?.value as? LoRAAdapter, !adapter.baseModel.isEmpty else { return }
        if let base = try? modelReference(adapter.baseModel), let now = try? modelReference(name), sameFile(base.path, now.path) { return }
        train.activeAdapter = nil
        print("adapter \(adapterName) is no longer active: it was made for \(adapter.baseModel)")
    }
}
