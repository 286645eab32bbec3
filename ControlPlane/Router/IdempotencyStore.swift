import Storage

/// Idempotency keys OPS has acted on, in SQLite (WAL): a key is durable before the order it names
/// is sent. Inserts join one open transaction; `commit()` ends it without an fsync and takes a
/// ticket on the shared fsync (`GroupCommit`), so the signals in flight during one fsync share
/// the next commit and the next fsync (see `SignalRouter.keyIsDurable`).
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
        // Pruning finds expired keys by age: without this index each prune read the whole table,
        // a stall that grew with the keys kept (a day's worth by default). Keys are time-ordered
        // here, so an insert adds to the index's last page, which a batch shares.
        try database.execute("CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created_ns)")
        try groupCommit.register(database)
    }

    /// True while inserts wait in the open transaction for `commit()`.
    var hasPendingWrites: Bool { database.isInTransaction }

    /// Commits the open transaction (no fsync) and returns the ticket that covers it, or nil when
    /// nothing was pending. A failed commit rolls back: the keys in it were never acted on.
    func commit() throws(StorageError) -> UInt64? {
        guard database.isInTransaction else { return nil }
        do { try database.commit() } catch {
            if database.isInTransaction { try? database.execute("ROLLBACK") }
            throw error
        }
        return groupCommit.committed(database)
    }

    /// SQLite's plan for the prune statement (tests check it uses the index).
    func prunePlan() throws(StorageError) -> String {
        let statement = try database.statement("EXPLAIN QUERY PLAN DELETE FROM idempotency WHERE created_ns < ?")
        statement.bind(1, 0)
        var plan: [String] = []
        while try statement.step() { plan.append(statement.string(3)) }
        return plan.joined(separator: "; ")
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
        if !database.isInTransaction { try database.begin() }
        let statement = try database.statement("DELETE FROM idempotency WHERE created_ns < ?")
        statement.bind(1, cutoff)
        try statement.run()
        return Int64(database.changes)
    }

    /// Inserts into the open transaction; durable once a later `commit()`'s ticket is.
    func insert(_ entry: Entry) throws(StorageError) {
        try run(Self.insertSQL, entry)
    }

    /// As `insert`, unless the key is already there (then nothing changes); true when inserted.
    func insertIfAbsent(_ entry: Entry) throws(StorageError) -> Bool {
        try run(Self.insertIfAbsentSQL, entry)
        return database.changes == 1
    }

    private static let insertSQL =
        "INSERT INTO idempotency (key, body_hash, client_order_id, model, engine_id, created_ns) VALUES (?,?,?,?,?,?)"
    private static let insertIfAbsentSQL = insertSQL + " ON CONFLICT(key) DO NOTHING"

    private func run(_ sql: String, _ entry: Entry) throws(StorageError) {
        if !database.isInTransaction { try database.begin() }
        try database.statement(sql)
            .bind(1, entry.key).bind(2, entry.bodyHash).bind(3, entry.clientOrderID).bind(4, entry.model)
            .bind(5, entry.engineID).bind(6, entry.createdUnixNanos)
            .run()
    }
}
