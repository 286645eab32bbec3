import Foundation
import Storage
import Testing

@testable import EngineCore

/// The ledger's statements, checked with SQLite's own EXPLAIN: cost that grows per order without
/// changing any result (a temporary B-tree per write, a full scan for open orders) is invisible to
/// the other tests.
struct LedgerSchemaTests {
    let ledger: Ledger

    init() throws {
        ledger = try Ledger(path: NSTemporaryDirectory() + "ledger-schema-\(UUID().uuidString).sqlite")
    }

    func opcodes(_ sql: String) throws -> [String] {
        let explain = try ledger.database.statement("EXPLAIN " + sql)
        var out: [String] = []
        while try explain.step() { out.append(explain.string(1)) }
        return out
    }

    @Test func writingAnOrderRowBuildsNoTemporaryBTree() throws {
        let placeholders = Array(repeating: "?", count: 24).joined(separator: ",")
        let insert = try opcodes("INSERT INTO orders (\(Ledger.orderColumns)) VALUES (\(placeholders))")
        #expect(!insert.isEmpty)
        #expect(!insert.contains("OpenEphemeral"), "the partial indexes' predicates must be plain comparisons")
        let update = try opcodes("UPDATE orders SET status=?, updated_ns=? WHERE client_order_id=?")
        #expect(!update.contains("OpenEphemeral"))
    }

    @Test func openOrdersAreReadThroughThePartialIndex() throws {
        let plan = try ledger.database.statement(
            "EXPLAIN QUERY PLAN SELECT \(Ledger.orderColumns) FROM orders WHERE \(Ledger.isOpen)")
        var details: [String] = []
        while try plan.step() { details.append(plan.string(3)) }
        #expect(details.contains { $0.contains("orders_open3") }, "plan: \(details)")
    }
}
