import EngineCore
import Foundation
import PaperVenue
import Testing
import TradingDomain

/// Stops, trailing stops, OCO, brackets and cancel/replace, emulated by the engine over a venue
/// that only knows market and limit orders.
@Suite(.serialized)
struct ContingentOrderTests {
    /// Ticks the venue and hands the engine its quotes and order events, as the runtime does,
    /// until `done` holds. Returns false if it never did.
    func run(_ harness: EngineHarness, ticks: Int = 20_000, until done: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<ticks {
            await harness.venue.tick()
            await harness.engine.handleQuotes(harness.venue.quotes())
            if try await done() { return true }
        }
        return false
    }

    func command(
        _ id: String, _ side: Side, _ type: OrderType, _ quantity: String, instrument: InstrumentID,
        limit: Fixed = .zero,
        configure: (inout SubmitCommand) -> Void = { _ in }
    ) throws -> SubmitCommand {
        var command = SubmitCommand(
            clientOrderID: id, instrument: instrument, side: side, type: type, quantity: try Fixed(parsing: quantity),
            limitPrice: limit, model: "m")
        configure(&command)
        return command
    }

    @Test func stopIsHeldUntilThePriceTradesThenFills() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        _ = try await harness.engine.submit(try harness.market("long", .buy, "0.1"))
        let bid = try #require(harness.venue.quote(harness.btc)?.bid)
        let stopPrice = bid - Fixed(50)
        let stop = try await harness.engine.submit(
            try command("stop", .sell, .stop, "0.1", instrument: harness.btc) { $0.stopPrice = stopPrice })
        #expect(stop.order.status == .held)
        #expect(try await harness.venue.openOrders().isEmpty, "a held stop is not at the venue")
        try harness.restart()  // held state survives a crash
        _ = try await harness.engine.recover()
        #expect(try await harness.engine.order("stop")?.status == .held)
        let fired = try await run(harness) { try await harness.engine.order("stop")?.status == .filled }
        #expect(fired)
        let filled = try #require(try await harness.engine.order("stop"))
        #expect(filled.averageFillPrice <= stopPrice, "a sell stop fires once the bid is at or below the stop")
        #expect(await harness.engine.snapshot().positions.first?.lot.quantity == .zero)
    }

    @Test func trailingStopFollowsTheBestPriceAndKeepsItsMarkAcrossRestarts() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        _ = try await harness.engine.submit(try harness.market("long", .buy, "0.1"))
        let trailing = try await harness.engine.submit(
            try command("trail", .sell, .trailingStop, "0.1", instrument: harness.btc) { $0.trailingBps = 100 })
        #expect(trailing.order.status == .held)
        let start = trailing.order.waterMark
        #expect(trailing.order.stopPrice == start - start.multiplied(byRatio: 100, over: 10_000, rounding: .up))
        // Wait until the mark has risen at least once, then crash.
        let rose = try await run(harness) {
            try await harness.engine.order("trail").map { $0.waterMark > start } ?? false
        }
        try #require(rose, "the walk makes a new high before it falls 1 %")
        let before = try #require(try await harness.engine.order("trail"))
        #expect(before.stopPrice > trailing.order.stopPrice, "the stop moved up with the mark")
        if before.status == .held {
            try harness.restart()
            _ = try await harness.engine.recover()
            let after = try #require(try await harness.engine.order("trail"))
            #expect(after.waterMark == before.waterMark)
            #expect(after.stopPrice == before.stopPrice)
        }
        let fired = try await run(harness) { try await harness.engine.order("trail")?.status == .filled }
        #expect(fired)
    }

    @Test func ocoFirstLegCancelsTheOther() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        _ = try await harness.engine.submit(try harness.market("long", .buy, "0.1"))
        let bid = try #require(harness.venue.quote(harness.btc)?.bid)
        // Take profit far above (rests at the venue), stop a little below (fires first).
        let oco = try await harness.engine.submit(
            try command("oco", .sell, .limit, "0.1", instrument: harness.btc, limit: bid + Fixed(5_000)) {
                $0.ocoStopPrice = bid - Fixed(30)
            })
        #expect(oco.order.status == .accepted)
        #expect(oco.legs.map(\.clientOrderID) == ["oco.sl"])
        #expect(oco.legs.first?.status == .held)
        let done = try await run(harness) { try await harness.engine.order("oco.sl")?.status == .filled }
        #expect(done)
        #expect(try await harness.engine.order("oco")?.status == .canceled)
        #expect(try await harness.venue.openOrders().isEmpty)
        #expect(try harness.venue.positions()[harness.btc] == .zero, "exactly one leg traded")
    }

    @Test func ocoLimitFillingAtOnceCancelsTheStopAtOnce() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        _ = try await harness.engine.submit(try harness.market("long", .buy, "0.1"))
        let bid = try #require(harness.venue.quote(harness.btc)?.bid)
        let oco = try await harness.engine.submit(
            try command("oco2", .sell, .limit, "0.1", instrument: harness.btc, limit: bid - Fixed(100)) {
                $0.ocoStopPrice = bid - Fixed(500)
            })
        #expect(oco.order.status == .filled)
        #expect(try await harness.engine.order("oco2.sl")?.status == .canceled)
    }

    @Test func cancellingAnOCOLegCancelsTheGroup() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        _ = try await harness.engine.submit(try harness.market("long", .buy, "0.1"))
        let bid = try #require(harness.venue.quote(harness.btc)?.bid)
        _ = try await harness.engine.submit(
            try command("oco3", .sell, .limit, "0.1", instrument: harness.btc, limit: bid + Fixed(5_000)) {
                $0.ocoStopPrice = bid - Fixed(500)
            })
        _ = try await harness.engine.cancel(clientOrderID: "oco3")
        #expect(try await harness.engine.order("oco3.sl")?.status == .canceled)
    }

    @Test func aHeldOrderRefusedByTheRailsIsRejectedNotLeftHeld() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        _ = try await harness.engine.setTradingMode(.halted, reason: "test")
        let stop = try await harness.engine.submit(
            try command("halted-stop", .sell, .stop, "0.1", instrument: harness.btc) { $0.stopPrice = Fixed(60_000) })
        #expect(stop.order.status == .rejected)
        #expect(stop.order.rejectReason == "TRADING_HALTED")
    }

    @Test func bracketArmsItsExitsWhenTheEntryFills() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        let ask = try #require(harness.venue.quote(harness.btc)?.ask)
        let bracket = try await harness.engine.submit(
            try command("br", .buy, .market, "0.1", instrument: harness.btc) {
                $0.takeProfitPrice = ask + Fixed(5_000)
                $0.stopLossPrice = ask - Fixed(40)
            })
        #expect(bracket.order.status == .filled)
        let takeProfit = try #require(try await harness.engine.order("br.tp"))
        #expect(takeProfit.status == .accepted, "the take-profit went to the venue when the entry filled")
        #expect(try await harness.engine.order("br.sl")?.status == .held)
        let stopped = try await run(harness) { try await harness.engine.order("br.sl")?.status == .filled }
        #expect(stopped)
        #expect(try await harness.engine.order("br.tp")?.status == .canceled)
        #expect(await harness.engine.snapshot().positions.first?.lot.quantity == .zero)
    }

    @Test func bracketExitsAreCancelledWithAnUnfilledEntry() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        _ = try await harness.engine.submit(
            try command("br2", .buy, .limit, "0.1", instrument: harness.btc, limit: Fixed(30_000)) {
                $0.takeProfitPrice = Fixed(40_000)
                $0.stopLossPrice = Fixed(29_000)
            })
        _ = try await harness.engine.cancel(clientOrderID: "br2")
        #expect(try await harness.engine.order("br2.tp")?.status == .canceled)
        #expect(try await harness.engine.order("br2.sl")?.status == .canceled)
    }

    @Test func cancelReplaceNeverLeavesBothLive() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        _ = try await harness.engine.submit(try harness.limit("r-old", .buy, "0.1", at: "30000"))
        let replaced = try await harness.engine.replace(
            clientOrderID: "r-old", newClientOrderID: "r-new", quantity: try Fixed(parsing: "0.2"),
            limitPrice: Fixed(31_000))
        #expect(replaced.status == .accepted)
        #expect(replaced.limitPrice == Fixed(31_000))
        #expect(try await harness.engine.order("r-old")?.status == .canceled)
        #expect(try await harness.venue.openOrders().map(\.clientOrderID) == ["r-new"])
        // A retried replace returns the same new order; replacing a closed order is refused.
        #expect(
            try await harness.engine.replace(
                clientOrderID: "r-old", newClientOrderID: "r-new", quantity: Fixed(1), limitPrice: Fixed(1)) == replaced
        )
        _ = try await harness.engine.submit(try harness.market("m1", .buy, "0.01"))
        await #expect(throws: EngineError.self) {
            _ = try await harness.engine.replace(
                clientOrderID: "m1", newClientOrderID: "m2", quantity: Fixed(1), limitPrice: .zero)
        }
    }

    @Test func invalidContingentOrdersAreRefused() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        let bad: [SubmitCommand] = [
            try command("s1", .sell, .stop, "0.1", instrument: harness.btc),  // no stop price
            // no limit
            try command("s2", .sell, .stopLimit, "0.1", instrument: harness.btc) { $0.stopPrice = Fixed(1) },
            try command("s3", .sell, .trailingStop, "0.1", instrument: harness.btc),  // no distance
            try command("s4", .buy, .market, "0.1", instrument: harness.btc) {  // take-profit below stop-loss
                $0.takeProfitPrice = Fixed(100)
                $0.stopLossPrice = Fixed(200)
            },
            // OCO needs LIMIT
            try command("s5", .buy, .market, "0.1", instrument: harness.btc) { $0.ocoStopPrice = Fixed(100) },
        ]
        for command in bad {
            await #expect(throws: EngineError.self, "\(command.clientOrderID)") {
                _ = try await harness.engine.submit(command)
            }
        }
        #expect(try await harness.engine.counts().orders == 0)
    }
}
