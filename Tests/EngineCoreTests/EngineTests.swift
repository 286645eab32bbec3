import EngineCore
import Foundation
import PaperVenue
import Testing
import TradingDomain

@Suite(.serialized)
struct EngineTests {
    @Test func marketOrderFillsAtTheTouchAndUpdatesThePortfolio() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        let quote = try #require(harness.venue.quote(harness.btc))
        let outcome = try await harness.engine.submit(try harness.market("o1", .buy, "0.1"))
        #expect(outcome.order.status == .filled)
        #expect(outcome.order.averageFillPrice == quote.ask)
        #expect(!outcome.duplicate)
        let snapshot = await harness.engine.snapshot()
        #expect(snapshot.positions.first?.lot.quantity == Fixed(units: 10_000_000))
        let cost = try #require(quote.ask.multiplied(by: Fixed(units: 10_000_000)))
        #expect(snapshot.account.cash == Fixed(1_000_000) - cost)
        #expect(await harness.audit().contains(#""event":"order_intent""#))
        #expect(await harness.audit().contains(#""event":"fill""#))
        // Every audit line is a JSON object with a timestamp; decimals and ids are exact text.
        let lines = await harness.audit().split(separator: "\n").map { Data($0.utf8) }
        let objects = try lines.map { try #require(JSONSerialization.jsonObject(with: $0) as? [String: Any]) }
        #expect(objects.allSatisfy { ($0["ts_ns"] as? Int64 ?? 0) > 1_700_000_000_000_000_000 })
        let fill = try #require(objects.first { $0["event"] as? String == "fill" })
        #expect(fill["quantity"] as? String == "0.1")
        #expect(fill["price"] as? String == quote.ask.description)
        #expect(fill["symbol"] as? String == harness.btc.description)
        let filled = try #require(objects.first { $0["event"] as? String == "order_filled" })
        #expect(filled["filled"] as? String == "0.1")
        #expect(filled["limit_price"] as? String == "0")
    }

