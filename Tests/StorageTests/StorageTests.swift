import Foundation
import Storage
import Synchronization
import Testing

struct StorageTests {
    let directory = NSTemporaryDirectory() + "storage-\(UUID().uuidString)"
    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }

    @Test func committedRowsSurviveReopenAndRolledBackOnesDoNot() throws {
        let path = "\(directory)/t.sqlite"
        do {
            let db = try SQLiteDatabase(path: path)
            try db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")
            try db.transaction { try db.statement("INSERT INTO t VALUES (?, ?)").bind(1, "a").bind(2, Int64.max).run() }
            _ = try? db.transaction {
                try db.statement("INSERT INTO t VALUES (?, ?)").bind(1, "b").bind(2, 1).run()
                throw StorageError(path: path, operation: "test", message: "abort")
            }
        }
        let db = try SQLiteDatabase(path: path)
        let rows = try db.statement("SELECT k, v FROM t")
        #expect(try rows.step())
        #expect(rows.string(0) == "a" && rows.int64(1) == Int64.max)
        #expect(try rows.step() == false)
        #expect(throws: StorageError.self) { try db.execute("INSERT INTO t VALUES ('a', 1)") }
    }

    @Test func boundTextSurvivesUntilTheStatementIsReusedWhateverItsSize() throws {
        // Text is bound without SQLite's copy, from a per-statement buffer reused at each reset;
        // text too large for it is copied by SQLite. Every value must land intact either way.
        let db = try SQLiteDatabase(path: "\(directory)/bind.sqlite")
        try db.execute("CREATE TABLE t (a TEXT, b TEXT, c TEXT, d TEXT)")
        let big = String(repeating: "x", count: 3_000)
        let rows: [[String]] = [
            ["", "é-ünïcødé", big, "tail"], ["short", String(repeating: "y", count: 1_500), "", "z"],
            [
                String(repeating: "w", count: 600), String(repeating: "v", count: 600),
                String(repeating: "u", count: 600), "t",
            ],
        ]
        try db.transaction {
            for row in rows {
                try db.statement("INSERT INTO t VALUES (?, ?, ?, ?)").bind(1, row[0]).bind(2, row[1]).bind(3, row[2])
                    .bind(4, row[3]).run()
            }
        }
        let read = try db.statement("SELECT a, b, c, d FROM t ORDER BY rowid")
        var out: [[String]] = []
        while try read.step() { out.append((0..<4).map { read.string(Int32($0)) }) }
        #expect(out == rows)
        let empty = try db.statement("SELECT count(*) FROM t WHERE a = ? AND a IS NOT NULL").bind(1, "")
        #expect(try empty.step() && empty.int64(0) == 1, "an empty string binds as text, not NULL")
    }

    @Test func atomicFileReplacesWhole() throws {
        let path = "\(directory)/w.json"
        try AtomicFile.write(Array("one".utf8), to: path)
        try AtomicFile.write(Array("two".utf8), to: path)
        #expect(try AtomicFile.read(path) == Array("two".utf8))
        #expect(try AtomicFile.read("\(directory)/missing") == nil)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory) == ["w.json"], "no temporary left behind")
    }

    @Test func appendLogAppends() throws {
        let path = "\(directory)/a.jsonl"
        try AppendLog(path: path).append("{\"a\":1}")
        try AppendLog(path: path).append(lines: ["{\"b\":2}", "{\"c\":3}"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n")
    }

    /// Past each writeback chunk the log asks the kernel to write the new bytes out and drop the
    /// older ones from its cache: every line is still there, in order, and a log opened again on
    /// the file counts its chunks from the end it finds.
    @Test func appendLogKeepsEveryLineAcrossWritebackChunks() throws {
        let path = "\(directory)/chunks.jsonl"
        let line = String(repeating: "x", count: 99)  // a digit and 98 x: 100 bytes with its newline
        let first = try AppendLog(path: path, writebackChunk: 4096)
        for index in 0..<500 { try first.append("\(index % 10)" + line.dropFirst()) }
        let again = try AppendLog(path: path, writebackChunk: 4096)
        try again.append(lines: (0..<300).map { "\($0 % 10)" + line.dropFirst() })
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 800)
        #expect(lines.allSatisfy { $0.utf8.count == 99 })
        #expect(
            lines.enumerated().allSatisfy { index, text in
                text.first == Character("\((index < 500 ? index : index - 500) % 10)")
            })
    }
}

