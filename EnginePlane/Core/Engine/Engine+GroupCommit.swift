import Logging
import Storage
import TradingDomain

/// Group commit: operations write into one open ledger transaction; a flush commits it (and the
/// venue's staged writes) and hands it to `GroupCommit`, whose single fsync covers every operation
/// in the batch. Events are published and callers resumed only from the durability callback, so
/// nothing is streamed or acknowledged before it is durable — the same guarantee as one fsync per
/// operation, at a fraction of the cost. A flush is a job queued behind the work already waiting on
/// the actor, so batches grow with the load by themselves and stay one operation long when idle.
extension Engine {
    /// Ends an operation's writes: they and its events join the open batch, and a flush is queued.
    /// Callers that must not go on before the batch is durable (a venue call, a reply) `durable()`.
    func commitAndPublish() throws(EngineError) {
        if let failure { throw failure }
        if hasUnflushedWrites || !pendingEvents.isEmpty { scheduleFlush() }
    }

    /// Returns once everything written so far (by this operation and every earlier one) is durable.
    func durable() async throws(EngineError) {
        if let failure { throw failure }
        // Joining the batch and queueing its flush happen in one step, inside the continuation's
        // body: `withCheckedContinuation` can suspend before running its body (it switches to the
        // actor's executor), and a flush that ran in that gap would leave this waiter behind with
        // no flush to come — a caller stuck until some other write happened to flush.
        let result = await withCheckedContinuation { continuation in
            joinBatch { continuation.resume(returning: $0) }
        }
        if let failure { throw failure }
        if case .failure(let error) = result { throw fail(error) }
    }

    /// As `durable()`, for a caller that does not wait: `body` runs once everything written so far
    /// is durable, or with the error that stopped the engine, on the sync thread (or at once, here,
    /// if it already is). A sync failure also stops the engine, as `durable()` does.
    func whenDurable(_ body: @escaping @Sendable (Result<Void, EngineError>) -> Void) {
        if let failure { return body(.failure(failure)) }
        joinBatch { [self] result in
            switch result {
            case .success: body(.success(()))
            case .failure(let error):
                body(.failure(Self.ledgerFailure(error)))
                Task { await self.fail(error) }
            }
        }
    }

    /// Runs `waiter` once everything written so far is durable: with the open batch (queueing its
    /// flush) when there is one, else once the last commit's sync returns.
    private func joinBatch(_ waiter: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        if hasUnflushedWrites || !pendingEvents.isEmpty || flushScheduled {
            batchWaiters.append(waiter)
            scheduleFlush()
        } else {
            groupCommit.whenDurable(groupCommit.lastTicket, waiter)
        }
    }

