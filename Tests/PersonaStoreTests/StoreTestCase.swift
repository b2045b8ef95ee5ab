import Foundation
import XCTest
import PersonaCore
import PersonaTestSupport
@testable import PersonaStore

/// A fresh workspace per test, and helpers to write fixture files into it.
class StoreTestCase: XCTestCase {
    var directory = ""
    var store: MessageStore!

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("store")
        store = try MessageStore(workspace: try Workspace(path: directory + "/workspace"))
    }

    override func tearDownWithError() throws {
        store = nil
        try? FileManager.default.removeItem(atPath: directory)
    }

    static let fixtures = TestPaths.packageRoot + "/Tests/PersonaStoreTests/Fixtures"

    /// Writes `text` (UTF-8) to a file named `name` in the test's folder and returns its path.
    @discardableResult
    func write(_ text: String, to name: String) throws -> String {
        try write(Data(text.utf8), to: name)
    }

    @discardableResult
    func write(_ data: Data, to name: String) throws -> String {
        let path = directory + "/" + name
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    func options(me: String? = nil, zone: String = "UTC", format: ImportFormat? = nil, country: String = "US") -> ImportOptions {
        ImportOptions(format: format, me: me, timeZone: TimeZone(identifier: zone)!, defaultCountry: country)
    }

    func all() throws -> [StoredMessage] { try store.messages(filter: .everything) }

    func iso(_ m: StoredMessage) -> String { UTCFormat.iso8601(m.sentAt) }

    /// Asserts that `body` throws a `StoreError` whose one-line message contains every fragment.
    func assertStoreError(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected an error containing \(fragments)", file: file, line: line)
        } catch {
            let text = describeError(error)
            XCTAssertFalse(text.contains("\n"), "error is not one line: \(text)", file: file, line: line)
            for f in fragments { XCTAssertTrue(text.contains(f), "'\(text)' lacks '\(f)'", file: file, line: line) }
        }
    }
}
