import EngineCore
import PaperVenue
import Synchronization
import Testing
import TradingDomain

/// Counts ledger commits (one per flushed batch).
final class CommitCounter: EngineObserver {
    let commits = Atomic<Int>(0)
    func orderSubmitted(model: String) {}
    func orderRejected(model: String, reason: String) {}
    func orderFilled(model: String, latencyNanos: Int64) {}
    func fillRecorded(_ fill: FillRecord, modelRealizedPnL: Fixed) {}
    func accountUpdated(_ account: AccountSummary, openOrders: Int, mode: TradingMode) {}
    func ledgerCommitted(nanos: Int64) { commits.add(1, ordering: .relaxed) }
}

@Suite struct GroupCommitTests {
    @Test func concurrentOrdersShareCommitsAndAllSurviveACrash() async throws {
        let harness = try EngineHarness()
        let counter = CommitCounter()
        harness.observer = counter
        try harness.restart()
        let engine = try #require(harness.engine)
        let count = 300
        let commands = try (0..<count).map { index in
            try harness.market("gc-\(index)", index % 2 == 0 ? .buy : .sell, "0.001")
        }
        let statuses = try await withThrowingTaskGroup(of: OrderStatus.self) { group in
            for command in commands { group.addTask { try await engine.submit(command).order.status } }
            return try await group.reduce(into: [OrderStatus]()) { $0.append($1) }
        }
        #expect(statuses.count == count && statuses.allSatisfy { $0 == .filled })
        // Two durable points per order (intent, outcome); batching makes it far fewer commits.
        let commits = counter.commits.load(ordering: .relaxed)
        #expect(commits > 0 && commits < count, "\(commits) commits for \(count) orders")

        // Every acknowledged order and fill is in the ledger after a crash, and the venue agrees.
        try harness.restart()
        let counts = try await harness.engine.counts()
        #expect(counts.orders == Int64(count) && counts.fills == Int64(count))
        for command in commands.prefix(20) {
            #expect(try await harness.engine.order(command.clientOrderID)?.status == .filled)
        }
        #expect(try harness.venue.positions()[harness.btc] == .zero)
        let reconciliation = try await harness.engine.reconcile(policy: .log)
        #expect(reconciliation.isClean)
    }

    @Test func aRetryOfAnOrderInFlightWaitsForItAndMakesNoSecondOrder() async throws {
        let harness = try EngineHarness()
        let engine = try #require(harness.engine)
        let command = try harness.market("dup-1", .buy, "0.01")
        async let first = engine.submit(command)
        async let second = engine.submit(command)
        let (a, b) = try await (first, second)
        #expect(a.order.status == .filled && b.order.status == .filled)
        #expect([a.duplicate, b.duplicate].filter { $0 }.count == 1, "exactly one of them made the order")
        #expect(try harness.venue.positions()[harness.btc] == Fixed(units: 1_000_000), "one venue order")
    }
}
