import EngineCore
import Foundation
import PaperVenue
import Storage
import Testing
import TradingDomain

@Suite(.serialized)
struct ReconciliationTests {
    @Test func anOrderPlacedDirectlyOnTheVenueIsExternal() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        #expect(try await harness.engine.reconcile(policy: .closeOnly).isClean)
        // Someone trades on the venue's website: one resting order, one filled.
        _ = try await harness.venue.placeExternal(
            VenueOrderRequest(
                clientOrderID: "web-1", instrument: harness.btc, side: .buy, type: .limit, timeInForce: .gtc,
                quantity: Fixed(1), limitPrice: Fixed(1000)))
        _ = try await harness.venue.placeExternal(
            VenueOrderRequest(
                clientOrderID: "web-2", instrument: harness.btc, side: .buy, type: .market, timeInForce: .ioc,
                quantity: Fixed(units: 1_000_000), limitPrice: .zero))
        let report = try await harness.engine.reconcile(policy: .closeOnly)
        #expect(report.externalOrders == ["web-1"])
        #expect(report.positionMismatches[harness.btc]?.venue == Fixed(units: 1_000_000))
        #expect(await harness.engine.tradingMode == .closeOnly, "the policy stopped new entries")
        #expect(await harness.audit().contains(#""event":"external_order""#))
        #expect(await harness.audit().contains(#""event":"position_mismatch""#))
        // Reported once, not on every pass; the engine keeps working.
        let again = try await harness.engine.reconcile(policy: .log)
        #expect(again.externalOrders == ["web-1"])
        let exit = try await harness.engine.submit(try harness.market("after", .buy, "0.1"))
        #expect(exit.order.rejectReason == "CLOSE_ONLY")
    }

    @Test func inFlightFillsAreNotMistakenForMismatches() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        let bid = try #require(harness.venue.quote(harness.btc)?.bid)
        _ = try await harness.engine.submit(try harness.limit("rest", .buy, "0.01", at: (bid - Fixed(1)).description))
        var filled = false
        for _ in 0..<20_000 where !filled {
            await harness.venue.tick()  // fills at the venue; the engine has not consumed the event yet
            filled = try harness.venue.positions()[harness.btc] != nil
        }
        try #require(filled)
        let report = try await harness.engine.reconcile(policy: .halt)
        #expect(report.isClean)
        #expect(report.ordersChanged == 1)
        #expect(await harness.engine.tradingMode == .active)
    }

    /// The engine trades while the venue answers a reconciliation: the venue's positions are from
    /// before an order the portfolio already holds. That is not a mismatch (it once turned a loaded
    /// paper engine CLOSE_ONLY); the positions are compared on a later pass.
    @Test func anOrderFilledWhileTheVenueAnswersIsNotAMismatch() async throws {
        let harness = try EngineHarness()
        let trader = TradeWhilePositionsAreAsked()
        harness.wrapVenue = { paper in trader.wrap(paper) }
        try harness.restart()
        _ = try await harness.engine.recover()
        let engine = try #require(harness.engine)
        let order = try harness.market("during", .buy, "0.1")
        trader.duringNextAnswer { _ = try? await engine.submit(order) }
        let report = try await harness.engine.reconcile(policy: .closeOnly)
        #expect(trader.tradedDuringAnAnswer)
        #expect(report.positionMismatches.isEmpty)
        #expect(report.positionsDeferred)
        #expect(await harness.engine.tradingMode == .active)
        // Nothing trades during the next pass: the positions are compared, and agree.
        let next = try await harness.engine.reconcile(policy: .closeOnly)
        #expect(!next.positionsDeferred)
        #expect(next.isClean)
        #expect(try await harness.engine.submit(try harness.market("after", .buy, "0.1")).order.status == .filled)
    }

    @Test func killSwitchFileStopsEntriesWithoutRestart() async throws {
        let harness = try EngineHarness()
        _ = try await harness.engine.recover()
        _ = try await harness.engine.submit(try harness.market("long", .buy, "0.1"))
        try "close_only".write(toFile: harness.killSwitchPath, atomically: true, encoding: .utf8)
        await harness.engine.heartbeat()
        #expect(
            try await harness.engine.submit(try harness.market("more", .buy, "0.1")).order.rejectReason == "KILL_SWITCH"
        )
        #expect(try await harness.engine.submit(try harness.market("exit", .sell, "0.05")).order.status == .filled)
        try "hard_kill".write(toFile: harness.killSwitchPath, atomically: true, encoding: .utf8)
        await harness.engine.heartbeat()
        #expect(
            try await harness.engine.submit(try harness.market("exit2", .sell, "0.05")).order.rejectReason
                == "KILL_SWITCH")
        await #expect(throws: EngineError.self) { _ = try await harness.engine.flatten(reason: "test") }
        try FileManager.default.removeItem(atPath: harness.killSwitchPath)
        await harness.engine.heartbeat()
        #expect(try await harness.engine.submit(try harness.market("again", .buy, "0.1")).order.status == .filled)
    }

    @Test func dailyLossLimitGoesCloseOnlyAndDrawdownHalts() async throws {
        var limits = try EngineHarness().limits
        limits.dailyLossLimit = Fixed(units: 1)  // any loss at all
        let harness = try EngineHarness(limits: limits)
        _ = try await harness.engine.recover()
        await harness.engine.heartbeat()  // the day opens at the starting equity
        // Paying the spread loses at mid.
        _ = try await harness.engine.submit(try harness.market("spread", .buy, "0.1"))
        await harness.engine.heartbeat()
        #expect(await harness.engine.tradingMode == .closeOnly)

        var tight = limits
        tight.dailyLossLimit = nil
        tight.maxDrawdown = Fixed(units: 1)
        await harness.engine.updateLimits(tight)
        await harness.engine.heartbeat()
        #expect(await harness.engine.tradingMode == .halted)
        try harness.restart()
        _ = try await harness.engine.recover()
        #expect(await harness.engine.tradingMode == .halted, "the halt survives a restart")
    }

    @Test func rateLimitAndReloadedLimits() async throws {
        var limits = try EngineHarness().limits
        limits.orderRate = .init(perSecond: 1, burst: 2)
        let harness = try EngineHarness(limits: limits)
        _ = try await harness.engine.recover()
        #expect(try await harness.engine.submit(try harness.market("r1", .buy, "0.01")).order.status == .filled)
        #expect(try await harness.engine.submit(try harness.market("r2", .buy, "0.01")).order.status == .filled)
        #expect(
            try await harness.engine.submit(try harness.market("r3", .buy, "0.01")).order.rejectReason == "RATE_LIMIT")
        limits.orderRate = nil
        limits.maxNotional = Fixed(100)
        await harness.engine.updateLimits(limits)
        #expect(
            try await harness.engine.submit(try harness.market("r4", .buy, "0.01")).order.rejectReason
                == "NOTIONAL_ABOVE_MAX")
    }
}

