import Storage

/// Idempotency keys OPS has acted on, in SQLite (WAL): a key is durable before the order it names
/// is sent. Inserts commit without an fsync and wait for a shared one (`GroupCommit`), so many
/// signals in flight pay for one fsync, not one each.
final class IdempotencyStore {
    struct Entry: Equatable {
        var key: String
        var bodyHash: String
        var clientOrderID: String
        var model: String
        var engineID: String
        var createdUnixNanos: Int64
    }

    private let database: SQLiteDatabase
    /// Wait on it (it is Sendable) for an insert's ticket to be durable.
    let groupCommit = GroupCommit(syncEnabled: true)

    init(path: String) throws(StorageError) {
        database = try SQLiteDatabase(path: path)
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS idempotency (
                key TEXT PRIMARY KEY, body_hash TEXT NOT NULL, client_order_id TEXT NOT NULL,
                model TEXT NOT NULL, engine_id TEXT NOT NULL, created_ns INTEGER NOT NULL
            ) WITHOUT ROWID;
            """)
        // State written before engine_id existed: add it; an empty engine id means "derive it again".
        let columns = try database.statement("PRAGMA table_info(idempotency)")
        var names = Set<String>()
        while try columns.step() { names.insert(columns.string(1)) }
        if !names.contains("engine_id") {
            try database.execute("ALTER TABLE idempotency ADD COLUMN engine_id TEXT NOT NULL DEFAULT ''")
        }
        try groupCommit.register(database)
    }

    func entry(key: String) throws(StorageError) -> Entry? {
        let statement = try database.statement(
            "SELECT body_hash, client_order_id, model, engine_id, created_ns FROM idempotency WHERE key = ?")
        statement.bind(1, key)
        guard try statement.step() else { return nil }
        return Entry(
            key: key, bodyHash: statement.string(0), clientOrderID: statement.string(1), model: statement.string(2),
            engineID: statement.string(3), createdUnixNanos: statement.int64(4))
    }

    /// Forgets keys created before `cutoff` (Unix ns); returns how many.
    @discardableResult
    func prune(createdBefore cutoff: Int64) throws(StorageError) -> Int64 {
        let statement = try database.statement("DELETE FROM idempotency WHERE created_ns < ?")
        statement.bind(1, cutoff)
        try statement.run()
        return Int64(database.changes)
    }

    /// Inserts (committed, not yet fsynced) and returns the ticket to wait for on `groupCommit`.
    func insert(_ entry: Entry) throws(StorageError) -> UInt64 {
        try database.statement(
            "INSERT INTO idempotency (key, body_hash, client_order_id, model, engine_id, created_ns) VALUES (?,?,?,?,?,?)"
        )
        .bind(1, entry.key).bind(2, entry.bodyHash).bind(3, entry.clientOrderID).bind(4, entry.model)
        .bind(5, entry.engineID).bind(6, entry.createdUnixNanos)
        .run()
        return groupCommit.committed(database)
    }
}
