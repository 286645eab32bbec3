import CurlHTTP
import FleetTestKit
import Foundation
import Storage
import Testing

/// kill -9 of an engine right after it acknowledged an order: the order and its fill survive, and a
/// retry of the same signal does not make a second venue order.
@Suite(.serialized)
struct CrashRecoveryTests {
    @Test func acknowledgedOrderSurvivesKill9AndRetryIsNotDuplicated() throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        try fleet.startOPS()
        let body = #"{"symbol":"ETHUSDT.PAPER","side":"BUY","quantity":"0.5","strategy":"demo"}"#

        let first = try #require(json(fleet.signal(body, key: "crash-1")))
        #expect(first["status"] as? String == "FILLED")
        let clientOrderID = try #require(first["client_order_id"] as? String)
        fleet.engines["paper-1"]?.kill9()  // right after the acknowledgement

        try fleet.startEngine("paper-1")
        #expect(fleet.waitUntil("one engine up") { fleet.enginesUp() == 1 })
        let retry = try #require(json(fleet.signal(body, key: "crash-1")))
        #expect(retry["client_order_id"] as? String == clientOrderID)
        #expect(retry["duplicate"] as? Bool == true)
        #expect(retry["status"] as? String == "FILLED")

        let data = "\(fleet.directory.path)/paper-1"
        let ledger = try SQLiteDatabase(path: "\(data)/paper-1.ledger.sqlite")
        let orders = try ledger.statement("SELECT count(*), max(status) FROM orders WHERE client_order_id = ?")
        orders.bind(1, clientOrderID)
        _ = try orders.step()
        #expect(orders.int64(0) == 1)
        #expect(orders.string(1) == "FILLED")
        let fills = try ledger.statement("SELECT count(*) FROM fills WHERE client_order_id = ?")
        fills.bind(1, clientOrderID)
        _ = try fills.step()
        #expect(fills.int64(0) == 1)

        let venue = ledger  // the paper venue keeps its book in the ledger file
        let venueOrders = try venue.statement("SELECT count(*) FROM venue_orders")
        _ = try venueOrders.step()
        #expect(venueOrders.int64(0) == 1, "the venue holds exactly one order")

        // OPS re-synced from the snapshot: the fill is in the PnL book once.
        let models = json(http("GET", fleet.opsURL + "/dash/pnl"))?["models"] as? [[String: Any]] ?? []
        #expect(models.reduce(0) { $0 + (($1["fills"] as? Int) ?? 0) } == 1)
    }

    @Test func restingLimitOrderSurvivesKill9StillLive() throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        try fleet.startOPS()
        let buy = try #require(
            json(
                fleet.signal(
                    #"{"symbol":"SOLUSDT.PAPER","side":"BUY","type":"LIMIT","quantity":"10","limit_price":"1","model":"m"}"#
                )))
        #expect(buy["status"] as? String == "ACCEPTED", "a limit far below the market rests")
        fleet.engines["paper-1"]?.kill9()
        try fleet.startEngine("paper-1")
        let ledger = try SQLiteDatabase(path: "\(fleet.directory.path)/paper-1/paper-1.ledger.sqlite")
        let open = try ledger.statement("SELECT status FROM orders WHERE client_order_id = ?")
        open.bind(1, try #require(buy["client_order_id"] as? String))
        #expect(try open.step())
        #expect(open.string(0) == "ACCEPTED", "still resting at the venue after recovery")
    }
}
