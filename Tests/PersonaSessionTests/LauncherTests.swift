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

    /// Benchmarks name where they ran, and warn when OpenBLAS fell back to a generic kernel.
    func testBenchesNameTheMachineAndWarnOfAGenericOpenBLASKernel() throws {
        let keys = BenchMachine.describe(threads: 2).map(\.key)
        XCTAssertEqual(keys, ["cpu", "cpu_supports", "vector_path", "threads", "openblas_core"])
        XCTAssertNotNil(BenchMachine.openBLASWarning(core: "PRESCOTT", cpuHasAVX2: true))
        XCTAssertNil(BenchMachine.openBLASWarning(core: "Haswell", cpuHasAVX2: true))
        XCTAssertNil(BenchMachine.openBLASWarning(core: "SkylakeX", cpuHasAVX2: true))
        XCTAssertNil(BenchMachine.openBLASWarning(core: "PRESCOTT", cpuHasAVX2: false))

        let out = CapturedOutput()
        let bench = Workbench(workspacePath: try TestPaths.temporaryDirectory("bench") + "/ws", output: out)
        bench.diagnostics = CapturedOutput()
        try bench.execute(line: "bench tokenize runs=1 --json model=\(try TestPaths.defaultModel)")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.take().utf8)) as? [String: Any])
        XCTAssertEqual(object["bench"] as? String, "tokenize")
        XCTAssertEqual(object["threads"] as? String, String(bench.settings.threads))
        XCTAssertNotNil(object["cpu"] as? String)
        XCTAssertNotNil(object["vector_path"] as? String)
    }

    /// The machine that built the tests runs them: nothing the build needs is missing.
    func testTheBuildRunsOnThisCPU() {
        XCTAssertNil(Launcher.unsupportedCPUMessage())
        XCTAssertEqual(Launcher.main(arguments: ["persona", "--version"]), 0)
    }
}
