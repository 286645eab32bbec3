import Foundation
import OPSConfig
import StrategyRouter
import Synchronization
import Testing
import TradingDomain

struct SignalRouterTests {
    let signal = Signal(
        instrument: InstrumentID(symbol: "BTCUSDT", venue: .paper), side: .buy, type: .market, quantity: Fixed(1),
        quote: nil,
        limitPrice: nil, strategy: "demo", model: nil)
    let weights = StrategyWeights(["demo": ["a": 3, "b": 1]])

    func path() -> String { NSTemporaryDirectory() + "router-\(UUID().uuidString).sqlite" }

    @Test func sameKeySameOrderEvenAfterRestart() async throws {
        let file = path()
        let body = Array("{}".utf8)
        let first = try await SignalRouter(weights: weights, statePath: file).route(
            signal, idempotencyKey: "k", body: body, engineFor: { _ in "e1" })
        #expect(!first.isRetry)
        // Weights change and OPS restarts: the retry still maps to the same order and model.
        let reopened = try SignalRouter(weights: StrategyWeights(["demo": ["c": 1]]), statePath: file)
        let retry = try await reopened.route(signal, idempotencyKey: "k", body: body, engineFor: { _ in "e2" })
        #expect(retry.clientOrderID == first.clientOrderID)
        #expect(retry.model == first.model)
        #expect(retry.engineID == "e1", "a retry goes to the first attempt's engine")
        #expect(retry.isRetry)
    }

