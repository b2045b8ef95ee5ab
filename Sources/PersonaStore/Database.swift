import CSQLite
import Foundation
import PersonaCore

/// A connection to one SQLite file over the C API: WAL journal, a busy timeout, a cache
/// of prepared statements, typed binding and reading, transactions that roll back on
/// throw, and a migration runner that lets each layer own its own tables.
///
/// Raw C rather than GRDB: the store needs only prepared statements and transactions,
/// bulk inserts cost the same either way (platform notes), and it saves ~26 s of clean
/// debug build for every engineer.
public final class Database {
    public let path: String
    let handle: OpaquePointer
    private var cache: [String: Statement] = [:]
    private var transactionDepth = 0

    /// Opens (creating when missing, mode 0600) the database at `path`.
    public init(path: String) throws {
        self.path = path
        // Create the file ourselves so that it is born 0600; SQLite gives the -wal and
        // -shm files the permissions of the database file.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError.database(path: path, code: SQLITE_CANTOPEN, reason: String(cString: strerror(errno)))
        }
        close(fd)
        chmod(path, 0o600)
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let reason = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw StoreError.database(path: path, code: rc, reason: reason)
        }
        handle = db
        sqlite3_busy_timeout(db, 5000)
        sqlite3_extended_result_codes(db, 1)
        do {
            try execute("PRAGMA journal_mode=WAL")
            try execute("PRAGMA synchronous=NORMAL")
            try execute("PRAGMA foreign_keys=ON")
            try execute("PRAGMA temp_store=MEMORY")
            // 64 MiB of page cache: imports insert into indexes keyed by hashes, in random order.
            try execute("PRAGMA cache_size=-65536")
        } catch {
            sqlite3_close_v2(db)
            throw error
        }
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            chmod(path + suffix, 0o600)
        }
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    func error(_ rc: Int32, sql: String? = nil) -> StoreError {
        var reason = String(cString: sqlite3_errmsg(handle))
        if let sql { reason += " (in: \(sql.prefix(80)))" }
        return .database(path: path, code: rc, reason: reason)
    }

    // MARK: Statements

    /// A prepared statement for `sql`, from the cache when it was prepared before. The
    /// statement comes back reset with its bindings cleared.
    public func prepare(_ sql: String) throws -> Statement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        let statement = try Statement(database: self, sql: sql)
        cache[sql] = statement
        return statement
    }

    /// Runs one or more statements that return no rows and take no parameters.
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let reason = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw StoreError.database(path: path, code: rc, reason: reason + " (in: \(sql.prefix(80)))")
        }
    }

    /// Runs one statement with parameters, returning nothing.
    public func run(_ sql: String, _ values: [SQLValue] = []) throws {
        let s = try prepare(sql)
        try s.bind(values)
        while try s.step() {}
    }

    /// Runs a query and maps each row.
    public func query<T>(_ sql: String, _ values: [SQLValue] = [], _ row: (Statement) throws -> T) throws -> [T] {
        let s = try prepare(sql)
        // A statement left mid-result holds its read snapshot open; reset it however we leave.
        defer { s.reset() }
        try s.bind(values)
        var out: [T] = []
        while try s.step() { out.append(try row(s)) }
        return out
    }

    /// The first column of the first row, as an integer (nil when there is no row or it is NULL).
    public func scalarInt(_ sql: String, _ values: [SQLValue] = []) throws -> Int64? {
        let s = try prepare(sql)
        // Only the first row is read: reset so the read snapshot is released.
        defer { s.reset() }
        try s.bind(values)
        guard try s.step(), !s.isNull(0) else { return nil }
        return s.int64(0)
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    // MARK: Transactions

    /// Runs `body` in a transaction (a savepoint when nested): committed when it returns,
    /// rolled back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let savepoint = "persona_\(transactionDepth)"
        try execute(transactionDepth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT \(savepoint)")
        transactionDepth += 1
        do {
            let result = try body()
            transactionDepth -= 1
            try execute(transactionDepth == 0 ? "COMMIT" : "RELEASE \(savepoint)")
            return result
        } catch {
            transactionDepth -= 1
            if transactionDepth == 0 {
                try? execute("ROLLBACK")
            } else {
                try? execute("ROLLBACK TO \(savepoint); RELEASE \(savepoint)")
            }
            throw error
        }
    }

    // MARK: Migrations

    /// Applies, in order and each in its own transaction, the scripts of `namespace` not
    /// applied yet. Version n is `migrations[n - 1]`; applied versions are recorded in
    /// `schema_migrations(namespace, version)`, so other layers add tables under their own
    /// namespace and only ever append scripts.
    public func migrate(namespace: String, migrations: [String]) throws {
        try execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations(
                namespace TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,
                PRIMARY KEY(namespace, version)) WITHOUT ROWID
            """)
        let applied = try scalarInt("SELECT MAX(version) FROM schema_migrations WHERE namespace = ?", [.text(namespace)]) ?? 0
        if applied > Int64(migrations.count) {
            throw StoreError.database(path: path, code: SQLITE_ERROR,
                                      reason: "schema '\(namespace)' is at version \(applied) but this persona knows only \(migrations.count); use a newer persona")
        }
        for (index, script) in migrations.enumerated() where Int64(index + 1) > applied {
            try transaction {
                try execute(script)
                try run("INSERT INTO schema_migrations(namespace, version, applied_at) VALUES (?, ?, datetime('now'))",
                        [.text(namespace), .int(Int64(index + 1))])
            }
        }
    }

    /// The highest applied version of `namespace` (0 when none).
    public func schemaVersion(namespace: String) throws -> Int {
        Int(try scalarInt("SELECT MAX(version) FROM schema_migrations WHERE namespace = ?", [.text(namespace)]) ?? 0)
    }
}

/// A value to bind to a statement parameter.
public enum SQLValue: Equatable, Sendable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
}

/// A prepared statement. Parameters are 1-based and columns 0-based, as in SQLite.
public final class Statement {
    let pointer: OpaquePointer
    unowned let database: Database
    public let sql: String

    init(database: Database, sql: String) throws {
        self.database = database
        self.sql = sql
        var p: OpaquePointer?
        let rc = sqlite3_prepare_v3(database.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &p, nil)
        guard rc == SQLITE_OK, let p else { throw database.error(rc, sql: sql) }
        pointer = p
    }

    deinit { sqlite3_finalize(pointer) }

    public func reset() {
        sqlite3_reset(pointer)
        sqlite3_clear_bindings(pointer)
    }

    // MARK: Binding

    public func bind(_ values: [SQLValue]) throws {
        for (i, v) in values.enumerated() { try bind(Int32(i + 1), v) }
    }

    public func bind(_ index: Int32, _ value: SQLValue) throws {
        switch value {
        case .null: try check(sqlite3_bind_null(pointer, index))
        case .int(let x): try bind(index, x)
        case .double(let x): try check(sqlite3_bind_double(pointer, index, x))
        case .text(let s): try bind(index, s)
        case .blob(let bytes): try bind(index, bytes)
        }
    }

    public func bind(_ index: Int32, _ value: Int64) throws { try check(sqlite3_bind_int64(pointer, index, value)) }
    public func bind(_ index: Int32, _ value: Int) throws { try bind(index, Int64(value)) }
    public func bind(_ index: Int32, _ value: Bool) throws { try bind(index, Int64(value ? 1 : 0)) }
    public func bind(_ index: Int32, _ value: String) throws {
        if value.isEmpty { try check(sqlite3_bind_text(pointer, index, "", 0, csqlite_transient())); return }
        var copy = value
        let rc = copy.withUTF8 { bytes -> Int32 in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                sqlite3_bind_text(pointer, index, chars.baseAddress, Int32(chars.count), csqlite_transient())
            }
        }
        try check(rc)
    }
    public func bind(_ index: Int32, _ value: String?) throws {
        if let value { try bind(index, value) } else { try check(sqlite3_bind_null(pointer, index)) }
    }
    public func bind(_ index: Int32, _ value: Int64?) throws {
        if let value { try bind(index, value) } else { try check(sqlite3_bind_null(pointer, index)) }
    }
    public func bind(_ index: Int32, _ bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBytes { raw in
            sqlite3_bind_blob(pointer, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), csqlite_transient())
        }
        try check(rc)
    }

    private func check(_ rc: Int32) throws {
        if rc != SQLITE_OK { throw database.error(rc, sql: sql) }
    }

    // MARK: Stepping

    /// Advances to the next row: true when a row is ready, false when done.
    @discardableResult
    public func step() throws -> Bool {
        let rc = sqlite3_step(pointer)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let e = database.error(rc, sql: sql)
            sqlite3_reset(pointer)
            throw e
        }
    }

    // MARK: Columns

    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(pointer, column) == SQLITE_NULL }
    public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(pointer, column) }
    public func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(pointer, column)) }
    public func bool(_ column: Int32) -> Bool { sqlite3_column_int64(pointer, column) != 0 }
    public func double(_ column: Int32) -> Double { sqlite3_column_double(pointer, column) }
    public func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    /// The column as text (empty for NULL); invalid UTF-8 is repaired, never trusted.
    public func string(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(pointer, column) else { return "" }
        let n = Int(sqlite3_column_bytes(pointer, column))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    public func optionalString(_ column: Int32) -> String? { isNull(column) ? nil : string(column) }

    public func blob(_ column: Int32) -> [UInt8] {
        let n = Int(sqlite3_column_bytes(pointer, column))
        guard n > 0, let p = sqlite3_column_blob(pointer, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: p, count: n))
    }

    public var columnCount: Int32 { sqlite3_column_count(pointer) }
    public func columnName(_ column: Int32) -> String {
        guard let name = sqlite3_column_name(pointer, column) else { return "" }
        return String(cString: name)
    }
}
