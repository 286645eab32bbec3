import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Group commit for SQLite WAL databases: many transactions, one fsync.
///
/// The databases run `synchronous=NORMAL`, so `COMMIT` only hands the WAL frames to the kernel
/// (they survive `kill -9` at once). `committed()` then takes a ticket, and this object's own
/// thread runs one `fdatasync` per WAL for every ticket taken since its last sync; callbacks
/// registered with `whenDurable` run, in ticket order, once the sync that covers their ticket
/// returns. Whoever acknowledges a write waits for that callback, so nothing is acknowledged before
/// it survives power loss, and the fsync costs a batch, not an order. With `syncEnabled` false
/// (`--durability normal`), a commit counts as durable as soon as it is in the kernel.
///
/// Checkpoints run on a thread of their own, with a connection of their own, so a committing
/// writer never copies the bulk of the WAL; see `register` for the small part it still does.
public final class GroupCommit: Sendable {
    struct Waiter {
        let ticket: UInt64
        let body: @Sendable (Result<Void, StorageError>) -> Void
    }

    struct State {
        var issued: UInt64 = 0
        var synced: UInt64 = 0
        var syncScheduled = false
        var waiters: [Waiter] = []
        var failure: StorageError?
        var files: [(path: String, descriptor: Int32)] = []
        var checkpointers: [Checkpointer] = []
        /// Lines to append before the next sync, in the order they were committed.
        var appends: [Append] = []
    }

    /// Lines for an `AppendLog` that a commit carries (the engine's audit of its batch).
    struct Append {
        let log: AppendLog
        let lines: any AppendLogLines
        let onFailure: @Sendable (StorageError) -> Void
    }

    /// The connection that checkpoints one registered database.
    final class Checkpointer: @unchecked Sendable {
        // The connection is only used on the checkpoint queue; writers read `path` and `restartDue`.
        let database: SQLiteDatabase
        /// A background pass copied a WAL of `restartPages` or more: the writer should restart it.
        let restartDue = Atomic<Bool>(false)
        init(database: SQLiteDatabase) { self.database = database }
    }

    /// How often committed pages are copied from the WALs into the databases while commits come in.
    let checkpointIntervalNanos: UInt64
    /// WAL pages (4 KiB) from which a background pass asks the writer to restart the WAL.
    let restartPages: Int32
    /// WAL pages after which SQLite makes the writer checkpoint everything itself: a backstop for
    /// when the background passes fall behind, far above what they let the WAL reach.
    static let writerCheckpointPages = 10_000
    /// At most this many extra passes to catch up, and done once a pass found at most
    /// `writerRestartPages` committed during the one before it (or no fewer than the pass before).
    static let catchUpPasses = 4
    static let writerRestartPages: Int32 = 32
    private let lastCheckpoint = Atomic<UInt64>(0)
    /// How many checkpointers have `restartDue` set: one load per commit when none has.
    private let restartsDue = Atomic<Int>(0)

