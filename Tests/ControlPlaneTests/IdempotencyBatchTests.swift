import Foundation
import OPSConfig
import Testing
import TradingDomain

@testable import StrategyRouter

/// Keys are group-committed: the signals in flight during one fsync share a commit, and each is
/// still durable before its order leaves (its `route` returns only then).
struct IdempotencyBatchTests {
    let signal = Signal(
        instrument: InstrumentID(symbol: "BTCUSDT", venue: .paper), side: .buy, type: .market, quantity: Fixed(1),
        quote: nil, limitPrice: nil, strategy: "demo", model: "m")

    func path() -> String { NSTemporaryDirectory() + "router-batch-\(UUID().uuidString).sqlite" }

    @Test func keysInFlightTogetherShareCommitsAndAllSurviveAReopen() async throws {
        let file = path()
        let router = try SignalRouter(weights: StrategyWeights([:]), statePath: file)
        let before = await router.keyCommits
        let count = 64
        let signal = self.signal
        let decisions = try await withThrowingTaskGroup(of: (Int, SignalRouter.Decision).self) { group in
            for index in 0..<count {
                group.addTask {
                    let decision = try await router.route(
                        signal, idempotencyKey: "key-\(index)", body: Array("{\(index)}".utf8),
                        engineFor: { _ in "e1" })
                    return (index, decision)
                }
            }
            return try await group.reduce(into: [Int: SignalRouter.Decision]()) { $0[$1.0] = $1.1 }
        }
        #expect(decisions.count == count && decisions.values.allSatisfy { !$0.isRetry })
        let commits = await router.keyCommits - before
        #expect(commits >= 1 && commits < UInt64(count) / 2, "\(commits) commits for \(count) keys")

        // Every key is there after a reopen: a retry gets its first attempt's order.
        let reopened = try SignalRouter(weights: StrategyWeights([:]), statePath: file)
        for (index, first) in decisions {
            let retry = try await reopened.route(
                signal, idempotencyKey: "key-\(index)", body: Array("{\(index)}".utf8), engineFor: { _ in "e2" })
            #expect(retry.isRetry && retry.clientOrderID == first.clientOrderID && retry.engineID == "e1")
        }
    }

    @Test func pruningFindsExpiredKeysThroughTheAgeIndex() async throws {
        let plan = try IdempotencyStore(path: path()).prunePlan()
        #expect(plan.contains("idempotency_created"), "prune plan: \(plan)")
    }
}
