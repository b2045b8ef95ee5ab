import Foundation
import XCTest
import PersonaTestSupport
@testable import PersonaSession

/// `persona --version` and the start-up CPU check.
final class LauncherTests: XCTestCase {
    func testVersionNamesTheBuildTheCPUAndTheDefaultModel() throws {
        let model = try TestPaths.defaultModel
        let text = Launcher.versionText(environment: ["PERSONA_MODEL": model])
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "persona \(Launcher.version)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("build: compiled for this machine's CPU") }, text)
        XCTAssertTrue(lines.contains { $0.hasPrefix("cpu: ") }, text)
        XCTAssertEqual(lines.last, "default model: \(model)")
        let missing = Launcher.versionText(environment: ["PERSONA_MODEL": "/no/such/model.gguf"])
        XCTAssertTrue(missing.hasSuffix("default model: not found: PERSONA_MODEL names /no/such/model.gguf, which does not exist (give model=FILE (a GGUF file or a Hugging Face folder), set PERSONA_MODEL=FILE, or run scripts/setup in the checkout to fetch the default model)"), missing)
    }

    /// The machine that built the tests runs them: nothing the build needs is missing.
    func testTheBuildRunsOnThisCPU() {
        XCTAssertNil(Launcher.unsupportedCPUMessage())
        XCTAssertEqual(Launcher.main(arguments: ["persona", "--version"]), 0)
    }
}
