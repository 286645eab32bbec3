import EngineCore
import PaperVenue
import Synchronization
import Testing
import TradingDomain

/// `Engine.submit(_:reply:)`: the outcome handed over once durable, without a task waiting for it.
@Suite(.timeLimit(.minutes(1))) struct DeferredReplyTests {
    /// What a reply saw: the outcome, and the commits the engine had reported durable by then.
    final class Replies: Sendable {
        let received = Mutex<[(result: Result<SubmitOutcome, EngineError>, commitsBefore: Int)]>([])
    }

    @Test func eachOrderIsAnsweredOnceAfterItsBatchIsDurableAndSurvivesACrash() async throws {
        let harness = try EngineHarness()
        let counter = CommitCounter()
        harness.observer = counter
        try harness.restart()
        let engine = try #require(harness.engine)
        let replies = Replies()
        let commands = try (0..<50).map { try harness.market("deferred-\($0)", $0 % 2 == 0 ? .buy : .sell, "0.001") }
        await withTaskGroup(of: Void.self) { group in
            for command in commands {
                group.addTask {
                    await engine.submit(command) { result in
                        // The engine reports a batch's commit in its durability callback, before its waiters.
                        let commits = counter.commits.load(ordering: .relaxed)
                        replies.received.withLock { $0.append((result, commits)) }
                    }
                }
            }
        }
        try await waitFor { replies.received.withLock { $0.count } >= commands.count }
        try await Task.sleep(for: .milliseconds(50))  // a second answer to any order would show now
        let received = replies.received.withLock { $0 }
        #expect(received.count == commands.count, "one answer per order")
        let outcomes = try received.map { try $0.result.get() }
        #expect(Set(outcomes.map(\.order.clientOrderID)) == Set(commands.map(\.clientOrderID)))
        #expect(outcomes.allSatisfy { $0.order.status == .filled && !$0.duplicate })
        #expect(received.allSatisfy { $0.commitsBefore > 0 }, "no answer before a durable commit")

        try harness.restart()
        let counts = try await harness.engine.counts()
        #expect(counts.orders == Int64(commands.count) && counts.fills == Int64(commands.count))
    }

    @Test func aRetryIsAnsweredWithTheSameOrderAndABadCommandWithItsError() async throws {
        let harness = try EngineHarness()
        let engine = try #require(harness.engine)
        let command = try harness.market("deferred-dup", .buy, "0.01")
        let first = try await submit(command, to: engine).get()
        let retry = try await submit(command, to: engine).get()
        #expect(!first.duplicate && retry.duplicate && retry.order.clientOrderID == first.order.clientOrderID)
        #expect(try harness.venue.positions()[harness.btc] == Fixed(units: 1_000_000), "one venue order")

        var bad = command
        bad.clientOrderID = "bad id with spaces"
        let refused = await submit(bad, to: engine)
        guard case .failure(let error) = refused else {
            Issue.record("a bad client order id was accepted")
            return
        }
        #expect(error.code == .invalidArgument)
    }

    private func submit(_ command: SubmitCommand, to engine: Engine) async -> Result<SubmitOutcome, EngineError> {
        let box = Mutex<Result<SubmitOutcome, EngineError>?>(nil)
        await engine.submit(command) { result in box.withLock { $0 = result } }
        try? await waitFor { box.withLock { $0 } != nil }
        return box.withLock { $0 } ?? .failure(EngineError(.internalError, "no answer within the test's wait"))
    }

    private func waitFor(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out")
                return
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}
