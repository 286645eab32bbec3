/// The vocabulary of an order: side, type, time in force, trading mode.

public enum Side: String, Sendable, Hashable, Codable, CaseIterable {
    case buy = "BUY"
    case sell = "SELL"

    /// +1 for buy, -1 for sell: the sign a fill of this side adds to a position.
    @inlinable public var sign: Int64 { self == .buy ? 1 : -1 }
    public var opposite: Side { self == .buy ? .sell : .buy }
}

public enum OrderType: String, Sendable, Hashable, Codable, CaseIterable {
    case market = "MARKET"
    case limit = "LIMIT"
    /// A market order once the stop price trades.
    case stop = "STOP"
    /// A limit order once the stop price trades.
    case stopLimit = "STOP_LIMIT"
    /// A stop that follows the best price by an offset or a percentage.
    case trailingStop = "TRAILING_STOP"

    /// Orders that wait for a price before they go to the venue.
    public var isTriggered: Bool { self == .stop || self == .stopLimit || self == .trailingStop }
    /// Orders that carry a limit price.
    public var hasLimitPrice: Bool { self == .limit || self == .stopLimit }
}

public enum TimeInForce: String, Sendable, Hashable, Codable, CaseIterable {
    case gtc = "GTC"
    case ioc = "IOC"
    case fok = "FOK"
}

/// What an engine lets out. Kill switches and operators move it; risk rails read it first.
public enum TradingMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Everything the other rails admit.
    case active = "ACTIVE"
    /// Only orders that reduce an open position.
    case closeOnly = "CLOSE_ONLY"
    /// Nothing leaves.
    case halted = "HALTED"
}
