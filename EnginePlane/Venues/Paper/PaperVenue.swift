import EngineCore
import Storage
import Synchronization
import TradingDomain

#if canImport(Glibc)
    import Glibc
#endif

/// A simulated venue inside the engine process, with a durable book (kept in the engine's ledger file):
/// market orders fill at the touch (bid/ask a spread apart), limit orders fill at their price when
/// the market crosses it, prices follow a seeded deterministic walk. It keeps a client order id
/// unique as a real venue does, so the engine's exactly-once logic is exercised for real.
public final class PaperVenue: VenueClient {
    public struct Configuration: Sendable {
        public var databasePath: String
        public var seed: UInt64
        /// Starting mid price per instrument; the allowlist of what the venue quotes.
        public var initialPrices: [InstrumentID: Fixed]
        public var spreadBps: Int64
        public var volatilityBps: Int64
        public var feeBps: Int64
        public var tickSize: Fixed
        public var tickInterval: Duration
        public var durability: SQLiteDatabase.Durability
        /// A book kept in a file of its own by an earlier version: imported into an empty book once.
        public var legacyDatabasePath: String?

        public init(
            databasePath: String, seed: UInt64, initialPrices: [InstrumentID: Fixed], spreadBps: Int64 = 2,
            volatilityBps: Int64 = 5, feeBps: Int64 = 0, tickSize: Fixed = Fixed(units: 1_000_000),
            tickInterval: Duration = .milliseconds(100), durability: SQLiteDatabase.Durability = .full,
            legacyDatabasePath: String? = nil
        ) {
            self.legacyDatabasePath = legacyDatabasePath
            self.databasePath = databasePath
            self.seed = seed
            self.initialPrices = initialPrices
            self.spreadBps = spreadBps
            self.volatilityBps = volatilityBps
            self.feeBps = feeBps
            self.tickSize = tickSize
            self.tickInterval = tickInterval
            self.durability = durability
        }
    }

    public let venue: Venue = .paper
    public let events: AsyncStream<VenueEvent>
    private let continuation: AsyncStream<VenueEvent>.Continuation
    private let configuration: Configuration
    private let book: Mutex<PaperBook>
    private let ticker = Mutex<Task<Void, Never>?>(nil)
    /// Set when the book shares the engine's ledger: runs the venue's own work on the engine's executor.
    private let engineLane = Mutex<EngineLane?>(nil)

    public init(configuration: Configuration) throws(StorageError) {
        self.configuration = configuration
        let path = PricePath(
            seed: configuration.seed, volatilityBps: configuration.volatilityBps, tickSize: configuration.tickSize)
        let book = try PaperBook(configuration: configuration, path: path)
        self.book = Mutex(book)
        (events, continuation) = AsyncStream.makeStream(of: VenueEvent.self, bufferingPolicy: .unbounded)
    }

    public func start() async throws(VenueError) {
        let interval = configuration.tickInterval
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self else { return }
                await self.tick()
            }
        }
        ticker.withLock { $0 = task }
    }

    public func stop() async {
        ticker.withLock { $0?.cancel() }
        book.withLock { try? $0.persistTick() }
        continuation.finish()
    }

    /// Advances prices one step and fills resting orders the market crossed (on the engine's
    /// executor when the book shares the ledger).
    public func tick() async {
        if let lane = engineLane.withLock({ $0 }) { await lane.run { self.tickNow() } } else { tickNow() }
    }

    private func tickNow() {
        let reports: [VenueOrderReport]
        do {
            reports = try book.withLock { book throws(StorageError) in try book.tick() }
        } catch {
            return  // the book rolled back; the next tick retries from the same state
        }
        for report in reports { continuation.yield(.order(report)) }
        continuation.yield(.quotes(book.withLock { $0.quotes }))
    }

    nonisolated(nonsending) public func submit(
        _ request: VenueOrderRequest
    ) async throws(VenueError) -> VenueOrderReport {
        try book.withLock { book throws(VenueError) in try book.submit(request) }
    }

    nonisolated(nonsending) public func cancel(
        clientOrderID: String, instrument: InstrumentID
    ) async throws(VenueError) -> VenueOrderReport {
        try book.withLock { book throws(VenueError) in try book.cancel(clientOrderID: clientOrderID) }
    }

    nonisolated(nonsending) public func order(
        clientOrderID: String, instrument: InstrumentID
    ) async throws(VenueError) -> VenueOrderReport? {
        try book.withLock { book throws(VenueError) in try book.report(clientOrderID: clientOrderID) }
    }

    public func quote(_ instrument: InstrumentID) -> Quote? {
        book.withLock { $0.quotes[instrument] }
    }

    public func quotes() -> [InstrumentID: Quote] {
        book.withLock { $0.quotes }
    }

    /// Places an order directly on the venue, as a person on the venue's website would: the engine
    /// knows nothing of it. Committed at once, or, sharing the ledger, with the engine's next flush.
    public func placeExternal(_ request: VenueOrderRequest) async throws(VenueError) -> VenueOrderReport {
        let place: @Sendable () throws(VenueError) -> VenueOrderReport = {
            try self.book.withLock { book throws(VenueError) in
                let report = try book.submit(request)
                do { try book.commit() } catch { throw VenueError(.unavailable, "paper venue storage: \(error)") }
                return report
            }
        }
        if let lane = engineLane.withLock({ $0 }) { return try await lane.run(place) }
        return try place()
    }

    public func join(
        _ groupCommit: GroupCommit, ledger: SQLiteDatabase, executor: any SerialExecutor
    )
        throws(StorageError)
    {
        if Self.sameFile(ledger.path, configuration.databasePath) {
            // Handed over, not shared across threads: from here on the book uses the connection
            // only on the engine's executor (the engine's calls, and ticks run in `EngineLane`).
            let connection = HandedOver(ledger)
            book.withLock { $0.adopt(connection.value) }
            engineLane.withLock { $0 = EngineLane(executor: executor) }
        } else {
            try groupCommit.register(book.withLock { $0.storage })
            book.withLock {
                $0.staged = true
                $0.groupCommit = groupCommit
            }
        }
    }

    public var writesInLedgerTransaction: Bool { book.withLock { $0.sharesLedger } }

    static func sameFile(_ first: String, _ second: String) -> Bool {
        guard let a = realpath(first, nil) else { return false }
        defer { free(a) }
        guard let b = realpath(second, nil) else { return false }
        defer { free(b) }
        return strcmp(a, b) == 0
    }

    public func commitStaged() throws(StorageError) {
        try book.withLock { book throws(StorageError) in try book.commit() }
    }

    nonisolated(nonsending) public func openOrders() async throws(VenueError) -> [VenueOrderReport] {
        try book.withLock { book throws(VenueError) in try book.openOrders() }
    }

    /// Positions implied by every fill the venue has made.
    public func positions() throws(VenueError) -> [InstrumentID: Fixed] {
        book.withLock { $0.positions() }
    }
}
