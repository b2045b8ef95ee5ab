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

/// Diagnostics (errors, `--check` diffs) go to standard error, never into recordings.
public final class StandardError: OutputSink {
    public init() {}
    public func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Writes everything to two sinks (the screen and a recording).
public final class TeeOutput: OutputSink {
    public let first: OutputSink, second: OutputSink
    public init(_ first: OutputSink, _ second: OutputSink) { self.first = first; self.second = second }
    public func write(_ text: String) { first.write(text); second.write(text) }
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
    /// For objects indexed like `chats[3]` (datasets): how many elements, so that tab
    /// completion can offer the indices. Nil for objects without elements.
    public var indexCount: Int?

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
    /// Key bindings of the REPL: `emacs` or `vi` (`set editor=vi`).
    public var editor: String = "emacs"
}

/// All state of one session: the workspace, settings, the seeded generator, named objects,
/// and per-area state. Commands run against it; nothing reads globals.
public final class Workbench {
    public let workspacePath: String
    public var settings = SessionSettings()
    /// Every random choice of the session draws from this generator.
    public var rng: SeededGenerator
    public var output: OutputSink
    /// Where errors and check diffs go (standard error by default); never recorded.
    public var diagnostics: OutputSink = StandardError()
    public var progress: ProgressReporter = SilentProgress()
    public var cancellation: CancellationToken
    /// Commands of this session only, found before the table's (a program embedding the
    /// workbench, or a test, adds its own).
    public var extraCommands: [CommandSpec] = []
    /// Set by `quit`; the REPL and script runners stop reading when it is true.
    public var wantsToQuit = false

    /// How many commands are running inside each other (`run`, `replay` and `let` run
    /// commands); recordings take only the outermost.
    public internal(set) var commandDepth = 0
    /// The open recording (`record FILE`), which takes every outermost command.
    public internal(set) var recorder: SessionRecorder?
    /// Every name passed to `register`, in order: `let` finds what a command created.
    private(set) var registrationLog: [String] = []
    /// The command that made each object (`record` writes them first, see SessionRecipes).
    var recipes: [String: ObjectRecipe] = [:]

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

    /// The name of the running command when it only reads (`CommandSpec.readsOnly`): it
    /// may open the workspace but not create it.
    var readingCommand: String?

    /// Whether the workspace folder exists yet.
    public var workspaceExists: Bool { openedWorkspace != nil || FileManager.default.fileExists(atPath: workspacePath) }

    /// The workspace, created (0700) on first use so that commands that need no storage
    /// (help, tokenize) leave nothing behind; a command that only reads gets an error
    /// saying there is none yet instead.
    public func workspace() throws -> Workspace {
        if let openedWorkspace { return openedWorkspace }
        if let readingCommand, !workspaceExists {
            throw CommandError.noWorkspace(command: readingCommand, path: workspacePath)
        }
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
        registrationLog.append(object.name)
    }

    /// Gives an object a new name, keeping its place in `ls`; an object already called
    /// `newName` is replaced.
    public func rename(_ name: String, to newName: String) throws {
        guard var o = objectsByName[name] else { throw CommandError.noSuchObject(name: name, kind: nil) }
        if name == newName { return }
        if objectsByName[newName] != nil { remove(newName) }
        o.name = newName
        objectsByName[name] = nil
        objectsByName[newName] = o
        if let i = objectOrder.firstIndex(of: name) { objectOrder[i] = newName } else { objectOrder.append(newName) }
        registrationLog.append(newName)
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

    /// A position in the registration log; `objectsRegistered(since:)` lists what came after.
    var registrationMark: Int { registrationLog.count }

    /// Names registered since `mark` that still exist, most recent last, without repeats.
    func objectsRegistered(since mark: Int) -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for name in registrationLog[min(mark, registrationLog.count)...].reversed()
        where objectsByName[name] != nil && seen.insert(name).inserted {
            result.insert(name, at: 0)
        }
        return result
    }

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
