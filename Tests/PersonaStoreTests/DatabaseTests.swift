import Foundation
import XCTest
import PersonaTestSupport
@testable import PersonaStore

final class DatabaseTests: XCTestCase {
    func testMigrationsApplyOncePerNamespaceInOrder() throws {
        let dir = try TestPaths.temporaryDirectory("db")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try Database(path: dir + "/x.db")
        try db.migrate(namespace: "data", migrations: ["CREATE TABLE a(x INTEGER)"])
        try db.migrate(namespace: "data", migrations: ["CREATE TABLE a(x INTEGER)"])  // already applied: not run again
        try db.migrate(namespace: "data", migrations: ["CREATE TABLE a(x INTEGER)", "ALTER TABLE a ADD COLUMN y TEXT"])
        try db.migrate(namespace: "train", migrations: ["CREATE TABLE b(x INTEGER)"])
        XCTAssertEqual(try db.schemaVersion(namespace: "data"), 2)
        XCTAssertEqual(try db.schemaVersion(namespace: "train"), 1)
        try db.run("INSERT INTO a(x, y) VALUES (?, ?)", [.int(1), .text("é")])
        XCTAssertEqual(try db.query("SELECT y FROM a") { $0.string(0) }, ["é"])
        // A database newer than this code is refused, not silently used.
        XCTAssertThrowsError(try db.migrate(namespace: "data", migrations: ["CREATE TABLE a(x INTEGER)"]))
    }

    func testFailedMigrationLeavesNoTrace() throws {
        let dir = try TestPaths.temporaryDirectory("db")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try Database(path: dir + "/x.db")
        XCTAssertThrowsError(try db.migrate(namespace: "bad", migrations: ["CREATE TABLE c(x INTEGER); SELECT * FROM missing_table"]))
        XCTAssertEqual(try db.schemaVersion(namespace: "bad"), 0)
        XCTAssertEqual(try db.scalarInt("SELECT COUNT(*) FROM sqlite_master WHERE name = 'c'"), 0)
    }

    func testTransactionRollsBackOnThrowAndNests() throws {
        let dir = try TestPaths.temporaryDirectory("db")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try Database(path: dir + "/x.db")
        try db.execute("CREATE TABLE t(v INTEGER)")
        struct Boom: Error {}
        XCTAssertThrowsError(try db.transaction { try db.run("INSERT INTO t VALUES (1)"); throw Boom() })
        XCTAssertEqual(try db.scalarInt("SELECT COUNT(*) FROM t"), 0)
        try db.transaction {
            try db.run("INSERT INTO t VALUES (2)")
            _ = try? db.transaction { try db.run("INSERT INTO t VALUES (3)"); throw Boom() }
        }
        XCTAssertEqual(try db.query("SELECT v FROM t") { $0.int(0) }, [2])
    }

    func testTypedBindingRoundTrips() throws {
        let dir = try TestPaths.temporaryDirectory("db")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try Database(path: dir + "/x.db")
        try db.execute("CREATE TABLE t(i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)")
        try db.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [.int(-9_007_199_254_740_993), .double(0.25), .text(""), .blob([0, 1, 255]), .null])
        let rows = try db.query("SELECT i, d, s, b, n FROM t") { s in (s.int64(0), s.double(1), s.string(2), s.blob(3), s.optionalString(4)) }
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows[0].0, -9_007_199_254_740_993)
        XCTAssertEqual(rows[0].1, 0.25)
        XCTAssertEqual(rows[0].2, "")
        XCTAssertEqual(rows[0].3, [0, 1, 255])
        XCTAssertNil(rows[0].4)
    }

    func testDatabaseAndWALFilesArePrivate() throws {
        let dir = try TestPaths.temporaryDirectory("db")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/persona.db"
        let db = try Database(path: path)
        try db.execute("CREATE TABLE t(v INTEGER); INSERT INTO t VALUES (1)")
        XCTAssertEqual(try db.query("PRAGMA journal_mode") { $0.string(0) }, ["wal"])
        for file in [path, path + "-wal", path + "-shm"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600, file)
        }
    }
}
