import Foundation

/// Where tests find shared reference data and the default model.
public enum TestPaths {
    /// The package root (this file is Sources/PersonaTestSupport/Paths.swift).
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `Tests/Golden`: the Hugging Face reference vectors, kept in the repository with the
    /// scripts that make them (scripts/golden/), so that a clone tests with nothing beside it.
    public static var golden: String { packageRoot + "/Tests/Golden" }

    /// The default model, fetched by scripts/setup into models/.
    public static var defaultModel: String { packageRoot + "/models/SmolLM2-135M-Instruct.Q4_1.gguf" }

    /// A fresh private temporary directory for one test.
    public static func temporaryDirectory(_ label: String = "test") throws -> String {
        let path = NSTemporaryDirectory() + "persona-\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        return path
    }
}
