import TradingDomain

/// One order as the engine knows it; the ledger row and the wire `Order` are views of it.
public struct OrderRecord: Sendable, Hashable {
    public let clientOrderID: String
    public var venueOrderID: String
    public let instrument: InstrumentID
    public let side: Side
    public let type: OrderType
    public let timeInForce: TimeInForce
    /// Zero for market orders.
    public let limitPrice: Fixed
    /// The notional asked for when the order was sized by quote quantity; zero otherwise.
    public let quoteQuantity: Fixed
    public internal(set) var progress: OrderProgress
    public internal(set) var averageFillPrice: Fixed
    public internal(set) var rejectReason: String
    public internal(set) var rejectMessage: String
    public let model: String
    public let strategy: String
    public let createdUnixNanos: Int64
    public internal(set) var updatedUnixNanos: Int64
    /// Trigger of STOP / STOP_LIMIT; the current stop of a TRAILING_STOP.
    public internal(set) var stopPrice: Fixed = .zero
    /// TRAILING_STOP distance: a price offset, or basis points of the best price.
    public internal(set) var trailingOffset: Fixed = .zero
    public internal(set) var trailingBps: Int64 = 0
    /// TRAILING_STOP: the best price seen since it was armed (highest bid for a sell, lowest ask for a buy).
    public internal(set) var waterMark: Fixed = .zero
    /// Bracket children: the entry order they wait for.
    public internal(set) var parentID: String = ""
    /// Orders in one group cancel each other when one of them fills (OCO, bracket exits).
    public internal(set) var ocoGroup: String = ""

    public var status: OrderStatus { progress.status }
    public var quantity: Fixed { progress.quantity }
    public var filledQuantity: Fixed { progress.filledQuantity }

    public init(
        clientOrderID: String, venueOrderID: String = "", instrument: InstrumentID, side: Side, type: OrderType,
        timeInForce: TimeInForce, limitPrice: Fixed, quoteQuantity: Fixed, progress: OrderProgress,
        averageFillPrice: Fixed = .zero, rejectReason: String = "", rejectMessage: String = "", model: String,
        strategy: String, createdUnixNanos: Int64, updatedUnixNanos: Int64
    ) {
        self.clientOrderID = clientOrderID
        self.venueOrderID = venueOrderID
        self.instrument = instrument
        self.side = side
        self.type = type
        self.timeInForce = timeInForce
        self.limitPrice = limitPrice
        self.quoteQuantity = quoteQuantity
        self.progress = progress
        self.averageFillPrice = averageFillPrice
        self.rejectReason = rejectReason
        self.rejectMessage = rejectMessage
        self.model = model
        self.strategy = strategy
        self.createdUnixNanos = createdUnixNanos
        self.updatedUnixNanos = updatedUnixNanos
    }

    /// Applies a fill of `quantity` at `price`: the state machine decides the status, the average
    /// fill price is the exact quantity-weighted mean.
    mutating func applyFill(quantity: Fixed, price: Fixed, at unixNanos: Int64) throws(OrderTransitionError) {
        let before = progress.filledQuantity
        try progress.apply(.filled(quantity: quantity))
        averageFillPrice = Fixed.weightedAverage(
            quantity: before, price: averageFillPrice, addQuantity: quantity, addPrice: price)
        updatedUnixNanos = unixNanos
    }

    mutating func apply(_ event: OrderEvent, at unixNanos: Int64) throws(OrderTransitionError) {
        try progress.apply(event)
        updatedUnixNanos = unixNanos
    }

    mutating func reject(reason: String, message: String, at unixNanos: Int64) {
        rejectReason = reason
        rejectMessage = message
        try? progress.apply(.rejected)
        updatedUnixNanos = unixNanos
    }
}

/// One execution, as recorded in the ledger and streamed to OPS.
public struct FillRecord: Sendable, Hashable {
    public let tradeID: String
    public let clientOrderID: String
    public let venueOrderID: String
    public let instrument: InstrumentID
    public let side: Side
    public let quantity: Fixed
    public let price: Fixed
    public let fee: Fixed
    public let model: String
    /// PnL this fill realized for its model, net of its fee.
    public let realizedPnL: Fixed
    public let unixNanos: Int64
}