    @Test func sameClientOrderIDNeverMakesASecondOrder() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        let first = try await harness.engine.submit(try harness.market("dup", .buy, "0.1"))
        let again = try await harness.engine.submit(try harness.market("dup", .buy, "0.1"))
        #expect(again.duplicate)
        #expect(again.order == first.order)
        await #expect(throws: EngineError.self) {
            _ = try await harness.engine.submit(try harness.market("dup", .sell, "0.1"))
        }
        try harness.restart()
        _ = try await harness.engine.recover()
        let afterRestart = try await harness.engine.submit(try harness.market("dup", .buy, "0.1"))
        #expect(afterRestart.duplicate)
        #expect(try await harness.engine.counts().orders == 1)
        #expect(try harness.venue.positions()[harness.btc] == Fixed(units: 10_000_000), "one venue order, one fill")
    }

    @Test func riskRejectionIsRecordedAndRepeatable() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        let outcome = try await harness.engine.submit(try harness.market("big", .buy, "4.9"))
        #expect(outcome.order.status == .rejected)
        #expect(outcome.order.rejectReason == "NOTIONAL_ABOVE_MAX")
        let retry = try await harness.engine.submit(try harness.market("big", .buy, "4.9"))
        #expect(retry.duplicate && retry.order.rejectReason == "NOTIONAL_ABOVE_MAX")
        #expect(try harness.venue.positions().isEmpty, "nothing reached the venue")
    }

    @Test func invalidCommandsChangeNothing() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        var wrongVenue = try harness.market("v", .buy, "1")
        wrongVenue.instrument = InstrumentID(symbol: "BTCUSDT", venue: .binance)
        var noQuantity = try harness.market("q", .buy, "1")
        noQuantity.quantity = .zero
        var badID = try harness.market("has space", .buy, "1")
        badID.clientOrderID = "has space"
        var limitWithoutPrice = try harness.limit("l", .buy, "1", at: "1")
        limitWithoutPrice.limitPrice = .zero
        for command in [wrongVenue, noQuantity, badID, limitWithoutPrice] {
            await #expect(throws: EngineError.self) { _ = try await harness.engine.submit(command) }
        }
        #expect(try await harness.engine.counts().orders == 0)
    }

    @Test func quoteSizedOrderRoundsDownToTheLot() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        var command = try harness.market("quote", .buy, "0")
        command.quantity = .zero
        command.quoteQuantity = Fixed(1000)
        let ask = try #require(harness.venue.quote(harness.btc)?.ask)
        let outcome = try await harness.engine.submit(command)
        let expected = try #require(Fixed(1000).divided(by: ask, rounding: .towardZero)).rounded(
            toMultipleOf: Fixed(units: 1000))
        #expect(outcome.order.quantity == expected)
        #expect(outcome.order.status == .filled)
    }

    @Test func restingLimitFillsWhenThePriceCrosses() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        let bid = try #require(harness.venue.quote(harness.btc)?.bid)
        let price = bid - Fixed(1)
        let outcome = try await harness.engine.submit(try harness.limit("rest", .buy, "0.01", at: price.description))
        #expect(outcome.order.status == .accepted)
        // Walk the market until the ask comes down to the limit, delivering venue events as the runtime does.
        var filled = false
        for _ in 0..<20_000 where !filled {
            await harness.venue.tick()
            if let ask = harness.venue.quote(harness.btc)?.ask, ask <= price { filled = true }
        }
        try #require(filled, "the seeded walk crosses the limit")
        var iterator = harness.venue.events.makeAsyncIterator()
        while let event = await iterator.next() {
            await harness.engine.handle(event)
            if case .order = event { break }
        }
        let order = try #require(try await harness.engine.order("rest"))
        #expect(order.status == .filled)
        #expect(order.averageFillPrice == price, "a resting limit fills at its own price")
    }

    /// Venues resend reports (reconnects, replays): the same report twice, or an old one after a
    /// newer one, changes nothing.
    @Test func duplicateAndStaleVenueReportsAreIgnored() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        _ = try await harness.engine.submit(try harness.market("d1", .buy, "0.1"))
        let report = try #require(try await harness.venue.order(clientOrderID: "d1", instrument: harness.btc))
        let before = await harness.engine.snapshot()
        await harness.engine.handle(.order(report))
        await harness.engine.handle(.order(report))
        var stale = report
        stale.state = .accepted
        stale.fills = []
        await harness.engine.handle(.order(stale))
        let after = await harness.engine.snapshot()
        #expect(try await harness.engine.counts().fills == 1)
        #expect(after.account.cash == before.account.cash)
        #expect(try await harness.engine.order("d1")?.status == .filled)
    }

    @Test func cancelClosesARestingOrder() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        _ = try await harness.engine.submit(try harness.limit("c1", .buy, "0.01", at: "1000"))
        let canceled = try await harness.engine.cancel(clientOrderID: "c1")
        #expect(canceled.status == .canceled)
        await #expect(throws: EngineError.self) { _ = try await harness.engine.cancel(clientOrderID: "nope") }
    }

    /// A crash after the venue filled a resting order but before the engine recorded it: recovery
    /// applies the fill once, and a second recovery changes nothing. (A venue that commits on its
    /// own, as a remote one does: a book in the ledger's file commits with the engine's record.)
    @Test func fillMissedDuringACrashIsAppliedExactlyOnce() async throws {
        let harness = try EngineHarness(venueInLedger: false)
        _ = try await harness.engine.recover()
        let bid = try #require(harness.venue.quote(harness.btc)?.bid)
        let price = bid - Fixed(1)
        _ = try await harness.engine.submit(try harness.limit("missed", .buy, "0.02", at: price.description))
        var crossed = false
        for _ in 0..<20_000 where !crossed {
            await harness.venue.tick()  // the venue fills it; the engine never sees the event
            crossed = try harness.venue.positions()[harness.btc] != nil
        }
        try #require(crossed)
        try harness.restart()
        let report = try await harness.engine.recover()
        #expect(report.fillsApplied == 1)
        #expect(try await harness.engine.order("missed")?.status == .filled)
        try harness.restart()
        let second = try await harness.engine.recover()
        #expect(second.fillsApplied == 0)
        #expect(try await harness.engine.counts().fills == 1)
        #expect(await harness.engine.snapshot().positions.first?.lot.quantity == Fixed(units: 2_000_000))
    }

    @Test func tradingModeGatesOrdersAndSurvivesRestart() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        _ = try await harness.engine.submit(try harness.market("open", .buy, "0.1"))
        _ = try await harness.engine.setTradingMode(.closeOnly, reason: "test")
        let entry = try await harness.engine.submit(try harness.market("more", .buy, "0.1"))
        #expect(entry.order.rejectReason == "CLOSE_ONLY")
        let exit = try await harness.engine.submit(try harness.market("exit", .sell, "0.05"))
        #expect(exit.order.status == .filled)
        try harness.restart()
        _ = try await harness.engine.recover()
        #expect(await harness.engine.tradingMode == .closeOnly)
        _ = try await harness.engine.setTradingMode(.halted, reason: "test")
        let halted = try await harness.engine.submit(try harness.market("exit2", .sell, "0.05"))
        #expect(halted.order.rejectReason == "TRADING_HALTED")
    }

    @Test func flattenClosesEachModelsLot() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        _ = try await harness.engine.submit(try harness.market("a", .buy, "0.1", model: "alpha"))
        _ = try await harness.engine.submit(try harness.market("b", .sell, "1", instrument: harness.eth, model: "beta"))
        let orders = try await harness.engine.flatten(reason: "test")
        #expect(orders.count == 2)
        #expect(orders.allSatisfy { $0.status == .filled })
        let snapshot = await harness.engine.snapshot()
        #expect(snapshot.positions.allSatisfy { $0.lot.quantity.isZero })
    }
}
