import Foundation
import Testing
import WALWriteCoalescing

@testable import Storage

/// The VFS every connection opens with gathers a commit's WAL frames into one write, and what it
/// writes is what SQLite meant: other connections, checkpoints and a reopen see every commit.
struct WALWriteCoalescingTests {
    let path = NSTemporaryDirectory() + "wal-\(UUID().uuidString).sqlite"

    func walWrites(_ database: SQLiteDatabase) -> UInt64 { fleet_wal_coalescing_wal_writes(database.handle) }

    func walSize() throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? NSNumber)?.intValue ?? 0
    }

    func insertRows(_ database: SQLiteDatabase, _ range: Range<Int>) throws {
        try database.transaction {
            for value in range {
                try database.statement("INSERT INTO t VALUES (?, ?)").bind(1, Int64(value))
                    .bind(2, String(repeating: "x", count: 900)).run()
            }
        }
    }

    @Test func aCommitOfManyPagesIsOneWALWriteAndInTheFileWhenCommitReturns() throws {
        let database = try SQLiteDatabase(path: path, durability: .normal)
        try database.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
        let reader = try SQLiteDatabase(path: path)
        #expect(walWrites(database) != UInt64.max, "the connection's WAL is not opened through the VFS")
        let (writesBefore, sizeBefore) = (walWrites(database), try walSize())
        try insertRows(database, 0..<60)  // ~15 pages of rows, plus the B-tree's interior page
        let pages = (try walSize() - sizeBefore) / (4096 + 24)
        #expect(pages >= 15, "the commit's frames are in the file once COMMIT returns")
        #expect(walWrites(database) - writesBefore == 1, "\(pages) frames took more than one write")
        let count = try reader.statement("SELECT count(*) FROM t")
        _ = try count.step()
        #expect(count.int64(0) == 60, "another connection sees the commit at once")

        // Bigger than one write may be (the unix VFS takes under 128 KiB per call): a few writes.
        let writesBeforeBig = walWrites(database)
        try insertRows(database, 60..<400)
        #expect((1...4).contains(walWrites(database) - writesBeforeBig))
        let total = try reader.statement("SELECT count(*) FROM t")
        _ = try total.step()
        #expect(total.int64(0) == 400)
    }

    @Test func commitsAcrossCheckpointsAndWALRestartsSurviveReopenIntact() throws {
        do {
            let database = try SQLiteDatabase(path: path, durability: .normal)
            try database.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
            let checkpointer = try SQLiteDatabase(path: path)
            for batch in 0..<20 {
                try insertRows(database, batch * 10..<batch * 10 + 10)
                // Copies everything: the writer's next transaction restarts the WAL from its start,
                // overwriting frames in place (a write at offset 0 after later offsets).
                if batch % 4 == 3 { _ = checkpointer.checkpointPassive() }
            }
            try database.execute("UPDATE t SET v = 'updated' WHERE k % 3 = 0")
        }
        let database = try SQLiteDatabase(path: path)
        let check = try database.statement("PRAGMA integrity_check")
        _ = try check.step()
        #expect(check.string(0) == "ok")
        let rows = try database.statement("SELECT count(*), sum(v = 'updated') FROM t")
        _ = try rows.step()
        #expect(rows.int64(0) == 200)
        #expect(rows.int64(1) == 67)
    }
}
