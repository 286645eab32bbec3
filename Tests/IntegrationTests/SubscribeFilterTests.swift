import FleetProto
import FleetTestKit
import FleetWire
import Foundation
import NIOPosix
import Synchronization
import Testing

/// `SubscribeRequest.exclude_order_events`: fills, risk events and heartbeats only (what OPS asks for).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SubscribeFilterTests {
    /// The events one subscription received, by kind, with their `seq`.
    final class Received: Sendable {
        let events = Mutex<(orders: [UInt64], fills: [UInt64])>(([], []))
        func record(_ event: Fleet_V1_Event) {
            events.withLock {
                switch event.body {
                case .order: $0.orders.append(event.seq)
                case .fill: $0.fills.append(event.seq)
                default: break
                }
            }
        }
    }

    @Test func aSubscriptionWithoutOrderEventsGetsTheFillsAndNoOrders() async throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        let client = try await FleetClient.connect(
            host: "127.0.0.1", port: fleet.spec("paper-1").rpcPort,
            secret: try FleetSecret(Array(LocalFleet.secret.utf8)), configuration: .init(clientID: "filter"),
            group: MultiThreadedEventLoopGroup.singleton)
        let everything = Received()
        let fillsOnly = Received()
        _ = try await client.subscribe { everything.record($0) }
        _ = try await client.subscribe(excludingOrderEvents: true) { fillsOnly.record($0) }

        let orders = 5
        for index in 0..<orders {
            var request = Fleet_V1_SubmitOrderRequest()
            request.clientOrderID = "filter-\(index)"
            request.symbol = "BTCUSDT.PAPER"
            request.side = index % 2 == 0 ? .buy : .sell
            request.type = .market
            request.quantityE8 = 100_000
            request.model = "filter"
            let reply: Fleet_V1_SubmitOrderResponse = try await client.call(
                .submitOrder, request, timeout: .seconds(5))
            #expect(reply.order.status == .filled)
        }
        // Events follow their commit's acknowledgment: wait for both subscriptions to catch up.
        let deadline = ContinuousClock.now + .seconds(10)
        func caughtUp() -> Bool {
            everything.events.withLock { $0.fills.count } >= orders
                && fillsOnly.events.withLock { $0.fills.count } >= orders
        }
        while ContinuousClock.now < deadline, !caughtUp() { try await Task.sleep(for: .milliseconds(10)) }
        let all = everything.events.withLock { $0 }
        let filtered = fillsOnly.events.withLock { $0 }
        #expect(all.fills.count == orders && all.orders.count == orders, "one fill and one FILLED per order")
        #expect(filtered.fills == all.fills, "the same fills, with the same seq")
        #expect(filtered.orders.isEmpty, "no order events: \(filtered.orders)")
        await client.close()
    }
}
