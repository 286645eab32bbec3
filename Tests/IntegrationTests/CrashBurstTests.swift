import CurlHTTP
import FleetProto
import FleetTestKit
import FleetWire
import Foundation
import NIOPosix
import Storage
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A burst of 1,000+ mixed orders while the engine is killed with SIGKILL at random moments and
/// restarted: every acknowledged order ends up in the ledger exactly once, the venue holds no
/// order the ledger does not, and the engine's positions equal the venue's.
@Suite(.serialized)
struct CrashBurstTests {
    final class Acknowledged: @unchecked Sendable {
        private let lock = NSLock()
        private var ids = Set<String>()
        func add(_ id: String) { lock.withLock { _ = ids.insert(id) } }
        var all: Set<String> { lock.withLock { ids } }
    }

    @Test func ordersSurviveRepeatedKill9() async throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1", extra: ["--tick-ms", "5"])
        let spec = fleet.spec("paper-1")
        let secret = try FleetSecret(Array(LocalFleet.secret.utf8))
        let acknowledged = Acknowledged()
        var generator = SystemRandomNumberGenerator()
        let total = 1_200
        var next = 0
        var kills = 0

        while next < total {
            let client: FleetClient
            do {
                client = try await FleetClient.connect(
                    host: "127.0.0.1", port: spec.rpcPort, secret: secret, configuration: .init(clientID: "burst"),
                    group: MultiThreadedEventLoopGroup.singleton)
            } catch {
                try await Task.sleep(for: .milliseconds(100))
                continue
            }
            // Kill the engine at a random moment while orders are in flight (except on the last round).
            let killAfter = Duration.milliseconds(Int64.random(in: 20...150, using: &generator))
            let killer: Task<Void, Never>? =
                kills < 4
                ? Task {
                    try? await Task.sleep(for: killAfter)
                    fleet.engines["paper-1"]?.kill9()
                } : nil
            let start = next
            let batch = min(total - start, kills < 4 ? total / 5 : total - start)
            next += batch
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var index = start + worker
                        while index < start + batch {
                            let id = "burst-\(index)"
                            if let order = try? await Self.place(client, id: id, index: index) {
                                _ = order
                                acknowledged.add(id)
                            }
                            // Every fifth order cancels a resting one placed earlier.
                            if index % 5 == 4 {
                                var cancel = Fleet_V1_CancelOrderRequest()
                                cancel.clientOrderID = "burst-\(index - 3)"
                                _ = try? await client.call(.cancelOrder, cancel, as: Fleet_V1_OrderResponse.self)
                            }
                            index += 8
                        }
                    }
                }
            }
            await killer?.value
            await client.close()
            if kills < 4 {
                kills += 1
                if fleet.engines["paper-1"]?.isRunning == true { fleet.engines["paper-1"]?.kill9() }
                try fleet.startEngine("paper-1", extra: ["--tick-ms", "5"])
            }
        }
        // A last restart: recovery runs once more over everything.
        fleet.engines["paper-1"]?.kill9()
        try fleet.startEngine("paper-1", extra: ["--tick-ms", "5"])
        fleet.engines["paper-1"]?.terminate()

        print("crash burst: \(acknowledged.all.count) of \(total) orders acknowledged across \(kills) kills")
        #expect(kills == 4)
        #expect(acknowledged.all.count >= 300, "orders were acknowledged between kills (\(acknowledged.all.count))")
        let data = "\(fleet.directory.path)/paper-1"
        let ledger = try SQLiteDatabase(path: "\(data)/paper-1.ledger.sqlite")
        let venue = ledger  // the paper venue keeps its book in the ledger file

        var ledgerIDs = Set<String>()
        let orders = try ledger.statement("SELECT client_order_id FROM orders")
        while try orders.step() { ledgerIDs.insert(orders.string(0)) }
        let missing = acknowledged.all.subtracting(ledgerIDs)
        #expect(missing.isEmpty, "acknowledged but not in the ledger: \(missing.sorted().prefix(5))")

        var venueIDs: [String] = []
        let venueOrders = try venue.statement("SELECT client_order_id FROM venue_orders")
        while try venueOrders.step() { venueIDs.append(venueOrders.string(0)) }
        #expect(Set(venueIDs).count == venueIDs.count, "no duplicate venue order")
        #expect(Set(venueIDs).subtracting(ledgerIDs).isEmpty, "the venue holds no order the ledger does not know")

        func positions(_ db: SQLiteDatabase, _ sql: String) throws -> [String: Int64] {
            var out: [String: Int64] = [:]
            let rows = try db.statement(sql)
            while try rows.step() {
                if rows.int64(1) != 0 { out[rows.string(0)] = rows.int64(1) }
            }
            return out
        }
        let enginePositions = try positions(ledger, "SELECT symbol, quantity FROM positions WHERE model = ''")
        let venuePositions = try positions(
            venue,
            "SELECT symbol, sum(CASE side WHEN 'BUY' THEN quantity ELSE -quantity END) FROM venue_fills GROUP BY symbol"
        )
        #expect(enginePositions == venuePositions)

        let ledgerFills = try ledger.statement("SELECT count(*) FROM fills")
        _ = try ledgerFills.step()
        let venueFills = try venue.statement("SELECT count(*) FROM venue_fills")
        _ = try venueFills.step()
        #expect(ledgerFills.int64(0) == venueFills.int64(0), "every venue fill applied exactly once")
    }

    /// Mixed types: market buys and sells, marketable limits, and resting limits far from the market.
    static func place(_ client: FleetClient, id: String, index: Int) async throws -> Fleet_V1_Order {
        var request = Fleet_V1_SubmitOrderRequest()
        request.clientOrderID = id
        request.symbol = index % 3 == 0 ? "ETHUSDT.PAPER" : "BTCUSDT.PAPER"
        request.side = index % 2 == 0 ? .buy : .sell
        request.model = "burst-\(index % 3)"
        let eth = index % 3 == 0
        request.quantityE8 = eth ? 1_000_000 : 100_000  // 0.01 ETH, 0.001 BTC
        let reference: Int64 = (eth ? 3_200 : 65_000) * 100_000_000
        let buy = request.side == .buy
        switch index % 4 {
        case 0, 1:
            request.type = .market
        case 2:
            request.type = .limit  // marketable: fills at once at the touch
            request.limitPriceE8 = buy ? reference * 2 : reference / 2
        default:
            request.type = .limit  // far from the market: rests until canceled
            request.limitPriceE8 = buy ? reference / 2 : reference * 2
        }
        let reply: Fleet_V1_SubmitOrderResponse = try await client.call(.submitOrder, request, timeout: .seconds(5))
        return reply.order
    }
}
