import Storage
import TradingDomain

/// What the engine core needs from a venue. Each venue (Paper, Binance, ...) implements it in its
/// own module; the core imports none of them, and each `engine-<venue>` executable wires one in.
public protocol VenueClient: Sendable {
    var venue: Venue { get }

    /// Venue-pushed events (fills of resting orders, order updates, quotes), in venue order.
    var events: AsyncStream<VenueEvent> { get }

    /// Order types the venue runs itself. The engine emulates the others (stops and trailing stops
    /// held in the engine until their trigger), and always emulates OCO and bracket links.
    var nativeOrderTypes: Set<OrderType> { get }

    /// Starts market data and event delivery.
    func start() async throws(VenueError)
    func stop() async

    // The calls below are `nonisolated(nonsending)`: they run on the engine's executor until they
    // suspend, so a venue that answers in-process (paper) costs no thread hop per order, and a
    // network venue releases the engine at its first await as before.

    /// Places one order. The venue must treat `clientOrderID` as unique: a second submit with the
    /// same id returns the first order's report and never creates another order.
    nonisolated(nonsending) func submit(_ request: VenueOrderRequest) async throws(VenueError) -> VenueOrderReport
    nonisolated(nonsending) func cancel(
        clientOrderID: String, instrument: InstrumentID
    ) async throws(VenueError) -> VenueOrderReport
    /// The venue's view of one order (and all its fills), or nil if the venue never saw it.
    nonisolated(nonsending) func order(
        clientOrderID: String, instrument: InstrumentID
    ) async throws(VenueError) -> VenueOrderReport?

    /// Every order live at the venue on this account, the engine's or not.
    nonisolated(nonsending) func openOrders() async throws(VenueError) -> [VenueOrderReport]
    /// The account's positions as the venue sees them (base units, signed).
    nonisolated(nonsending) func positions() async throws(VenueError) -> [InstrumentID: Fixed]

    /// Best bid/ask now, or nil when the venue has no price yet.
    func quote(_ instrument: InstrumentID) -> Quote?
    /// Every instrument the venue quotes.
    func quotes() -> [InstrumentID: Quote]

    /// For a venue that keeps durable state in this process (the paper venue), called once by the
    /// engine before any other call. A venue whose book lives in the ledger's own file adopts the
    /// ledger's connection: its writes then join the engine's open transaction, so one commit and
    /// one fsync cover the order's intent, the venue's record of it and the fill together, and it
    /// runs its own work (price ticks) on the engine's `executor`, never beside it. A venue with a
    /// file of its own registers it with `groupCommit` and leaves its writes staged until
    /// `commitStaged()`, which the engine calls in every flush. Network venues keep the defaults.
    func join(_ groupCommit: GroupCommit, ledger: SQLiteDatabase, executor: any SerialExecutor) throws(StorageError)
    /// True once the venue writes in the ledger's transaction (see `join`): an order's intent then
    /// needs no commit of its own before the venue call, since no commit can hold the venue's
    /// record of the order without the intent written before it.
    var writesInLedgerTransaction: Bool { get }
    func commitStaged() throws(StorageError)
}

extension VenueClient {
    public var nativeOrderTypes: Set<OrderType> { [.market, .limit] }
    public func join(
        _ groupCommit: GroupCommit, ledger: SQLiteDatabase, executor: any SerialExecutor
    )
        throws(StorageError)
    {}
    public var writesInLedgerTransaction: Bool { false }
    public func commitStaged() throws(StorageError) {}
}

public struct Quote: Sendable, Hashable {
    public var bid: Fixed
    public var ask: Fixed
    public init(bid: Fixed, ask: Fixed) {
        self.bid = bid
        self.ask = ask
    }
    public var mid: Fixed { Fixed(units: (bid.units + ask.units) / 2) }
    /// The price a market order of `side` would take.
    public func touch(for side: Side) -> Fixed { side == .buy ? ask : bid }
}

public struct VenueOrderRequest: Sendable, Hashable {
    public var clientOrderID: String
    public var instrument: InstrumentID
    public var side: Side
    public var type: OrderType
    public var timeInForce: TimeInForce
    public var quantity: Fixed
    public var limitPrice: Fixed
    /// For a venue that runs STOP / STOP_LIMIT / TRAILING_STOP natively.
    public var stopPrice: Fixed = .zero
    public var trailingOffset: Fixed = .zero
    public var trailingBps: Int64 = 0

    public init(
        clientOrderID: String, instrument: InstrumentID, side: Side, type: OrderType, timeInForce: TimeInForce,
        quantity: Fixed, limitPrice: Fixed
    ) {
        self.clientOrderID = clientOrderID
        self.instrument = instrument
        self.side = side
        self.type = type
        self.timeInForce = timeInForce
        self.quantity = quantity
        self.limitPrice = limitPrice
    }
}

/// The venue's state of one order, with every fill it has had so far.
public struct VenueOrderReport: Sendable, Hashable {
    public enum State: String, Sendable {
        case accepted, partiallyFilled, filled, canceled, rejected, expired
    }
    public var clientOrderID: String
    public var venueOrderID: String
    public var state: State
    public var fills: [VenueFill]
    public var rejectReason: String

    public init(
        clientOrderID: String, venueOrderID: String, state: State, fills: [VenueFill], rejectReason: String = ""
    ) {
        self.clientOrderID = clientOrderID
        self.venueOrderID = venueOrderID
        self.state = state
        self.fills = fills
        self.rejectReason = rejectReason
    }
}

public struct VenueFill: Sendable, Hashable {
    /// Unique per venue; the ledger deduplicates on it.
    public var tradeID: String
    public var clientOrderID: String
    public var venueOrderID: String
    public var instrument: InstrumentID
    public var side: Side
    public var quantity: Fixed
    public var price: Fixed
    public var fee: Fixed
    public var unixNanos: Int64

    public init(
        tradeID: String, clientOrderID: String, venueOrderID: String, instrument: InstrumentID, side: Side,
        quantity: Fixed, price: Fixed, fee: Fixed, unixNanos: Int64
    ) {
        self.tradeID = tradeID
        self.clientOrderID = clientOrderID
        self.venueOrderID = venueOrderID
        self.instrument = instrument
        self.side = side
        self.quantity = quantity
        self.price = price
        self.fee = fee
        self.unixNanos = unixNanos
    }
}

public enum VenueEvent: Sendable {
    /// An order changed at the venue (e.g. a resting limit order filled). Carries all fills so far.
    case order(VenueOrderReport)
    /// New best prices (every tick): the engine moves trailing stops and fires triggers.
    case quotes([InstrumentID: Quote])
}

/// A venue call that failed. `outcomeUnknown` means the request may have reached the venue:
/// the engine must ask the venue before it does anything else with that order.
public struct VenueError: Error, CustomStringConvertible {
    public enum Kind: Sendable { case rejected, unavailable, outcomeUnknown, notFound }
    public let kind: Kind
    public let message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { "\(kind): \(message)" }
}
