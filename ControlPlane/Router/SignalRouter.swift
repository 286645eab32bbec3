import Executors
import FleetCrypto
import OPSConfig
import Storage
import TradingDomain

/// Decides, for each signal, the model it trades for and the client order id the engine sees.
///
/// With an `X-Idempotency-Key` both are derived from the key and remembered durably (before the
/// order is sent), so a retry — even after an OPS restart — sends the same client order id, and
/// the engine answers with the existing order instead of making a second one. A key reused with a
/// different body is refused.
public actor SignalRouter {
    public struct Decision: Sendable, Equatable {
        public var model: String
        public var clientOrderID: String
        /// The engine that gets the order. A retry goes to the same engine as the first attempt,
        /// whatever is up now: only that engine can recognise the client order id.
        public var engineID: String
        /// The key was seen before with this same body.
        public var isRetry: Bool
    }

    private var weights: StrategyWeights
    private let store: IdempotencyStore
    /// How long a key is remembered; after that, the same key is a new signal.
    private let keyLifetimeNanos: Int64
    private var insertsSincePrune = 0
    /// Group commit of keys: the keys inserted while an fsync runs share the next commit.
    private var flushScheduled = false
    private var batchWaiters: [@Sendable (Result<Void, StorageError>) -> Void] = []

    /// Unix nanoseconds now; tests pass their own to step over a key's lifetime without sleeping.
    private let clock: @Sendable () -> Int64

    /// Where the router runs. OPS gives it the event loop that serves the HTTP API and the engine
    /// links, so a signal is routed without leaving that thread (see `OPSApp`).
    private let executor: any SerialExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public init(
        weights: StrategyWeights, statePath: String, keyLifetime: Duration = .seconds(86_400),
        executor: (any SerialExecutor)? = nil,
        clock: @escaping @Sendable () -> Int64 = { WallClock.nowUnixNanos() }
    ) throws(StorageError) {
        self.executor = executor ?? SerialQueueExecutor(label: "signal-router")
        self.clock = clock
        self.weights = weights
        self.store = try IdempotencyStore(path: statePath)
        let (seconds, attoseconds) = keyLifetime.components
        self.keyLifetimeNanos = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        try store.prune(createdBefore: clock() - keyLifetimeNanos)
        _ = try store.commit()
    }

    public var currentWeights: StrategyWeights { weights }

    /// Commits of keys so far (tests: keys in flight together share them).
    var keyCommits: UInt64 { store.groupCommit.lastTicket }

    public func setWeights(_ new: StrategyWeights) { weights = new }

    /// `engineFor` maps a model to the engine of the signal's venue that trades it.
    /// Returns once the key (new or seen) is durable.
    public nonisolated func route(
        _ signal: Signal, idempotencyKey: String?, body: [UInt8], engineFor: @Sendable (String) -> String
    ) async throws(SignalError) -> Decision {
        // On the router's own event loop (OPS serves signals there) the decision is made in place
        // and the task waits for its key on its own executor: no hop onto the actor and back, two
        // of the loop's executor jobs per signal (uprobes: 5.6 jobs a signal before).
        guard executor.isIsolatingCurrentContext() == true else {
            return try await routeOnActor(signal, idempotencyKey: idempotencyKey, body: body, engineFor: engineFor)
        }
        let (decision, waitsForKey) = try decideInPlace(
            signal, idempotencyKey: idempotencyKey, body: body, engineFor: engineFor
        ).get()
        if waitsForKey {
            let durable = await withCheckedContinuation { continuation in
                whenKeysDurableInPlace { continuation.resume(returning: $0) }
            }
            do { try durable.get() } catch { throw SignalError.storage("\(error)") }
        }
        return decision
    }

    /// `decide`, called on the router's executor from outside one of its jobs (`route`).
    private nonisolated func decideInPlace(
        _ signal: Signal, idempotencyKey: String?, body: [UInt8], engineFor: @Sendable (String) -> String
    ) -> Result<(Decision, waitsForKey: Bool), SignalError> {
        assumeIsolated { router in
            Result { () throws(SignalError) in
                try router.decide(signal, idempotencyKey: idempotencyKey, body: body, engineFor: engineFor)
            }
        }
    }

    /// `whenKeysDurable`, called on the router's executor from outside one of its jobs (`route`).
    private nonisolated func whenKeysDurableInPlace(
        _ resume: @escaping @Sendable (Result<Void, StorageError>) -> Void
    ) {
        assumeIsolated { $0.whenKeysDurable(resume) }
    }

    /// `route` from anywhere else (Hummingbird's tasks, tests): on the actor.
    private func routeOnActor(
        _ signal: Signal, idempotencyKey: String?, body: [UInt8], engineFor: @Sendable (String) -> String
    ) async throws(SignalError) -> Decision {
        // The work is in `decide`, which does not suspend: what an async function keeps across
        // its awaits is allocated per call in the task, ~1.7 KB when it was all here.
        let (decision, waitsForKey) = try decide(
            signal, idempotencyKey: idempotencyKey, body: body, engineFor: engineFor)
        if waitsForKey {
            let durable = await withCheckedContinuation { continuation in
                whenKeysDurable { continuation.resume(returning: $0) }
            }
            do { try durable.get() } catch { throw SignalError.storage("\(error)") }
        }
        return decision
    }

    /// The decision, and whether it must wait for its key to be durable (any keyed signal).
    private func decide(
        _ signal: Signal, idempotencyKey: String?, body: [UInt8], engineFor: @Sendable (String) -> String
    ) throws(SignalError) -> (Decision, waitsForKey: Bool) {
        guard let key = idempotencyKey else {
            let model = try pickModel(signal, draw: Double.random(in: 0..<1))
            let decision = Decision(
                model: model, clientOrderID: ClientOrderID.unkeyed(at: clock()), engineID: engineFor(model),
                isRetry: false)
            return (decision, false)
        }
        guard (1...128).contains(key.utf8.count) else {
            throw SignalError.malformed("X-Idempotency-Key must be 1-128 characters")
        }
        let bodyHash = Digest.hex(Digest.sha256(body))
        let now = clock()
        let digest = Digest.sha256(utf8: "signal\u{0}\(key)\u{0}\(now / keyLifetimeNanosOrOne)")
        let draw =
            Double(UInt64(digest[0]) << 24 | UInt64(digest[1]) << 16 | UInt64(digest[2]) << 8 | UInt64(digest[3]))
            / Double(UInt64(1) << 32)
        // Derived from the key alone (DESIGN.md), never from the time: an OPS that lost its state
        // (a failover to another host) still sends a retry the same id, and the engine answers
        // with the existing order instead of making a second one.
        let clientOrderID = ClientOrderID.keyed(key: key, digest: digest)
        // A new key is the usual case: it is inserted unless already there, and looked up only
        // when it is (one B-tree search a signal instead of two).
        if let model = try? pickModel(signal, draw: draw) {
            let decision = Decision(
                model: model, clientOrderID: clientOrderID, engineID: engineFor(model), isRetry: false)
            if try insert(key: key, bodyHash: bodyHash, decision: decision, now: now, ifAbsent: true) {
                return (decision, true)
            }
        }
        // The key is there (or no model can be picked for a new one): a retry, a reuse with
        // another body, or an expired key.
        let existing: IdempotencyStore.Entry?
        do { existing = try store.entry(key: key) } catch { throw SignalError.storage("\(error)") }
        if let existing, existing.createdUnixNanos >= now - keyLifetimeNanos {
            guard existing.bodyHash == bodyHash else {
                throw SignalError.keyReused("X-Idempotency-Key '\(key)' was already used with a different request body")
            }
            // The first attempt may still be waiting for its fsync: a retry acts only on a durable key.
            let decision = Decision(
                model: existing.model, clientOrderID: existing.clientOrderID,
                engineID: existing.engineID.isEmpty ? engineFor(existing.model) : existing.engineID, isRetry: true)
            return (decision, true)
        }
        if existing != nil {
            // An expired key: forget it, and treat the signal as new (with a fresh client order id,
            // so it cannot collide with the order the old key made).
            do { try store.prune(createdBefore: now - keyLifetimeNanos) } catch {
                throw SignalError.storage("\(error)")
            }
        }
        let model = try pickModel(signal, draw: draw)
        let decision = Decision(model: model, clientOrderID: clientOrderID, engineID: engineFor(model), isRetry: false)
        _ = try insert(key: key, bodyHash: bodyHash, decision: decision, now: now, ifAbsent: false)
        return (decision, true)
    }

    /// Records a new key in the open transaction (durable after the next commit's fsync);
    /// `ifAbsent` returns false instead of failing when the key is already there. Expired keys
    /// are pruned every 1,000 new ones.
    private func insert(
        key: String, bodyHash: String, decision: Decision, now: Int64, ifAbsent: Bool
    ) throws(SignalError) -> Bool {
        let entry = IdempotencyStore.Entry(
            key: key, bodyHash: bodyHash, clientOrderID: decision.clientOrderID, model: decision.model,
            engineID: decision.engineID, createdUnixNanos: clock())
        do {
            if ifAbsent {
                guard try store.insertIfAbsent(entry) else { return false }
            } else {
                try store.insert(entry)
            }
            insertsSincePrune += 1
            if insertsSincePrune >= 1_000 {
                insertsSincePrune = 0
                try store.prune(createdBefore: now - keyLifetimeNanos)
            }
        } catch {
            throw SignalError.storage("\(error)")
        }
        return true
    }

    /// Calls `resume` once every key inserted so far (this caller's among them) is durable.
    private func whenKeysDurable(_ resume: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        if store.hasPendingWrites || flushScheduled {
            // Joining the batch and queueing its flush in one step: a flush that ran between the
            // two would leave this waiter with none to come (as in the engine).
            batchWaiters.append(resume)
            scheduleFlush()
        } else {
            let commits = store.groupCommit
            commits.whenDurable(commits.lastTicket, resume)
        }
    }

    /// Commits the open batch at once when no fsync runs; otherwise when it returns, so that
    /// every key inserted meanwhile shares one commit and the next fsync.
    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        let commits = store.groupCommit
        if commits.isSyncing {
            let ticket = commits.lastTicket
            Task {
                // Waits on this actor: the sync's callback resumes the task straight onto the
                // actor's executor. A `Task` made in the callback started on the global pool, one
                // more thread woken on the way to the flush.
                await withCheckedContinuation { continuation in
                    commits.whenDurable(ticket) { _ in continuation.resume() }
                }
                self.flush()
            }
        } else {
            Task { self.flush() }
        }
    }

    private func flush() {
        flushScheduled = false
        let waiters = batchWaiters
        batchWaiters.removeAll(keepingCapacity: true)
        let ticket: UInt64?
        do { ticket = try store.commit() } catch {
            // Rolled back: none of these keys was acted on, and none of their orders is sent.
            for waiter in waiters { waiter(.failure(error)) }
            return
        }
        let commits = store.groupCommit
        commits.whenDurable(ticket ?? commits.lastTicket) { result in
            for waiter in waiters { waiter(result) }
        }
    }

    /// Keys are scoped to their lifetime window, so a key reused after it expired derives a new id.
    private var keyLifetimeNanosOrOne: Int64 { max(1, keyLifetimeNanos) }

    private func pickModel(_ signal: Signal, draw: Double) throws(SignalError) -> String {
        if let model = signal.model { return model }
        guard let model = weights.pick(strategy: signal.strategy, draw: draw) else {
            throw SignalError.noModel(
                "no model weights for strategy '\(signal.strategy)': name a 'model' or set strategy weights")
        }
        return model
    }
}
