import EngineCore
import Storage
import Synchronization
import TradingDomain

/// A simulated venue inside the engine process, with its own durable book (`paper-venue.sqlite`):
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

        public init(
            databasePath: String, seed: UInt64, initialPrices: [InstrumentID: Fixed], spreadBps: Int64 = 2,
            volatilityBps: Int64 = 5, feeBps: Int64 = 0, tickSize: Fixed = Fixed(units: 1_000_000),
            tickInterval: Duration = .milliseconds(100), durability: SQLiteDatabase.Durability = .full
        ) {
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
                self.tick()
            }
        }
        ticker.withLock { $0 = task }
    }

    public func stop() async {
        ticker.withLock { $0?.cancel() }
        book.withLock { try? $0.persistTick() }
        continuation.finish()
    }

    /// Advances prices one step and fills resting orders the market crossed.
    public func tick() {
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

    /// Places an order directly on the venue, as a person on the venue's website would (committed
    /// at once: the engine knows nothing of it).
    public func placeExternal(_ request: VenueOrderRequest) throws(VenueError) -> VenueOrderReport {
        try book.withLock { book throws(VenueError) in
            let report = try book.submit(request)
            do { try book.commit() } catch { throw VenueError(.unavailable, "paper venue storage: \(error)") }
            return report
        }
    }

    public func join(_ groupCommit: GroupCommit) throws(StorageError) {
        try groupCommit.register(book.withLock { $0.storage })
        book.withLock { $0.staged = true }
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