@Suite struct GroupCommitStorageTests {
    func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "gc-\(UUID().uuidString).sqlite"
        return path
    }

    /// A new database with a table `t (v INTEGER)`, registered with a syncing group commit.
    func syncedTable() throws -> (path: String, database: SQLiteDatabase, commits: GroupCommit) {
        let path = try scratch()
        let database = try SQLiteDatabase(path: path)
        try database.execute("CREATE TABLE t (v INTEGER)")
        let commits = GroupCommit(syncEnabled: true)
        try commits.register(database)
        return (path, database, commits)
    }

    @Test func ticketsBecomeDurableInOrderAndCommitsSurviveReopen() async throws {
        let (path, database, commits) = try syncedTable()
        let order = Mutex<[UInt64]>([])
        var tickets: [UInt64] = []
        for value in 0..<50 {
            try database.statement("INSERT INTO t VALUES (?)").bind(1, Int64(value)).run()
            let ticket = commits.committed()
            tickets.append(ticket)
            commits.whenDurable(ticket) { result in
                if case .success = result { order.withLock { $0.append(ticket) } }
            }
        }
        try await commits.waitDurable(tickets[tickets.count - 1])
        #expect(order.withLock { $0 } == tickets, "callbacks run once, in ticket order")
        let reopened = try SQLiteDatabase(path: path)
        let rows = try reopened.statement("SELECT count(*) FROM t")
        _ = try rows.step()
        #expect(rows.int64(0) == 50)
    }

    /// Under a stream of commits the WAL must be reset from its start now and then; if it only
    /// grew, every sync would also pay for a file-size change and the disk would fill up. The
    /// writer restarts it when a background checkpoint asks (SQLite's own restart, at 10,000
    /// pages, is far above what this test writes).
    @Test func theWALStaysBoundedUnderContinuousCommits() async throws {
        let path = try scratch()
        let database = try SQLiteDatabase(path: path)
        try database.execute("CREATE TABLE t (v BLOB)")
        let commits = GroupCommit(syncEnabled: false, checkpointInterval: .milliseconds(2), restartPages: 256)
        try commits.register(database)
        let blob = [UInt8](repeating: 7, count: 16 * 1024)
        var largest: Int64 = 0
        var ticket: UInt64 = 0
        for _ in 0..<1500 {  // ~25 MB of WAL frames in all
            try database.begin()
            try database.statement("INSERT INTO t VALUES (?)").bind(1, bytes: blob).run()
            try database.commit()
            ticket = commits.committed(database)
            try await commits.waitDurable(ticket)  // paces the writer to the background passes
            let attributes = try FileManager.default.attributesOfItem(atPath: path + "-wal")
            largest = max(largest, (attributes[.size] as? NSNumber)?.int64Value ?? 0)
        }
        try await commits.waitDurable(ticket)
        #expect(largest > 0)
        #expect(largest < 12 * 1024 * 1024, "WAL reached \(largest) bytes")
    }

    /// A commit's log lines (the engine's audit) are written on the sync thread: in the order they
    /// were queued, with and without a commit, and before anyone waiting on their ticket goes on.
    @Test func linesQueuedWithCommitsAreWrittenInOrderBeforeTheirTicketIsDurable() async throws {
        let (path, database, commits) = try syncedTable()
        let log = try AppendLog(path: path + ".jsonl")
        let seen = Mutex<[Int]>([])
        for value in 0..<40 {
            try database.begin()
            try database.statement("INSERT INTO t VALUES (?)").bind(1, Int64(value)).run()
            try database.commit()
            let line = Array("\(value)\n".utf8)
            let ticket =
                value % 5 == 4
                ? commits.append(line, to: log) { _ in }
                : commits.committed(database, appending: line, to: log) { _ in }
            commits.whenDurable(ticket) { _ in
                // Every line up to this one is in the file when its ticket's callback runs.
                let text = (try? String(contentsOfFile: path + ".jsonl", encoding: .utf8)) ?? ""
                seen.withLock { $0.append(text.split(separator: "\n").count) }
            }
        }
        try await commits.waitDurable(commits.lastTicket)
        let text = try String(contentsOfFile: path + ".jsonl", encoding: .utf8)
        #expect(text == (0..<40).map { "\($0)\n" }.joined())
        let counts = seen.withLock { $0 }
        #expect(counts.count == 40)
        #expect(zip(counts, 1...40).allSatisfy { $0 >= $1 }, "a ticket's line was missing at its callback: \(counts)")
    }

    @Test func aDurableTicketCompletesAtOnce() async throws {
        let database = try SQLiteDatabase(path: try scratch())
        let commits = GroupCommit(syncEnabled: false)
        try commits.register(database)
        try database.execute("CREATE TABLE t (v INTEGER)")
        let ticket = commits.committed()
        try await commits.waitDurable(ticket)
        let ran = Mutex(false)
        commits.whenDurable(ticket) { _ in ran.withLock { $0 = true } }
        #expect(ran.withLock { $0 }, "an already durable ticket runs its callback inline")
    }
}
