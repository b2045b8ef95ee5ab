import XCTest
import Foundation
@testable import PersonaCore

final class SeededGeneratorTests: XCTestCase {
    func testSameSeedSameStream() {
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7), c = SeededGenerator(seed: 8)
        let xs = (0..<16).map { _ in a.next() }
        XCTAssertEqual(xs, (0..<16).map { _ in b.next() })
        XCTAssertNotEqual(xs, (0..<16).map { _ in c.next() })
    }

    func testUniformMeanAndRange() {
        var g = SeededGenerator(seed: 1)
        var sum = 0.0
        let n = 100_000
        for _ in 0..<n {
            let x = g.nextFloat()
            XCTAssert(x >= 0 && x < 1)
            sum += Double(x)
        }
        // Mean of U(0,1) over 1e5 draws: standard error 0.0009; 5 sigma.
        XCTAssertEqual(sum / Double(n), 0.5, accuracy: 0.0045)
    }

    func testGaussianMoments() {
        var g = SeededGenerator(seed: 3)
        let n = 100_000
        let xs = (0..<n).map { _ in g.nextGaussian() }
        let mean = xs.reduce(0, +) / Double(n)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        XCTAssertEqual(mean, 0, accuracy: 0.016)
        XCTAssertEqual(variance, 1, accuracy: 0.03)
    }
}

final class PrivateFilesTests: XCTestCase {
    func testAtomicWriteIsPrivateAndComplete() throws {
        let dir = NSTemporaryDirectory() + "persona-core-\(UUID().uuidString)"
        try PrivateFiles.makeDirectory(dir + "/inner")
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/inner")
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o700)
        let path = dir + "/inner/file.txt"
        try PrivateFiles.writeAtomically("hello", to: path)
        try PrivateFiles.writeAtomically("replaced", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "replaced")
        let fileAttributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((fileAttributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        // No temporary files are left beside it.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/inner"), ["file.txt"])
    }
}

final class BenchReportTests: XCTestCase {
    func testMedianAndJSONShape() {
        let r = BenchResult(name: "import", unit: "s", samples: [3, 1, 2, 10])
        XCTAssertEqual(r.value, 2.5)
        XCTAssertEqual(r.min, 1)
        XCTAssertEqual(r.max, 10)
        XCTAssertEqual(r.runs, 4)
        let json = BenchReport(bench: "x", results: [r]).json()
        let object = try! JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        XCTAssertEqual(object["bench"] as? String, "x")
        let results = object["results"] as! [[String: Any]]
        XCTAssertEqual(results[0]["value"] as? Double, 2.5)
        XCTAssertEqual(results[0]["unit"] as? String, "s")

        // Where it was measured: extra top-level keys, and one line under the table.
        var report = BenchReport(bench: "x", results: [r])
        report.machine = [("cpu", "Intel(R) Xeon(R) Processor"), ("vector_path", "AVX-512 (16 float lanes)"), ("threads", "2")]
        let withMachine = try! JSONSerialization.jsonObject(with: Data(report.json().utf8)) as! [String: Any]
        XCTAssertEqual(withMachine["cpu"] as? String, "Intel(R) Xeon(R) Processor")
        XCTAssertEqual(withMachine["threads"] as? String, "2")
        XCTAssertEqual((withMachine["results"] as? [[String: Any]])?.count, 1)
        XCTAssertTrue(report.table().hasSuffix("measured on: cpu Intel(R) Xeon(R) Processor, vector_path AVX-512 (16 float lanes), threads 2"))
    }

    func testJSONStringEscapes() {
        XCTAssertEqual(jsonString("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\u0001é\"")
    }
}