    public let syncEnabled: Bool
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "group-commit")
    /// Checkpoints copy megabytes and fsync the database file: on their own thread, so the syncs
    /// that callers wait for never queue behind one.
    private let checkpointQueue = DispatchQueue(label: "group-commit-checkpoint")
    private let checkpointRunning = Atomic<Bool>(false)

    /// `checkpointInterval` and `restartPages`: see `register`; the defaults are the production ones.
    public init(syncEnabled: Bool, checkpointInterval: Duration = .milliseconds(200), restartPages: Int32 = 2000) {
        self.syncEnabled = syncEnabled
        let (seconds, attoseconds) = checkpointInterval.components
        self.checkpointIntervalNanos = UInt64(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        self.restartPages = restartPages
    }

    deinit {
        state.withLock { state in for file in state.files { close(file.descriptor) } }
    }

    /// Adds a database to every sync and takes over its checkpoints: its connection commits with
    /// `synchronous=NORMAL` from now on, and this object checkpoints the WAL every
    /// `checkpointInterval` while commits come in, on its own thread.
    ///
    /// The WAL only restarts from its start when a writer begins a transaction with every frame
    /// copied, which a checkpoint on another thread never achieves while commits keep coming: the
    /// WAL would grow without end, and every sync pay for a file-size change. So once a background
    /// pass has copied `restartPages` or more, the writer's next `committed(_:)` copies the few
    /// frames committed since (with SQLite's fsyncs of the WAL and the database, which make the
    /// restart safe on power loss) and the WAL starts over. Letting SQLite do it instead at a
    /// fixed size (`wal_autocheckpoint`) made the writer copy up to a whole interval of frames and
    /// fsync twice every 4 MB: ~10% of an engine's thread in the signal benchmark. The file is
    /// never truncated (it is rewritten in place), so an `fdatasync` flushes data only.
    public func register(_ database: SQLiteDatabase) throws(StorageError) {
        try database.execute(
            "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=\(Self.writerCheckpointPages)")
        let walPath = database.path + "-wal"
        // O_CREAT: a new database has no WAL until its first write; SQLite adopts the empty file.
        let descriptor = open(walPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw StorageError(path: walPath, operation: "open for sync", message: String(cString: strerror(errno)))
        }
        // The checkpoint connection syncs the WAL before and the database after it copies pages,
        // as SQLite does at synchronous=FULL.
        let checkpoint = try SQLiteDatabase(path: database.path, durability: .full)
        state.withLock { state in
            state.files.append((walPath, descriptor))
            state.checkpointers.append(Checkpointer(database: checkpoint))
        }
    }

    /// Takes a ticket for everything `database` (a registered writer) committed so far (call right
    /// after `COMMIT`, outside a transaction), restarting its WAL first if a background pass asked.
    public func committed(_ database: SQLiteDatabase) -> UInt64 {
        if restartsDue.load(ordering: .relaxed) > 0 { restartIfDue(database) }
        return committed()
    }

    /// Restarts the WAL of `database` (a registered writer, outside a transaction) if a background
    /// pass asked; for a writer whose commits another writer's ticket covers.
    public func restartIfDue(_ database: SQLiteDatabase) {
        guard restartsDue.load(ordering: .relaxed) > 0 else { return }
        let checkpointers = state.withLock { $0.checkpointers }
        for checkpointer in checkpointers where checkpointer.database.path == database.path {
            guard checkpointer.restartDue.exchange(false, ordering: .acquiringAndReleasing) else { continue }
            restartsDue.subtract(1, ordering: .relaxed)
            // Busy (a background pass is running): the next pass asks again.
            _ = database.checkpointPassive()
        }
    }

    /// As `committed(_:)`, and `lines` are rendered and appended to `log` on the sync thread
    /// before the sync that covers the ticket: written before anyone waiting on the ticket goes
    /// on, in commit order, and off the committing thread (a `write(2)` per batch there cost the
    /// engine's event loop ~5% at 20,000 orders/s, and formatting its audit lines ~8% at ×256).
    /// A failed append is reported to `onFailure` and holds nothing up: the log is a record, the
    /// database the source of truth.
    public func committed(
        _ database: SQLiteDatabase, appending lines: some AppendLogLines, to log: AppendLog,
        onFailure: @escaping @Sendable (StorageError) -> Void
    ) -> UInt64 {
        if restartsDue.load(ordering: .relaxed) > 0 { restartIfDue(database) }
        return committed(append: Append(log: log, lines: lines, onFailure: onFailure))
    }

    /// Appends `lines` to `log` on the sync thread, after the lines queued before them; the ticket
    /// returned is durable once they are written.
    public func append(
        _ lines: some AppendLogLines, to log: AppendLog, onFailure: @escaping @Sendable (StorageError) -> Void
    ) -> UInt64 {
        committed(append: Append(log: log, lines: lines, onFailure: onFailure))
    }

    /// Takes a ticket for everything committed so far (call right after `COMMIT`).
    public func committed() -> UInt64 { committed(append: nil) }

    private func committed(append: Append?) -> UInt64 {
        let (ticket, schedule) = state.withLock { state in
            if let append { state.appends.append(append) }
            state.issued += 1
            let schedule = !state.syncScheduled
            state.syncScheduled = true
            return (state.issued, schedule)
        }
        if schedule { queue.async { self.syncLoop() } }
        return ticket
    }

    /// The newest ticket taken.
    public var lastTicket: UInt64 { state.withLock { $0.issued } }

    /// True while an fsync is running or queued: a writer that commits now waits for the next one
    /// anyway, so it may as well gather more work into one commit until `whenDurable(lastTicket)`.
    public var isSyncing: Bool { state.withLock { $0.syncScheduled } }

    /// Runs `body` once `ticket` is durable (at once, on this thread, if it already is), or with the
    /// error if a sync failed. Bodies run in the order they were registered for increasing tickets.
    public func whenDurable(_ ticket: UInt64, _ body: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        let immediate: Result<Void, StorageError>? = state.withLock { state in
            if let failure = state.failure { return .failure(failure) }
            if ticket <= state.synced && state.waiters.isEmpty { return .success(()) }
            state.waiters.append(Waiter(ticket: ticket, body: body))
            return nil
        }
        if let immediate { body(immediate) }
    }

    /// Waits until `ticket` is durable.
    public func waitDurable(_ ticket: UInt64) async throws(StorageError) {
        let result: Result<Void, StorageError> = await withCheckedContinuation { continuation in
            whenDurable(ticket) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// Syncs until every issued ticket is durable: each pass covers all the commits made while the
    /// previous fsync ran, which is what makes the batches grow with the load.
    private func syncLoop() {
        // One lines' buffer for every round of this run: made afresh each round, it grew from
        // empty by doubling through every batch's audit.
        var lineBuffer: [UInt8] = []
        while true {
            let (target, files, appends) = state.withLock { state in
                var appends: [Append] = []
                swap(&appends, &state.appends)
                return (state.issued, state.files.map(\.descriptor), appends)
            }
            writeLines(appends, buffer: &lineBuffer)
            var failure: StorageError?
            if syncEnabled {
                for (index, descriptor) in files.enumerated() where fdatasync(descriptor) != 0 {
                    let path = state.withLock { $0.files[index].path }
                    failure = StorageError(
                        path: path, operation: "fdatasync", message: String(cString: strerror(errno)))
                    break
                }
            }
            let (ready, done): ([Waiter], Bool) = state.withLock { state in
                if let failure {
                    // A failed fsync leaves the file's state unknown: every later write fails too.
                    state.failure = failure
                    let all = state.waiters
                    state.waiters.removeAll()
                    state.syncScheduled = false
                    return (all, true)
                }
                state.synced = target
                var count = 0
                while count < state.waiters.count && state.waiters[count].ticket <= target { count += 1 }
                let ready = Array(state.waiters.prefix(count))
                state.waiters.removeFirst(count)
                let done = state.issued == target
                if done { state.syncScheduled = false }
                return (ready, done)
            }
            let result: Result<Void, StorageError> = failure.map { .failure($0) } ?? .success(())
            for waiter in ready { waiter.body(result) }
            let now = DispatchTime.now().uptimeNanoseconds
            if now - lastCheckpoint.load(ordering: .relaxed) >= checkpointIntervalNanos {
                lastCheckpoint.store(now, ordering: .relaxed)
                if checkpointRunning.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing)
                    .exchanged
                {
                    checkpointQueue.async {
                        self.checkpoint()
                        self.checkpointRunning.store(false, ordering: .releasing)
                    }
                }
            }
            if done { return }
        }
    }

    /// Renders queued lines and writes them in order: one `write(2)` per run of lines for the same
    /// log (a batch's audit and the heartbeat notes behind it go out together).
    private func writeLines(_ appends: [Append], buffer bytes: inout [UInt8]) {
        var start = 0
        while start < appends.count {
            let log = appends[start].log
            var end = start
            bytes.removeAll(keepingCapacity: true)
            while end < appends.count && appends[end].log === log {
                appends[end].lines.render(into: &bytes)
                end += 1
            }
            if !bytes.isEmpty {
                do { try log.append(bytes: bytes) } catch {
                    for append in appends[start..<end] { append.onFailure(error) }
                }
            }
            start = end
        }
    }

    private func checkpoint() {
        let checkpointers = state.withLock { $0.checkpointers }
        for checkpointer in checkpointers {
            // PASSIVE: copies what no reader needs, never blocks the writer, which restarts the WAL
            // once asked (TRUNCATE or RESTART would make the writer wait, sleeping in SQLite's
            // busy handler).
            guard var frames = checkpointer.database.checkpointPassive(), frames >= restartPages else {
                continue
            }
            // Catch up before asking: each pass copies only what was committed during the one
            // before, so a few short passes leave the writer a few pages to copy and sync instead
            // of everything committed during a long pass (2-6 ms on the writer's thread, every
            // restart, at 10,000 orders/s).
            // Stops as soon as a pass does not shrink the rest: a writer faster than the copying
            // would otherwise grow the WAL through every pass.
            var previous = Int32.max
            for _ in 0..<Self.catchUpPasses {
                guard let next = checkpointer.database.checkpointPassive(), next > frames else { break }
                let committedMeanwhile = next - frames
                frames = next
                if committedMeanwhile <= Self.writerRestartPages || committedMeanwhile >= previous { break }
                previous = committedMeanwhile
            }
            if !checkpointer.restartDue.exchange(true, ordering: .acquiringAndReleasing) {
                restartsDue.add(1, ordering: .relaxed)
            }
        }
    }
}
