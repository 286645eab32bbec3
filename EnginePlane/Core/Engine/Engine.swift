import Executors
import Logging
import Storage
import TradingDomain

/// One venue account's execution engine: risk rails → durable intent → venue → fills → portfolio,
/// with every change committed to the ledger before it is acknowledged or streamed.
///
/// An actor: commands from the link, venue events and the heartbeat are serialised through it, so
/// the heartbeat that feeds the systemd watchdog proves the engine itself is making progress.
public actor Engine {
    public struct Configuration: Sendable {
        public var engineID: String
        public var limits: RiskLimits
        public var startingCash: Fixed
        public var ledgerPath: String
        public var auditPath: String?
        public var durability: SQLiteDatabase.Durability
        public var killSwitch: KillSwitch

        public init(
            engineID: String, limits: RiskLimits, startingCash: Fixed, ledgerPath: String, auditPath: String?,
            durability: SQLiteDatabase.Durability = .full,
            killSwitch: KillSwitch = KillSwitch(filePath: nil, environmentValue: nil)
        ) {
            self.killSwitch = killSwitch
            self.engineID = engineID
            self.limits = limits
            self.startingCash = startingCash
            self.ledgerPath = ledgerPath
            self.auditPath = auditPath
            self.durability = durability
        }
    }

    public struct EventEnvelope: Sendable {
        public let seq: UInt64
        public let unixNanos: Int64
        public let event: EngineEvent
    }

    public typealias Subscriber = @Sendable ([EventEnvelope]) -> Void

    /// Where the engine's work runs: the link's event loop in the runtime (no thread hop between a
    /// request, the engine and the reply), a queue of its own otherwise.
    let executor: any SerialExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public nonisolated let engineID: String
    public nonisolated let venueName: Venue
    let venue: any VenueClient
    let ledger: Ledger
    let audit: AuditTrail
    let observer: any EngineObserver
    let logger: Logger
    var rails: RiskRails
    var portfolio: Portfolio
    var mode: TradingMode
    var modeReason: String
    /// Every order that can still change, by client order id.
    var open = OpenOrders()
    /// Orders closed since the last flush, and those closed in the batch before it: the reply that
    /// follows an order reads it from here, not SQLite, even when a flush ran in between (a second
    /// generation costs one batch of records and saves a 24-column read per order).
    var recentlyClosed: [String: OrderRecord] = [:]
    var closedBeforeLastFlush: [String: OrderRecord] = [:]
    var subscribers: [Int: Subscriber] = [:]
    var nextSubscriberID = 0
    var seq: UInt64 = 0
    var pendingEvents: [EngineEvent] = []
    public internal(set) var isReady = false
    let killSwitch: KillSwitch
    var killLevel: KillSwitch.Level
    /// What the last reconciliation found, so a lasting mismatch triggers its policy once, not on
    /// every pass (an operator's resume is not undone by the same finding).
    var lastMismatchSignature = ""
    var risk: RiskState
    /// Group commit (see Engine+GroupCommit): the fsync shared by every write since the last flush.
    let groupCommit: GroupCommit
    /// The venue writes in the ledger's transaction (the paper venue): one durable point per order.
    let venueSharesTransaction: Bool
    var flushScheduled = false
    /// Called with the open batch's sync result once it is durable, in order (on the sync thread).
    var batchWaiters: [@Sendable (Result<Void, StorageError>) -> Void] = []
    /// Set when a ledger write or sync failed: the engine then refuses all work (fail-stop).
    var failure: EngineError?
    /// Orders changed since the last flush, each written once by the flush: an intent and its fill
    /// in one batch are one INSERT, not an INSERT and an UPDATE. (`isNew`: not in the table yet.)
    var dirtyOrders: [String: (order: OrderRecord, isNew: Bool)] = [:]
    /// Portfolio rows changed since the last flush (model "" is the account-level position).
    var dirtyLots: Set<Portfolio.ModelKey> = []
    var dirtyStats: Set<String> = []
    /// Orders between their intent and the venue's answer in this process, and the retries of
    /// them waiting for that answer (a retry then reports the outcome instead of asking the venue).
    var sending: [String: [CheckedContinuation<Void, Never>]] = [:]
    /// Fills recorded since start (recovery reports how many it applied without counting the table).
    var fillsRecorded = 0
    /// Reconciliation passes in a row that could not compare positions (the engine kept trading).
    var positionChecksDeferred = 0

    public init(
        configuration: Configuration, venue: any VenueClient, observer: any EngineObserver = NoEngineObserver(),
        logger: Logger, executor: (any SerialExecutor)? = nil
    ) throws(StorageError) {
        self.executor = executor ?? SerialQueueExecutor(label: "engine-\(configuration.engineID)")
        self.engineID = configuration.engineID
        self.venueName = venue.venue
        self.venue = venue
        self.observer = observer
        self.logger = logger
        self.ledger = try Ledger(path: configuration.ledgerPath, durability: configuration.durability)
        self.groupCommit = GroupCommit(syncEnabled: configuration.durability == .full)
        // A venue with a file of its own registers it first: each sync makes a venue's fills durable
        // before the ledger's record of them, so power loss can leave the ledger behind the venue
        // (recovery catches up), never ahead. The paper venue's book shares the ledger's transaction.
        try venue.join(groupCommit, ledger: ledger.database, executor: self.executor)
        self.venueSharesTransaction = venue.writesInLedgerTransaction
        try groupCommit.register(ledger.database)
        self.audit = try AuditTrail(path: configuration.auditPath)
        self.rails = RiskRails(limits: configuration.limits)
        self.killSwitch = configuration.killSwitch
        self.killLevel = configuration.killSwitch.current()
        self.risk = RiskState(limits: configuration.limits)
        self.portfolio = try ledger.loadPortfolio(startingCash: configuration.startingCash)
        self.mode = ledger.setting("trading_mode").flatMap(TradingMode.init(rawValue:)) ?? .active
        self.modeReason = ledger.setting("trading_mode_reason") ?? ""
        for order in try ledger.openOrders() { open[order.clientOrderID] = order }
        if ledger.setting("cash") == nil {
            try ledger.saveAccount(cash: portfolio.cash, fees: portfolio.fees)
            try ledger.commit()
        }
        risk.equityHighWater = ledger.setting("equity_high_water").flatMap(Int64.init).map(Fixed.init(units:))
        risk.dayStartEquity = ledger.setting("day_start_equity").flatMap(Int64.init).map(Fixed.init(units:))
        risk.day = ledger.setting("day").flatMap(Int64.init)
    }

    // MARK: subscriptions

    /// Registers `subscriber` for every event after the current sequence number, which it returns.
    public func subscribe(_ subscriber: @escaping Subscriber) -> (id: Int, lastSeq: UInt64) {
        nextSubscriberID += 1
        subscribers[nextSubscriberID] = subscriber
        return (nextSubscriberID, seq)
    }

    public func unsubscribe(_ id: Int) { subscribers.removeValue(forKey: id) }

    // MARK: queries

    /// An order this engine knows without asking the ledger.
    func cachedOrder(_ clientOrderID: String) -> OrderRecord? {
        open[clientOrderID] ?? recentlyClosed[clientOrderID] ?? closedBeforeLastFlush[clientOrderID]
    }

    public func order(_ clientOrderID: String) throws(EngineError) -> OrderRecord? {
        if let order = cachedOrder(clientOrderID) { return order }
        do { return try ledger.order(clientOrderID) } catch { throw EngineError(.internalError, "\(error)") }
    }

    public func counts() throws(EngineError) -> (orders: Int64, fills: Int64) {
        do {
            try writeDirtyOrders()
            return (try ledger.orderCount(), try ledger.fillCount())
        } catch {
            throw EngineError(.internalError, "\(error)")
        }
    }

    var marks: [InstrumentID: Fixed] { venue.quotes().mapValues(\.mid) }

    func accountSummary() -> AccountSummary {
        let marks = self.marks
        return AccountSummary(
            cash: portfolio.cash, equity: portfolio.equity(marks: marks), realizedPnL: portfolio.realizedPnL,
            unrealizedPnL: portfolio.unrealizedPnL(marks: marks), fees: portfolio.fees)
    }

    /// The engine's state and the sequence number of the last event it includes. Taken after a
    /// flush (so every change in it has its event numbered at or below `lastEventSeq`) and returned
    /// once that flush is durable, so a snapshot never shows what a crash could still undo.
    public func snapshot() async -> EngineSnapshot {
        if hasUnflushedWrites || !pendingEvents.isEmpty {
            flushScheduled = true
            flush()
        }
        let snapshot = currentSnapshot()
        try? await durable()
        return snapshot
    }

    func currentSnapshot() -> EngineSnapshot {
        let quotes = venue.quotes()
        let marks = quotes.mapValues(\.mid)
        return EngineSnapshot(
            mode: mode, modeReason: modeReason, account: accountSummary(),
            positions: portfolio.positions.sorted { $0.key < $1.key }.map { key, lot in
                EngineSnapshot.PositionView(instrument: key, lot: lot, mark: marks[key] ?? .zero)
            },
            openOrders: open.values.sorted { $0.createdUnixNanos < $1.createdUnixNanos },
            models: portfolio.modelStats.sorted { $0.key < $1.key }.map { model, stats in
                EngineSnapshot.ModelView(
                    model: model, stats: stats, unrealizedPnL: portfolio.unrealizedPnL(model: model, marks: marks),
                    lots: Dictionary(
                        uniqueKeysWithValues: portfolio.modelLots.filter { $0.key.model == model }.map {
                            ($0.key.instrument, $0.value)
                        }))
            },
            marks: quotes, lastEventSeq: seq)
    }

    /// The watchdog pulse: runs on the engine's executor, publishes account and marks, and
    /// returns, proving the engine is not stuck.
    public func heartbeat() async {
        if !flushScheduled { audit.flush(on: groupCommit) }  // lines no ledger write followed (flatten, reload notes)
        refreshKillSwitch()
        evaluateLossLimits()
        // A mode change the limits just made is durable before the heartbeat returns (and before
        // systemd's watchdog is fed): a crash right after cannot undo a halt.
        if hasUnflushedWrites { try? await durable() }
        observer.riskState(breaker: risk.breaker?.gaugeValue ?? 0, killSwitch: killLevel.rawValue)
        let account = accountSummary()
        observer.accountUpdated(account, openOrders: open.count, mode: mode)
        let batch = [
            EventEnvelope(
                seq: seq, unixNanos: WallClock.nowUnixNanos(),
                event: .heartbeat(account, marks: venue.quotes(), mode: mode))
        ]
        let subscribers = Array(self.subscribers.values)
        // Behind the events of every flush so far: a heartbeat never announces a sequence number
        // whose events are not out yet.
        groupCommit.whenDurable(groupCommit.lastTicket) { result in
            if case .success = result { for subscriber in subscribers { subscriber(batch) } }
        }
    }

    /// Before the process exits: every batch and audit line queued so far is written and synced
    /// (the audit's lines go out on the group-commit thread, behind their batch).
    public func drain() async {
        audit.flush(on: groupCommit)
        if hasUnflushedWrites || flushScheduled { try? await durable() }
        try? await groupCommit.waitDurable(groupCommit.lastTicket)
    }

    // MARK: trading mode

    /// Changes the trading mode; returns once the change is durable.
    public func setTradingMode(_ newMode: TradingMode, reason: String) async throws(EngineError) -> TradingMode {
        let mode = try changeTradingMode(newMode, reason: reason)
        try await durable()
        return mode
    }

    func changeTradingMode(_ newMode: TradingMode, reason: String) throws(EngineError) -> TradingMode {
        do {
            try ledger.setSetting("trading_mode", newMode.rawValue)
            try ledger.setSetting("trading_mode_reason", reason)
        } catch {
            throw EngineError(.internalError, "\(error)")
        }
        let previous = mode
        mode = newMode
        modeReason = reason
        audit.record("trading_mode", [("from", previous.rawValue), ("to", newMode.rawValue), ("reason", reason)])
        pendingEvents.append(
            .risk(
                RiskNotice(
                    kind: "MODE_CHANGED", reason: newMode.rawValue, message: reason, instrument: nil, clientOrderID: "",
                    model: "")))
        try commitAndPublish()
        logger.notice(
            "trading mode changed",
            metadata: ["from": "\(previous.rawValue)", "to": "\(newMode.rawValue)", "reason": "\(reason)"])
        return newMode
    }

    public var tradingMode: TradingMode { mode }
}
