import Foundation

/// Where the default model lives: `PERSONA_MODEL` if set, else the file scripts/setup fetches
/// (`models/SmolLM2-135M-Instruct.Q4_1.gguf`, relative to the working directory).
public enum DefaultModel {
    public static let relativePath = "models/SmolLM2-135M-Instruct.Q4_1.gguf"

    /// The model path to use when a command was given `explicit` (or nothing).
    public static func resolve(_ explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let configured = environment["PERSONA_MODEL"], !configured.isEmpty { return configured }
        if FileManager.default.fileExists(atPath: relativePath) { return relativePath }
        // Run from elsewhere: the checkout the executable was built in (.build/CONFIG/persona).
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        let checkout = executable.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let beside = checkout.appendingPathComponent(relativePath).path
        if FileManager.default.fileExists(atPath: beside) { return beside }
        return relativePath
    }
}
