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
    @Test func everyConcurrentSubmitIsAnswered() async throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        let spec = fleet.spec("paper-1")
        let client = try await FleetClient.connect(
            host: "127.0.0.1", port: spec.rpcPort, secret: try FleetSecret(Array(LocalFleet.secret.utf8)),
            configuration: .init(clientID: "concurrent"), group: MultiThreadedEventLoopGroup.singleton)
        for round in 0..<4 {
            let answered = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<256 {
                    group.addTask {
                        var request = Fleet_V1_SubmitOrderRequest()
                        request.clientOrderID = "c-\(round)-\(index)"
                        request.symbol = "BTCUSDT.PAPER"
                        request.side = index % 2 == 0 ? .buy : .sell
                        request.type = .market
                        request.quantityE8 = 100_000  // 0.001 BTC
                        request.model = "concurrent"
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
}
