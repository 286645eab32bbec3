import CSQLite
import WALWriteCoalescing

/// A SQLite connection in WAL mode, owned by one task or actor at a time (not thread-safe by
/// design: the ledger serialises its writes, which is what makes group commit simple).
///
/// `synchronous=FULL` by default: a committed transaction survives power loss, not only `kill -9`.
public final class SQLiteDatabase {
    public enum Durability: String, Sendable {
        /// fsync on every commit: survives power loss.
        case full = "FULL"
        /// fsync at checkpoints: survives a process crash (kill -9), may lose the last commits on power loss.
        case normal = "NORMAL"
    }

    let handle: OpaquePointer
    public let path: String
    private var statements: [String: SQLiteStatement] = [:]

    /// Process-wide settings, applied once before the first connection opens.
    /// The VFS every connection opens with: WAL commits in one write each (see WALWriteCoalescing.h),
    /// or SQLite's default if it could not be registered.
    private static let vfs: String? = {
        _ = fleet_sqlite3_disable_memstatus()
        return fleet_wal_coalescing_register() == SQLITE_OK ? FLEET_WAL_COALESCING_VFS : nil
    }()

    public init(path: String, durability: Durability = .full) throws(StorageError) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, Self.vfs)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw StorageError(path: path, operation: "open", message: message)
        }
        self.handle = db
        self.path = path
        sqlite3_busy_timeout(db, 5_000)
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=\(durability.rawValue)")
        try execute("PRAGMA foreign_keys=ON")
        // Statement journals (UPSERTs inside a long transaction need one) stay in memory, not temp files.
        try execute("PRAGMA temp_store=MEMORY")
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// A PASSIVE checkpoint (copies the WAL frames no reader needs, waits for nobody): how many
    /// frames the WAL held, or nil if another checkpoint was running.
    public func checkpointPassive() -> Int32? {
        var frames: Int32 = 0
        var copied: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied)
        return rc == SQLITE_OK ? frames : nil
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws(StorageError) {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw StorageError(path: path, operation: sql, message: message)
        }
    }

    /// A prepared statement, cached by its text and reset for reuse.
    public func statement(_ sql: String) throws(StorageError) -> SQLiteStatement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil) == SQLITE_OK,
            let raw
        else {
            throw StorageError(path: path, operation: sql, message: String(cString: sqlite3_errmsg(handle)))
        }
        let statement = SQLiteStatement(raw: raw, database: self, sql: sql)
        statements[sql] = statement
        return statement
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try begin()
        do {
            let value = try body()
            try commit()
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Begins a write transaction, or commits one, through cached statements (no parsing per batch).
    public func begin() throws(StorageError) { try statement("BEGIN IMMEDIATE").run() }
    public func commit() throws(StorageError) { try statement("COMMIT").run() }

    func error(_ operation: String) -> StorageError {
        StorageError(path: path, operation: operation, message: String(cString: sqlite3_errmsg(handle)))
    }
}

/// A prepared statement. Bind with 1-based indexes, step, read columns with 0-based indexes.
public final class SQLiteStatement {
    private let raw: OpaquePointer
    private unowned let database: SQLiteDatabase
    private let sql: String

    init(raw: OpaquePointer, database: SQLiteDatabase, sql: String) {
        self.raw = raw
        self.database = database
        self.sql = sql
    }

    /// Text bound since the last reset, copied here and bound without a copy by SQLite: Debian's
    /// SQLite is built without lookaside memory, so each of its own copies is a malloc and a free,
    /// several per row. Valid until `reset()`, which clears the bindings before the space is reused.
    private var textArena: UnsafeMutableRawPointer?
    private var textArenaUsed = 0
    private static let textArenaCapacity = 2_048

    deinit {
        sqlite3_finalize(raw)
        textArena?.deallocate()
    }

    func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
        textArenaUsed = 0
    }

    @discardableResult
    public func bind(_ index: Int32, _ value: Int64) -> SQLiteStatement {
        sqlite3_bind_int64(raw, index, value)
        return self
    }

    @discardableResult
    public func bind(_ index: Int32, _ value: String) -> SQLiteStatement {
        var value = value
        value.withUTF8 { buffer in
            if textArena == nil {
                textArena = .allocate(byteCount: Self.textArenaCapacity, alignment: 1)
            }
            if let arena = textArena, textArenaUsed + buffer.count <= Self.textArenaCapacity {
                let text = arena + textArenaUsed
                if let source = buffer.baseAddress { text.copyMemory(from: source, byteCount: buffer.count) }
                textArenaUsed += buffer.count
                // Never a null pointer, even for "": SQLite would bind NULL.
                _ = fleet_sqlite3_bind_text_static(
                    raw, index, text.assumingMemoryBound(to: CChar.self), Int32(buffer.count))
            } else {
                _ = buffer.withMemoryRebound(to: CChar.self) { chars in
                    fleet_sqlite3_bind_text_copy(raw, index, chars.baseAddress, Int32(chars.count))
                }
            }
        }
        return self
    }

    @discardableResult
    public func bind(_ index: Int32, _ value: String?) -> SQLiteStatement {
        if let value { return bind(index, value) }
        sqlite3_bind_null(raw, index)
        return self
    }

    @discardableResult
    public func bind(_ index: Int32, bytes: [UInt8]) -> SQLiteStatement {
        bytes.withUnsafeBytes { buffer in
            _ = fleet_sqlite3_bind_blob_copy(raw, index, buffer.baseAddress, Int32(buffer.count))
        }
        return self
    }

    /// Steps once: true when a row is available.
    public func step() throws(StorageError) -> Bool {
        let rc = sqlite3_step(raw)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw database.error(sql)
        }
    }

    /// Runs a statement that returns no rows.
    public func run() throws(StorageError) {
        while try step() {}
    }

    public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(raw, column) }

    public func string(_ column: Int32) -> String {
        guard let text = sqlite3_column_text(raw, column) else { return "" }
        return String(cString: text)
    }

    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(raw, column) == SQLITE_NULL }

    public func bytes(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(raw, column))
        guard count > 0, let pointer = sqlite3_column_blob(raw, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

/// A storage operation that failed, with the file and what was being done.
public struct StorageError: Error, CustomStringConvertible {
    public let path: String
    public let operation: String
    public let message: String
    public init(path: String, operation: String, message: String) {
        self.path = path
        self.operation = operation
        self.message = message
    }
    public var description: String { "\(path): \(operation): \(message)" }
}
