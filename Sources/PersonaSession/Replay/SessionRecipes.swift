import Foundation
import PersonaCore
import PersonaTrain

/// The command that made a session object, kept so that `record` can begin a recording
/// with the commands that recreate the objects the session holds: a recording then replays
/// on its own (`persona run --check FILE` in a new process) instead of failing on
/// `no model named 'base'`.
struct ObjectRecipe {
    /// The words of the innermost command that registered the object (`let NAME = …`
    /// for a renamed one).
    var words: [String]
    /// The registration mark when it was made: recipes replay in this order, so that an
    /// object comes after those its command names.
    var stamp: Int
    /// A digest of the object's contents when it was made (adapters): a later change
    /// (training) means the command no longer recreates it.
    var fingerprint: UInt64?
}

enum SessionRecipes {
    /// Kinds whose objects live only in the session; datasets and runs are kept in the
    /// workspace, which a recording runs against as it does for messages.
    static let sessionKinds: Set<ObjectKind> = [.model, .sampler, .adapter]

    /// A digest of what a command cannot recreate once changed: an adapter's parameters.
    /// Models are immutable after load; samplers are written from their settings.
    static func fingerprint(of value: AnyObject) -> UInt64? {
        guard let adapter = value as? LoRAAdapter else { return nil }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over the parameters' bit patterns
        for x in adapter.parameters {
            hash = (hash ^ UInt64(x.bitPattern)) &* 0x100_0000_01b3
        }
        return hash
    }

    /// The command that recreates `object`, or an error naming the object and why not.
    static func command(for object: NamedObject, recipe: ObjectRecipe?) throws -> [String] {
        // A sampler is written from its settings: `sampler calm temp=0.7` then
        // `sampler calm top_k=40` leave one sampler that neither command alone makes.
        if object.kind == .sampler, let sampler = object.value as? SamplerObject {
            return ["sampler", object.name] + sampler.settings.changedAssignments
        }
        guard let recipe else {
            throw CommandError.failed(command: "record", reason: "cannot recreate \(object.kind.rawValue) '\(object.name)': no command of this session made it; 'drop \(object.name)' first, or start the recording before making it")
        }
        if let fingerprint = recipe.fingerprint, fingerprint != SessionRecipes.fingerprint(of: object.value) {
            throw CommandError.failed(command: "record", reason: "cannot recreate \(object.kind.rawValue) '\(object.name)': it changed (trained) after '\(LineLexer.join(recipe.words))' made it; save it ('adapter save \(object.name) DIR') and load it back ('adapter load \(object.name) DIR'), or 'drop \(object.name)', then record")
        }
        var words = recipe.words
        // An adapter made without model= was made on the session's model of that moment: name it.
        if object.kind == .adapter, let adapter = object.value as? LoRAAdapter, !adapter.baseModel.isEmpty,
           words.first == "adapter", !words.contains(where: { $0.hasPrefix("model=") || $0 == "--model" }) {
            words.append("model=" + adapter.baseModel)
        }
        return words
    }

    /// The entries (command and recorded output) that recreate the session's objects, made by
    /// running those commands in a scratch session, so that the outputs are what a replay
    /// prints; then `model use` / `adapter use` where the session's choice differs from the
    /// last one made. Throws naming an object that cannot be recreated.
    static func preamble(for bench: Workbench, active: (model: String?, adapter: String?)) throws -> (text: String, names: [String]) {
        let objects = bench.objects.filter { sessionKinds.contains($0.kind) }
            .map { ($0, bench.recipes[$0.name]) }
            .sorted { ($0.1?.stamp ?? -1) < ($1.1?.stamp ?? -1) }
        guard !objects.isEmpty else { return ("", []) }
        let commands = try objects.map { try command(for: $0.0, recipe: $0.1) }

        let scratch = Workbench(workspacePath: bench.workspacePath, output: CapturedOutput(), cancellation: bench.cancellation)
        scratch.settings.threads = bench.settings.threads
        scratch.extraCommands = bench.extraCommands
        scratch.diagnostics = CapturedOutput()
        var text = ""
        func run(_ words: [String], recreating name: String) throws {
            let captured = CapturedOutput()
            scratch.output = captured
            do { try scratch.execute(words: words) } catch {
                throw CommandError.failed(command: "record", reason: "cannot recreate '\(name)': '\(LineLexer.join(words))' fails on its own: \(describeError(error))")
            }
            text += LineLexer.join(words) + "\n"
            let normaliser = OutputNormaliser(workspacePath: bench.workspacePath)
            for line in normaliser.anonymise(SessionFile.lines(of: captured.text)) { text += SessionFile.outputLine(line) + "\n" }
        }
        for (i, (object, _)) in objects.enumerated() { try run(commands[i], recreating: object.name) }
        let scratchModels = scratch.existingState(SessionModelState.self)
        // A dropped object is no longer active, whatever the area state still names.
        if let model = active.model, bench.object(model)?.kind == .model, scratchModels?.activeModel != model {
            try run(["model", "use", model], recreating: model)
        }
        let scratchAdapter = scratch.existingState(TrainAreaState.self)?.activeAdapter
        if let adapter = active.adapter, bench.object(adapter)?.kind == .adapter, scratchAdapter != adapter {
            try run(["adapter", "use", adapter], recreating: adapter)
        }
        return (text, objects.map(\.0.name))
    }
}
