import Foundation
import PersonaCore

/// Where command output goes. The session writes through this so that a recording or a
/// `--check` replay sees exactly what the user saw.
public protocol OutputSink: AnyObject {
    func write(_ text: String)
}

public final class StandardOutput: OutputSink {
    public init() {}
    public func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// Collects output in memory (tests, recordings, replay checks).
public final class CapturedOutput: OutputSink {
    public private(set) var text = ""
    public init() {}
    public func write(_ text: String) { self.text += text }
    public func take() -> String { defer { text = "" }; return text }
}

/// A named object of the session (`ls` lists them, `show NAME` details one).
public struct NamedObject {
    public var name: String
    public var kind: ObjectKind
    /// One line for `ls`.
    public var summary: String
    /// The lines of `show NAME`.
    public var details: () -> [String]
    /// The object itself (a loaded model, a dataset handle, a sampler, …).
    public var value: AnyObject

    public init(name: String, kind: ObjectKind, summary: String, value: AnyObject, details: @escaping () -> [String] = { [] }) {
        self.name = name; self.kind = kind; self.summary = summary; self.value = value; self.details = details
    }
}

/// Session settings changed with `set key=value`.
public struct SessionSettings {
    /// The seed of the session's generator; setting it reseeds.
    public var seed: UInt64 = 42
    /// Worker threads for numerical work (OpenBLAS and Dispatch).
    public var threads: Int = 2
    /// Colours in output (off when not a terminal, or with NO_COLOR).
    public var color: Bool = false
}

/// All state of one session: the workspace, settings, the seeded generator, named objects,
/// and per-area state. Commands run against it; nothing reads globals.
public final class Workbench {
    public let workspacePath: String
    public var settings = SessionSettings()
    /// Every random choice of the session draws from this generator.
    public var rng: SeededGenerator
    public var output: OutputSink
    public var progress: ProgressReporter = SilentProgress()
    public var cancellation: CancellationToken
    /// Set by `quit`; the REPL and script runners stop reading when it is true.
    public var wantsToQuit = false

    private var objectOrder: [String] = []
    private var objectsByName: [String: NamedObject] = [:]
    private var areaStates: [ObjectIdentifier: AnyObject] = [:]
    private var openedWorkspace: Workspace?

    public init(workspacePath: String, output: OutputSink = StandardOutput(), cancellation: CancellationToken = CancellationToken()) {
        self.workspacePath = workspacePath
        self.output = output
        self.cancellation = cancellation
        self.rng = SeededGenerator(seed: settings.seed)
    }

    /// The workspace, created (0700) on first use so that commands that need no storage
    /// (help, tokenize) leave nothing behind.
    public func workspace() throws -> Workspace {
        if let openedWorkspace { return openedWorkspace }
        let w = try Workspace(path: workspacePath)
        openedWorkspace = w
        return w
    }

    public func reseed(_ seed: UInt64) {
        settings.seed = seed
        rng = SeededGenerator(seed: seed)
    }

    // MARK: Named objects

    public var objects: [NamedObject] { objectOrder.compactMap { objectsByName[$0] } }

    public func register(_ object: NamedObject) {
        if objectsByName[object.name] == nil { objectOrder.append(object.name) }
        objectsByName[object.name] = object
    }

    public func remove(_ name: String) {
        objectsByName[name] = nil
        objectOrder.removeAll { $0 == name }
    }

    public func object(_ name: String) -> NamedObject? { objectsByName[name] }

    /// The object called `name`, which must be of `kind`, cast to `T`.
    public func object<T>(_ name: String, kind: ObjectKind, as type: T.Type) throws -> T {
        guard let o = objectsByName[name], o.kind == kind, let value = o.value as? T else {
            throw CommandError.noSuchObject(name: name, kind: kind)
        }
        return value
    }

    public func names(of kind: ObjectKind) -> [String] { objects.filter { $0.kind == kind }.map(\.name) }

    // MARK: Per-area state

    /// State owned by one area of the product (the open message store, loaded tokenizers…),
    /// created on first use. Areas keep their state here instead of in globals.
    public func state<T: AnyObject>(_ type: T.Type, make: () throws -> T) rethrows -> T {
        let key = ObjectIdentifier(type)
        if let existing = areaStates[key] as? T { return existing }
        let created = try make()
        areaStates[key] = created
        return created
    }

    public func existingState<T: AnyObject>(_ type: T.Type) -> T? { areaStates[ObjectIdentifier(type)] as? T }
}
