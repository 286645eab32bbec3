import FleetProto
import FleetTestKit
import FleetWire
import Foundation
import NIOPosix
import Testing

/// Hundreds of SubmitOrders in flight on one link: every one is answered (the engine's group commit
/// must never leave a caller behind a flush that already ran).
@Suite(.serialized)
struct ConcurrentSubmitTests {
    /// A link to `id` of `fleet` (started).
    func connect(_ fleet: LocalFleet, _ id: String, as clientID: String) async throws -> FleetClient {
        try await FleetClient.connect(
            host: "127.0.0.1", port: fleet.spec(id).rpcPort, secret: try FleetSecret(Array(LocalFleet.secret.utf8)),
            configuration: .init(clientID: clientID), group: MultiThreadedEventLoopGroup.singleton)
    }

    /// A 0.001 BTC market order, buying on even `index`, selling on odd (flat on average).
    func marketOrder(_ clientOrderID: String, index: Int, model: String) -> Fleet_V1_SubmitOrderRequest {
        var request = Fleet_V1_SubmitOrderRequest()
        request.clientOrderID = clientOrderID
        request.symbol = "BTCUSDT.PAPER"
        request.side = index % 2 == 0 ? .buy : .sell
        request.type = .market
        request.quantityE8 = 100_000  // 0.001 BTC
        request.model = model
        return request
    }

    @Test func everyConcurrentSubmitIsAnswered() async throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        let client = try await connect(fleet, "paper-1", as: "concurrent")
        for round in 0..<4 {
            let answered = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<256 {
                    group.addTask {
                        let request = marketOrder("c-\(round)-\(index)", index: index, model: "concurrent")
                        let reply: Fleet_V1_SubmitOrderResponse? = try? await client.call(
                            .submitOrder, request, timeout: .seconds(5))
                        return reply != nil
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(answered == 256, "round \(round): \(answered) of 256 answered within 5 s")
        }
        await client.close()
    }

    /// A paper order's intent, the book's record and the fill share one commit (the book writes in
    /// the ledger's transaction). Served over the link, the engine must not commit the intent on
    /// its own first: that happened while the engine's executor ran without the request tasks'
    /// task executor, and every call between the engine's own methods hopped through the loop.
    @Test func aPaperOrderOverTheLinkCommitsOnce() async throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        let client = try await connect(fleet, "paper-1", as: "commits")
        let sample = #"ledger_write_seconds_count{venue="PAPER"}"#
        let before = fleet.metric("paper-1", sample) ?? 0
        let orders = 40
        for index in 0..<orders {
            let request = marketOrder("one-commit-\(index)", index: index, model: "commits")
            let reply: Fleet_V1_SubmitOrderResponse = try await client.call(
                .submitOrder, request, timeout: .seconds(5))
            #expect(reply.order.status == .filled)
        }
        let commits = try #require(fleet.metric("paper-1", sample)) - before
        // One per order, plus a little slack for anything else that commits meanwhile; two per
        // order (intent, then fill) is the defect.
        #expect(commits >= Double(orders) && commits < Double(orders) * 1.25, "\(commits) commits for \(orders) orders")
        await client.close()
    }
}
