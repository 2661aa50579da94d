import CSQLite

/// A thin SQLite connection: prepared statements cached by SQL text, typed binding, step-wise rows.
final class SQLiteDatabase {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Opens (creating) a database file, or `:memory:`. File databases use WAL with
    /// synchronous=NORMAL: a committed write survives the process being killed.
    init(path: String) throws(Failure) {
        guard
            sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
                == SQLITE_OK
        else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw Failure(description: "cannot open \(path): \(message)")
        }
        sqlite3_busy_timeout(handle, 5_000)
        if path != ":memory:" {
            try execute("PRAGMA journal_mode=WAL")
            try execute("PRAGMA synchronous=NORMAL")
        }
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close(handle)
    }

    var lastError: String { String(cString: sqlite3_errmsg(handle)) }

    func execute(_ sql: String) throws(Failure) {
        var error: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &error) != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? lastError
            sqlite3_free(error)
            throw Failure(description: message)
        }
    }

    enum Value {
        case text(String)
        case blob([UInt8])
        case integer(Int64)
        case null
    }

    private func prepare(_ sql: String, _ bindings: [Value]) throws(Failure) -> OpaquePointer {
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        } else {
            var prepared: OpaquePointer?
            guard sqlite3_prepare_v2(handle, sql, -1, &prepared, nil) == SQLITE_OK, let prepared else {
                throw Failure(description: "\(lastError) in \(sql)")
            }
            statements[sql] = prepared
            statement = prepared
        }
        // SQLITE_TRANSIENT: SQLite copies the bound bytes.
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, value) in bindings.enumerated() {
            let index = Int32(i + 1)
            switch value {
            case .text(let s): sqlite3_bind_text(statement, index, s, -1, transient)
            case .blob(let b):
                b.withUnsafeBytes { raw in
                    _ = sqlite3_bind_blob(
                        statement, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(b.count), transient)
                }
            case .integer(let n): sqlite3_bind_int64(statement, index, n)
            case .null: sqlite3_bind_null(statement, index)
            }
        }
        return statement
    }

    /// Runs a statement that returns no rows; returns the number of rows changed.
    @discardableResult
    func run(_ sql: String, _ bindings: [Value] = []) throws(Failure) -> Int {
        let statement = try prepare(sql, bindings)
        defer { sqlite3_reset(statement) }
        let status = sqlite3_step(statement)
        guard status == SQLITE_DONE || status == SQLITE_ROW else {
            throw Failure(description: "\(lastError) in \(sql)")
        }
        return Int(sqlite3_changes(handle))
    }

    /// A row being read: columns by index.
    struct Row {
        let statement: OpaquePointer
        func text(_ i: Int32) -> String? {
            sqlite3_column_type(statement, i) == SQLITE_NULL ? nil : String(cString: sqlite3_column_text(statement, i))
        }
        func blob(_ i: Int32) -> [UInt8] {
            let count = Int(sqlite3_column_bytes(statement, i))
            guard count > 0, let base = sqlite3_column_blob(statement, i) else { return [] }
            return Array(UnsafeRawBufferPointer(start: base, count: count))
        }
        func integer(_ i: Int32) -> Int64 { sqlite3_column_int64(statement, i) }
    }

    /// Steps through the rows; `body` returns false to stop early.
    func query(_ sql: String, _ bindings: [Value] = [], _ body: (Row) throws -> Bool) throws {
        let statement = try prepare(sql, bindings)
        defer { sqlite3_reset(statement) }
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw Failure(description: "\(lastError) in \(sql)") }
            if try !body(Row(statement: statement)) { return }
        }
    }

    /// Runs `body` in one transaction: all of it commits, or none.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try run("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            _ = try? run("ROLLBACK")
            throw error
        }
    }
}
