import Foundation
import XCTest

/// Where tests find the golden reference data and the default model, and what happens when
/// one is missing: the test fails with the fix, unless `PERSONA_TEST_ALLOW_MISSING=1` is set
/// (an explicit opt-out that `scripts/test` announces), in which case it is skipped.
public enum TestPaths {
    /// The package root (this file is Sources/PersonaTestSupport/Paths.swift).
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `Tests/Golden`: the Hugging Face reference vectors, kept in the repository with the
    /// scripts that make them (scripts/golden/), so that a clone tests with nothing beside it.
    public static let goldenFolder = packageRoot + "/Tests/Golden"

    /// The default model, fetched by scripts/setup into models/.
    public static let defaultModelPath = packageRoot + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"

    /// The default model's path; throws (fails the test with the fix) when it is not there.
    public static var defaultModel: String {
        get throws { try require(defaultModelPath, what: "the default model", fix: "run scripts/setup, which fetches it into models/") }
    }

    /// A golden file of Tests/Golden; throws when it is missing.
    public static func golden(_ name: String) throws -> String {
        try require(goldenFolder + "/" + name, what: "the golden file \(name)",
                    fix: "it is committed in Tests/Golden; restore it with git, or regenerate with scripts/golden/regenerate")
    }

    /// The explicit opt-out: missing inputs skip instead of failing.
    public static let optOutVariable = "PERSONA_TEST_ALLOW_MISSING"

    /// `path` when it exists; otherwise the failure (or, opted out, the skip) naming the fix.
    public static func require(_ path: String, what: String, fix: String) throws -> String {
        if FileManager.default.fileExists(atPath: path) { return path }
        try missing("\(what) is missing at \(path): \(fix)")
        return path
    }

    /// Fails the test with `message`, or skips it when the opt-out variable is set to 1.
    public static func missing(_ message: String) throws {
        if ProcessInfo.processInfo.environment[optOutVariable] == "1" {
            throw XCTSkip(message + " (skipped: \(optOutVariable)=1)")
        }
        throw MissingTestInput(message: message)
    }

    /// A fresh private temporary directory for one test.
    public static func temporaryDirectory(_ label: String = "test") throws -> String {
        let path = NSTemporaryDirectory() + "persona-\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        return path
    }
}

/// A model, golden file or tool a test needs is not there (the message says how to get it).
public struct MissingTestInput: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}
