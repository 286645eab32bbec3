import Synchronization
import Testing
import TradingDomain

@testable import EngineCore

/// What subscribers receive: each durable state of an order once, every fill, numbered in order.
@Suite struct EventStreamTests {
    /// Collects every batch an engine publishes.
    final class Recorder: Sendable {
        private let batches = Mutex<[[Engine.EventEnvelope]]>([])
        var events: [Engine.EventEnvelope] { batches.withLock { $0.flatMap { $0 } } }
        var batchCount: Int { batches.withLock { $0.count } }
        func record(_ batch: [Engine.EventEnvelope]) { batches.withLock { $0.append(batch) } }
    }

    /// The events as short lines ("order ID STATUS", "fill ID"), for readable expectations.
    static func summary(_ events: [Engine.EventEnvelope]) -> [String] {
        events.map { envelope in
            switch envelope.event {
            case .order(let order): "order \(order.clientOrderID) \(order.status.rawValue)"
            case .fill(let fill): "fill \(fill.clientOrderID)"
            case .risk(let notice): "risk \(notice.kind)"
            case .heartbeat: "heartbeat"
            }
        }
    }

    @Test func aPaperOrderCommittedWithItsFillStreamsItsFinalStateOnce() async throws {
        let harness = try EngineHarness()
        let recorder = Recorder()
        let (_, firstSeq) = await harness.engine.subscribe { recorder.record($0) }
        let outcome = try await harness.engine.submit(try harness.market("ev-1", .buy, "0.01"))
        #expect(outcome.order.status == .filled)
        // Intent, acceptance and fill were one transaction: the intent's PENDING_SUBMIT was never
        // durable on its own, so only the FILLED state is streamed, after the fill it includes.
        #expect(Self.summary(recorder.events) == ["fill ev-1", "order ev-1 FILLED"])
        #expect(recorder.events.map(\.seq) == [firstSeq + 1, firstSeq + 2])
    }

    @Test func anIntentCommittedBeforeTheVenueCallIsStreamedOnItsOwn() async throws {
        // A venue with a file of its own: the intent is durable before the request leaves, so
        // PENDING_SUBMIT is a state subscribers must see, in a batch before the outcome's.
        let harness = try EngineHarness(venueInLedger: false)
        let recorder = Recorder()
        _ = await harness.engine.subscribe { recorder.record($0) }
        _ = try await harness.engine.submit(try harness.market("ev-2", .sell, "0.01"))
        #expect(
            Self.summary(recorder.events) == ["order ev-2 PENDING_SUBMIT", "fill ev-2", "order ev-2 FILLED"])
        #expect(recorder.batchCount == 2)
        let seqs = recorder.events.map(\.seq)
        #expect(seqs == Array(seqs[0]..<(seqs[0] + 3)), "consecutive: \(seqs)")
    }

    @Test func concurrentOrdersInOneBatchEachKeepTheirFinalStateAndEveryFill() async throws {
        let harness = try EngineHarness()
        let recorder = Recorder()
        _ = await harness.engine.subscribe { recorder.record($0) }
        let engine = try #require(harness.engine)
        let commands = try (0..<40).map { try harness.market("evc-\($0)", $0 % 2 == 0 ? .buy : .sell, "0.001") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for command in commands { group.addTask { _ = try await engine.submit(command) } }
            try await group.waitForAll()
        }
        let summary = Self.summary(recorder.events)
        for command in commands {
            let id = command.clientOrderID
            #expect(summary.filter { $0.hasPrefix("order \(id) ") } == ["order \(id) FILLED"])
            #expect(summary.filter { $0 == "fill \(id)" }.count == 1)
            // Each order's own events keep their order: its fill, then its state.
            let fill = try #require(summary.firstIndex(of: "fill \(id)"))
            let state = try #require(summary.firstIndex(of: "order \(id) FILLED"))
            #expect(fill < state)
        }
        let seqs = recorder.events.map(\.seq)
        #expect(seqs == Array(seqs[0]..<(seqs[0] + UInt64(seqs.count))), "no gaps in seq")
    }

    @Test func theSupersededOrderEventsAreTheEarlierOnesOfEachOrder() {
        let btc = InstrumentID(symbol: "BTCUSDT", venue: .paper)
        let order = { (id: String, status: OrderStatus) in
            EngineEvent.order(
                OrderRecord(
                    clientOrderID: id, instrument: btc, side: .buy, type: .market, timeInForce: .ioc,
                    limitPrice: .zero, quoteQuantity: .zero,
                    progress: OrderProgress(quantity: Fixed(1), status: status),
                    model: "m", strategy: "", createdUnixNanos: 0, updatedUnixNanos: 0))
        }
        let notice = EngineEvent.risk(
            RiskNotice(kind: "ORDER_DENIED", reason: "r", message: "", instrument: nil, clientOrderID: "a", model: "m"))
        let events = [
            order("a", .pendingSubmit), order("b", .pendingSubmit), notice, order("a", .accepted), order("a", .filled),
            order("b", .canceled),
        ]
        #expect(Engine.supersededOrderEvents(events) == [true, true, false, true, false, false])
    }
}
