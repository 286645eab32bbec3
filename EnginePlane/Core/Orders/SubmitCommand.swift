import TradingDomain

/// A request to place one order, as the RPC layer hands it to the engine.
public struct SubmitCommand: Sendable, Hashable {
    public var clientOrderID: String
    public var instrument: InstrumentID
    public var side: Side
    public var type: OrderType
    public var timeInForce: TimeInForce?
    /// Base quantity, or zero when `quoteQuantity` sizes the order.
    public var quantity: Fixed
    /// Notional in the quote currency, converted at the engine's touch price.
    public var quoteQuantity: Fixed
    public var limitPrice: Fixed
    public var model: String
    public var strategy: String
    /// STOP, STOP_LIMIT trigger.
    public var stopPrice: Fixed = .zero
    /// TRAILING_STOP distance: an offset or basis points (one of them).
    public var trailingOffset: Fixed = .zero
    public var trailingBps: Int64 = 0
    /// Bracket exits; either makes the order a bracket entry.
    public var takeProfitPrice: Fixed = .zero
    public var stopLossPrice: Fixed = .zero
    /// OCO: a STOP leg at this price beside a LIMIT order.
    public var ocoStopPrice: Fixed = .zero

    public var isBracket: Bool { takeProfitPrice.isPositive || stopLossPrice.isPositive }

    public init(
        clientOrderID: String, instrument: InstrumentID, side: Side, type: OrderType, timeInForce: TimeInForce? = nil,
        quantity: Fixed, quoteQuantity: Fixed = .zero, limitPrice: Fixed = .zero, model: String, strategy: String = ""
    ) {
        self.clientOrderID = clientOrderID
        self.instrument = instrument
        self.side = side
        self.type = type
        self.timeInForce = timeInForce
        self.quantity = quantity
        self.quoteQuantity = quoteQuantity
        self.limitPrice = limitPrice
        self.model = model
        self.strategy = strategy
    }

    var effectiveTimeInForce: TimeInForce { timeInForce ?? (type == .market ? .ioc : .gtc) }

    /// True when `order` was made from this same request (a retry), false when the id is reused
    /// for something else.
    func matches(_ order: OrderRecord) -> Bool {
        order.instrument == instrument && order.side == side && order.type == type
            && order.limitPrice == limitPrice && order.model == model
            && (order.type != .stop && order.type != .stopLimit || order.stopPrice == stopPrice)
            && order.trailingOffset == trailingOffset && order.trailingBps == trailingBps
            && (quoteQuantity.isZero
                ? order.quantity == quantity && order.quoteQuantity.isZero : order.quoteQuantity == quoteQuantity)
    }
}

/// What a submit produced.
public struct SubmitOutcome: Sendable {
    public let order: OrderRecord
    /// The client order id was already known: `order` is the existing order, nothing new was sent.
    public let duplicate: Bool
    /// Legs the engine created with it (bracket exits, the OCO stop).
    public var legs: [OrderRecord] = []
}

/// A command the engine refuses before anything is recorded.
public struct EngineError: Error, CustomStringConvertible, Equatable {
    public enum Code: Sendable, Equatable {
        case invalidArgument, alreadyExists, notFound, failedPrecondition, unavailable, internalError
    }
    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}