    /// Queues a flush: at once when the disk is idle; otherwise when the running fsync returns, so
    /// that everything arriving meanwhile shares one commit and the next fsync.
    func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        if groupCommit.isSyncing {
            let groupCommit = self.groupCommit
            let ticket = groupCommit.lastTicket
            Task {
                // Waits on this actor: the sync's callback resumes the task straight onto the
                // actor's executor. A `Task` made in the callback started on the global pool, one
                // more thread woken on the way to the flush.
                await withCheckedContinuation { continuation in
                    groupCommit.whenDurable(ticket) { _ in continuation.resume() }
                }
                self.flush()
            }
        } else {
            Task { self.flush() }
        }
    }

    /// Commits the open batch without an fsync and queues its sync; the callback publishes its
    /// events and resumes its waiters, in commit order.
    func flush() {
        guard flushScheduled else { return }  // a snapshot flushed already
        flushScheduled = false
        let waiters = batchWaiters
        batchWaiters.removeAll(keepingCapacity: true)
        if let failure {
            for waiter in waiters {
                waiter(.failure(StorageError(path: "ledger", operation: "flush", message: failure.message)))
            }
            return
        }
        let started = WallClock.nowUnixNanos()
        let committed: Bool
        do {
            try writeDirtyOrders()
            try writeDirtyPortfolio()
            try venue.commitStaged()
            committed = try ledger.commit()
        } catch {
            let failure = fail(error)
            for waiter in waiters {
                waiter(.failure(StorageError(path: "ledger", operation: "commit", message: failure.message)))
            }
            return
        }
        let ticket: UInt64
        if committed {
            ticket = audit.committed(ledger.database, on: groupCommit)
        } else {
            audit.flush(on: groupCommit)
            ticket = groupCommit.lastTicket
        }
        swap(&recentlyClosed, &closedBeforeLastFlush)
        recentlyClosed.removeAll(keepingCapacity: true)
        var batch: [EventEnvelope] = []
        if !pendingEvents.isEmpty {
            let now = WallClock.nowUnixNanos()
            let superseded = Self.supersededOrderEvents(pendingEvents)
            batch.reserveCapacity(pendingEvents.count)
            for (index, event) in pendingEvents.enumerated() where !superseded[index] {
                seq += 1
                batch.append(EventEnvelope(seq: seq, unixNanos: now, event: event))
            }
            pendingEvents.removeAll(keepingCapacity: true)
        }
        let events = batch
        let subscribers = batch.isEmpty ? [] : Array(self.subscribers.values)
        let observer = self.observer
        groupCommit.whenDurable(ticket) { result in
            if case .success = result {
                // Only real commits count toward ledger_write_seconds (heartbeats and quote ticks often have none).
                if committed { observer.ledgerCommitted(nanos: WallClock.nowUnixNanos() - started) }
                for subscriber in subscribers { subscriber(events) }
            }
            for waiter in waiters { waiter(result) }
        }
    }

    /// Marks the order events that a later event of the same order in the batch supersedes. A batch
    /// commits as one transaction, so the states an order passed through inside it were never
    /// durable on their own: subscribers get each order's state as of the commit, once (a paper
    /// order's intent and its fill are one batch: one order event instead of two). Fills and risk
    /// events are all kept.
    static func supersededOrderEvents(_ events: [EngineEvent]) -> [Bool] {
        var superseded = [Bool](repeating: false, count: events.count)
        var seen = Set<String>(minimumCapacity: events.count / 2)
        for index in events.indices.reversed() {
            guard case .order(let order) = events[index] else { continue }
            if !seen.insert(order.clientOrderID).inserted { superseded[index] = true }
        }
        return superseded
    }

    /// Writes remain for the next flush: staged order rows, or an open ledger transaction.
    var hasUnflushedWrites: Bool { !dirtyOrders.isEmpty || ledger.hasPendingWrites }

    /// Writes the staged order rows into the open transaction (at a flush, or before a query).
    func writeDirtyOrders() throws(StorageError) {
        guard !dirtyOrders.isEmpty else { return }
        for entry in dirtyOrders.values { try ledger.save(entry.order, isNew: entry.isNew) }
        dirtyOrders.removeAll(keepingCapacity: true)
    }

    /// The positions, model stats and cash that fills changed since the last flush.
    func writeDirtyPortfolio() throws(StorageError) {
        guard !dirtyLots.isEmpty || !dirtyStats.isEmpty else { return }
        for key in dirtyLots {
            let lot =
                (key.model.isEmpty ? portfolio.positions[key.instrument] : portfolio.modelLots[key]) ?? PositionLot()
            try ledger.save(lot: lot, model: key.model, instrument: key.instrument)
        }
        for model in dirtyStats {
            try ledger.save(stats: portfolio.modelStats[model] ?? Portfolio.ModelStats(), model: model)
        }
        try ledger.saveAccount(cash: portfolio.cash, fees: portfolio.fees)
        dirtyLots.removeAll(keepingCapacity: true)
        dirtyStats.removeAll(keepingCapacity: true)
    }

    /// A write, commit or sync failed: the ledger's state is unknown, so the engine stops taking
    /// work (fail-stop) and the runtime exits for systemd to restart it; recovery then starts from
    /// what is durable. Rolling back alone would be wrong: the batch holds other callers' writes.
    @discardableResult
    func fail(_ error: any Error) -> EngineError {
        if let failure { return failure }
        let failure = Self.ledgerFailure(error)
        self.failure = failure
        isReady = false
        ledger.rollback()
        dirtyOrders.removeAll()
        recentlyClosed.removeAll()  // may hold what was rolled back
        closedBeforeLastFlush.removeAll()
        pendingEvents.removeAll()
        logger.critical("ledger failure: refusing all work until restart", metadata: ["error": "\(error)"])
        return failure
    }

    /// The error every caller gets once the ledger failed.
    static func ledgerFailure(_ error: any Error) -> EngineError {
        EngineError(.unavailable, "the ledger failed (\(error)); the engine is stopping to recover")
    }

    /// Why the engine stopped taking work, if it did.
    public var ledgerFailure: EngineError? { failure }
}
