import Foundation
import Storage
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
}