    @Test func aRetryNeedsNoWeightsButANewKeyDoes() async throws {
        // The strategy loses its weights after the first attempt: its retry still gets the first
        // attempt's model, and a reuse with another body is still a conflict, not "no model".
        let router = try SignalRouter(weights: weights, statePath: path())
        let body = Array("{1}".utf8)
        let first = try await router.route(signal, idempotencyKey: "w", body: body, engineFor: { _ in "e1" })
        await router.setWeights(StrategyWeights([:]))
        let retry = try await router.route(signal, idempotencyKey: "w", body: body, engineFor: { _ in "e2" })
        #expect(retry.isRetry && retry.model == first.model && retry.clientOrderID == first.clientOrderID)
        await #expect(
            throws: SignalError.keyReused("X-Idempotency-Key 'w' was already used with a different request body")
        ) {
            _ = try await router.route(signal, idempotencyKey: "w", body: Array("{2}".utf8), engineFor: { _ in "e1" })
        }
        await #expect(throws: SignalError.self) {
            _ = try await router.route(signal, idempotencyKey: "new", body: body, engineFor: { _ in "e1" })
        }
        // The refused key was not recorded: with weights again it is new, not a retry.
        await router.setWeights(weights)
        #expect(try await !router.route(signal, idempotencyKey: "new", body: body, engineFor: { _ in "e1" }).isRetry)
    }

    @Test func keyReusedWithAnotherBodyIs409() async throws {
        let router = try SignalRouter(weights: weights, statePath: path())
        _ = try await router.route(signal, idempotencyKey: "k", body: Array("{1}".utf8), engineFor: { _ in "e1" })
        do {
            _ = try await router.route(signal, idempotencyKey: "k", body: Array("{2}".utf8), engineFor: { _ in "e1" })
            Issue.record("reuse accepted")
        } catch {
            #expect(error.httpStatus == 409)
        }
    }

    @Test func aKeyedIdIsDerivedFromTheKeyAloneEvenWithoutOPSState() async throws {
        // OPS fails over to a host without its state: a retry still carries the same client order
        // id (the engine then answers with the order it has), whatever the time within the window.
        let now = Mutex<Int64>(1_700_000_000_000_000_000)
        let first = try await SignalRouter(weights: weights, statePath: path(), clock: { now.withLock { $0 } })
            .route(signal, idempotencyKey: "failover", body: Array("{}".utf8), engineFor: { _ in "e1" })
        now.withLock { $0 += 5_000_000_000 }
        let elsewhere = try await SignalRouter(weights: weights, statePath: path(), clock: { now.withLock { $0 } })
            .route(signal, idempotencyKey: "failover", body: Array("{}".utf8), engineFor: { _ in "e1" })
        #expect(elsewhere.clientOrderID == first.clientOrderID)
        #expect(elsewhere.model == first.model)
        #expect(first.clientOrderID.utf8.count == 26)  // "s-" + 24 hex, as docs/architecture.md says
    }

    @Test func keysThatCarryTheirTimeGiveIdsThatSortByIt() async throws {
        // UUIDv7 and ULID keys begin with their Unix milliseconds: the id begins with them too, so
        // keyed orders append to the engine's B-trees. Still a function of the key alone.
        let now = Mutex<Int64>(1_700_000_000_000_000_000)
        let millis: [UInt64] = [0x018F_FFFF_FFFF, 0x0190_0000_0000, 0x0190_0000_0001, 0x0190_0000_0082]
        let keys = [
            "018fffff-ffff-7abc-8def-0123456789ab",  // UUIDv7
            "01J0000000ZZZZZZZZZZZZZZZZ",  // ULID of 0x0190_0000_0000 ms
            "01900000-0001-7FFF-BFFF-FFFFFFFFFFFF",  // UUIDv7, upper case
            "01j0000042abcdefghjkmnpqrs",  // ULID, lower case
        ]
        let router = try SignalRouter(weights: weights, statePath: path(), clock: { now.withLock { $0 } })
        var ids: [String] = []
        for (key, ms) in zip(keys, millis) {
            let decision = try await router.route(
                signal, idempotencyKey: key, body: Array("{}".utf8), engineFor: { _ in "e1" })
            let id = decision.clientOrderID
            #expect(id.utf8.count == 34, "s- + 12 hex of the time + 20 hex of the digest: \(id)")
            #expect(id.hasPrefix("s-" + String(ms, radix: 16).leftPadded(to: 12)), "\(key) -> \(id)")
            ids.append(id)
        }
        #expect(ids == ids.sorted())
        now.withLock { $0 += 5_000_000_000 }
        let elsewhere = try await SignalRouter(weights: weights, statePath: path(), clock: { now.withLock { $0 } })
            .route(signal, idempotencyKey: keys[0], body: Array("{}".utf8), engineFor: { _ in "e1" })
        #expect(elsewhere.clientOrderID == ids[0], "an OPS without the key's record derives the same id")
    }

    @Test func keyedIdsAreTheSameInEveryVersion() async throws {
        // A retry through an OPS that lost its state (or was upgraded) must derive the id the first
        // attempt had: these are the ids every version so far gave these keys in this window.
        let router = try SignalRouter(
            weights: weights, statePath: path(), clock: { 1_700_000_000_000_000_000 })
        let timed = try await router.route(
            signal, idempotencyKey: "018fffff-ffff-7abc-8def-0123456789ab", body: Array("{}".utf8),
            engineFor: { _ in "e1" })
        #expect(timed.clientOrderID == "s-018fffffffff60771c7ca0fbfc166514")
        let opaque = try await router.route(
            signal, idempotencyKey: "bench-run-1", body: Array("{}".utf8), engineFor: { _ in "e1" })
        #expect(opaque.clientOrderID == "s-32686f8bc64c8ffcfebf1e24")
    }

    @Test func otherKeysGetHashedIds() async throws {
        let keys = [
            UUID().uuidString,  // version 4
            "018fffff-ffff-7abc-cdef-0123456789ab",  // version 7 with another variant
            "018fffff-ffff-7abc-8def-0123456789aZ",  // not hex
            "018ffff-fffff-7abc-8def-0123456789ab",  // a hyphen elsewhere
            "81J0000000ZZZZZZZZZZZZZZZZ",  // more than 48 bits of time
            "01J0000000ZZZZZZZZZZZZZZZU",  // U is not Crockford base 32
            "bench-run-1",
        ]
        let router = try SignalRouter(weights: weights, statePath: path())
        for key in keys {
            let decision = try await router.route(
                signal, idempotencyKey: key, body: Array("{}".utf8), engineFor: { _ in "e1" })
            let id = decision.clientOrderID
            #expect(id.utf8.count == 26, "\(key) -> \(id)")
        }
    }

    @Test func unkeyedIdsSortInTheOrderTheyWereMade() async throws {
        // The engine's ledger keys orders by client order id: ids in time order append to the same
        // B-tree pages instead of dirtying a random page per order. Across a hex digit boundary too.
        let now = Mutex<Int64>(0x0FFF_FFFF_FFFF_FFF0)
        let router = try SignalRouter(weights: weights, statePath: path(), clock: { now.withLock { $0 } })
        var ids: [String] = []
        for index in 0..<5 {
            let decision = try await router.route(
                signal, idempotencyKey: nil, body: Array("{\(index)}".utf8), engineFor: { _ in "e1" })
            ids.append(decision.clientOrderID)
            now.withLock { $0 += 8 }
        }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
    }

    @Test func keysExpireAfterTheirLifetime() async throws {
        // A clock the test moves: the expiry does not depend on how fast a loaded machine runs.
        let now = Mutex<Int64>(1_700_000_000_000_000_000)
        let router = try SignalRouter(
            weights: weights, statePath: path(), keyLifetime: .seconds(3), clock: { now.withLock { $0 } })
        let first = try await router.route(
            signal, idempotencyKey: "ttl", body: Array("{1}".utf8), engineFor: { _ in "e1" })
        let retry = try await router.route(
            signal, idempotencyKey: "ttl", body: Array("{1}".utf8), engineFor: { _ in "e1" })
        #expect(retry.isRetry && retry.clientOrderID == first.clientOrderID)
        now.withLock { $0 += 3_500_000_000 }  // past the 3 s lifetime
        // Expired: the key is new again, even with another body, and maps to a new order id.
        let later = try await router.route(
            signal, idempotencyKey: "ttl", body: Array("{2}".utf8), engineFor: { _ in "e1" })
        #expect(!later.isRetry)
        #expect(later.clientOrderID != first.clientOrderID)
    }

    @Test func noKeyMeansANewOrderEachTime() async throws {
        let router = try SignalRouter(weights: weights, statePath: path())
        let a = try await router.route(signal, idempotencyKey: nil, body: [], engineFor: { _ in "e1" })
        let b = try await router.route(signal, idempotencyKey: nil, body: [], engineFor: { _ in "e1" })
        #expect(a.clientOrderID != b.clientOrderID)
    }

    @Test func modelFollowsTheWeights() {
        #expect(weights.pick(strategy: "demo", draw: 0.0) == "a")
        #expect(weights.pick(strategy: "demo", draw: 0.74) == "a")
        #expect(weights.pick(strategy: "demo", draw: 0.76) == "b")
        #expect(weights.pick(strategy: "other", draw: 0.5) == nil)
        var counts: [String: Int] = [:]
        for index in 0..<4000 { counts[weights.pick(strategy: "demo", draw: Double(index) / 4000)!, default: 0] += 1 }
        #expect(counts["a"] == 3000 && counts["b"] == 1000)
    }

    @Test func explicitModelNeedsNoWeights() async throws {
        var named = signal
        named.model = "x"
        named.strategy = "unknown"
        let router = try SignalRouter(weights: StrategyWeights([:]), statePath: path())
        #expect(try await router.route(named, idempotencyKey: nil, body: [], engineFor: { _ in "e1" }).model == "x")
        named.model = nil
        await #expect(throws: SignalError.self) {
            _ = try await router.route(named, idempotencyKey: nil, body: [], engineFor: { _ in "e1" })
        }
    }

    @Test func badWeightsFilesAreRefused() {
        #expect(throws: OPSConfigError.self) { try StrategyWeights.parse(Data(#"{"s":{"a":-1}}"#.utf8), source: "w") }
        #expect(throws: OPSConfigError.self) { try StrategyWeights.parse(Data(#"{"s":{}}"#.utf8), source: "w") }
        #expect(throws: OPSConfigError.self) { try StrategyWeights.parse(Data(#"["a"]"#.utf8), source: "w") }
    }

    @Test func theRouterRunsOnTheExecutorItIsGiven() async throws {
        // OPS gives the router its HTTP event loop, so that routing a signal costs no thread hop.
        let executor = MarkedQueueExecutor()
        let router = try SignalRouter(weights: weights, statePath: path(), executor: executor)
        let onExecutor = Mutex<[Bool]>([])
        _ = try await router.route(signal, idempotencyKey: "k", body: Array("{}".utf8)) { _ in
            onExecutor.withLock { $0.append(executor.isCurrent) }
            return "e1"
        }
        _ = try await router.route(signal, idempotencyKey: nil, body: []) { _ in
            onExecutor.withLock { $0.append(executor.isCurrent) }
            return "e1"
        }
        #expect(onExecutor.withLock { $0 } == [true, true])
    }
}

/// A serial executor that can tell whether the current thread is running one of its jobs.
final class MarkedQueueExecutor: SerialExecutor {
    private let queue = DispatchQueue(label: "marked-router-queue")
    private let key = DispatchSpecificKey<Bool>()

    init() { queue.setSpecific(key: key, value: true) }

    var isCurrent: Bool { DispatchQueue.getSpecific(key: key) == true }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
