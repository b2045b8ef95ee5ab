import Foundation

/// The folder that holds one person's private data: the message database, datasets,
/// adapters, runs and the REPL history. Created 0700; every file in it 0600.
public struct Workspace: Sendable {
    public let path: String

    /// Resolution order: the explicit path, then `PERSONA_WORKSPACE`, then `./persona-workspace`.
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment["PERSONA_WORKSPACE"], !fromEnvironment.isEmpty { return fromEnvironment }
        return "persona-workspace"
    }

    /// Opens the workspace at `path`, creating it (mode 0700) when missing.
    public init(path: String) throws {
        self.path = path
        try PrivateFiles.makeDirectory(path)
    }

    public var databasePath: String { path + "/persona.db" }
    public var historyPath: String { path + "/.persona_history" }
    public var adaptersDirectory: String { path + "/adapters" }
    public var runsDirectory: String { path + "/runs" }

    /// A subfolder (created 0700 on first use).
    public func directory(_ name: String) throws -> String {
        let sub = path + "/" + name
        try PrivateFiles.makeDirectory(sub)
        return sub
    }
}