/// The paper venue, except that its answer to `positions()` is taken first and returned only after
/// a test's action has run on the engine (as a network venue's answer arrives while the engine
/// goes on trading).
final class TradeWhilePositionsAreAsked: @unchecked Sendable {
    private let lock = NSLock()
    private var action: (@Sendable () async -> Void)?
    private var traded = false

    var tradedDuringAnAnswer: Bool { lock.withLock { traded } }

    func duringNextAnswer(_ action: @escaping @Sendable () async -> Void) { lock.withLock { self.action = action } }

    func wrap(_ paper: PaperVenue) -> any VenueClient { Wrapped(paper: paper, owner: self) }

    fileprivate func takeAction() -> (@Sendable () async -> Void)? {
        lock.withLock {
            defer { action = nil }
            if action != nil { traded = true }
            return action
        }
    }

    private struct Wrapped: VenueClient {
        let paper: PaperVenue
        let owner: TradeWhilePositionsAreAsked

        var venue: Venue { paper.venue }
        var events: AsyncStream<VenueEvent> { paper.events }
        var nativeOrderTypes: Set<OrderType> { paper.nativeOrderTypes }
        func start() async throws(VenueError) { try await paper.start() }
        func stop() async { await paper.stop() }
        nonisolated(nonsending) func submit(_ request: VenueOrderRequest) async throws(VenueError) -> VenueOrderReport {
            try await paper.submit(request)
        }
        nonisolated(nonsending) func cancel(
            clientOrderID: String, instrument: InstrumentID
        ) async throws(VenueError) -> VenueOrderReport {
            try await paper.cancel(clientOrderID: clientOrderID, instrument: instrument)
        }
        nonisolated(nonsending) func order(
            clientOrderID: String, instrument: InstrumentID
        ) async throws(VenueError) -> VenueOrderReport? {
            try await paper.order(clientOrderID: clientOrderID, instrument: instrument)
        }
        nonisolated(nonsending) func openOrders() async throws(VenueError) -> [VenueOrderReport] {
            try await paper.openOrders()
        }
        nonisolated(nonsending) func positions() async throws(VenueError) -> [InstrumentID: Fixed] {
            let answer = try paper.positions()
            if let action = owner.takeAction() { await Task { await action() }.value }
            return answer
        }
        func quote(_ instrument: InstrumentID) -> Quote? { paper.quote(instrument) }
        func quotes() -> [InstrumentID: Quote] { paper.quotes() }
        func join(
            _ groupCommit: GroupCommit, ledger: SQLiteDatabase, executor: any SerialExecutor
        ) throws(StorageError) {
            try paper.join(groupCommit, ledger: ledger, executor: executor)
        }
        var writesInLedgerTransaction: Bool { paper.writesInLedgerTransaction }
        func commitStaged() throws(StorageError) { try paper.commitStaged() }
    }
}
