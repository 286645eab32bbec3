import TradingDomain

/// The limits the rails enforce, from the engine's `--config` file (or defaults).
public struct RiskLimits: Sendable, Hashable {
    public struct SymbolLimits: Sendable, Hashable {
        /// Largest absolute position, in base units, counting open orders on the same side.
        public var maxPosition: Fixed
        /// Quote-sized orders are rounded down to a multiple of this; other quantities must be one.
        public var lotSize: Fixed
        public init(maxPosition: Fixed, lotSize: Fixed) {
            self.maxPosition = maxPosition
            self.lotSize = lotSize
        }
    }

    /// The allowlist: only these instruments trade.
    public var symbols: [InstrumentID: SymbolLimits]
    /// Per-order notional bounds, in the quote currency.
    public var minNotional: Fixed
    public var maxNotional: Fixed
    /// Σ |position × mark| over all instruments, after the order, in the quote currency.
    public var maxGrossExposure: Fixed?
    /// Orders that can still trade (pending, accepted, partially filled, pending cancel).
    public var maxOpenOrders: Int?
    /// Token buckets: all orders, and each instrument's.
    public var orderRate: Rate?
    public var symbolOrderRate: Rate?
    /// Venue transport errors before the breaker opens.
    public var breaker: Breaker?
    /// Loss of equity since the UTC day began that switches the engine to close-only.
    public var dailyLossLimit: Fixed?
    /// Fall of equity from its high-water mark that halts the engine.
    public var maxDrawdown: Fixed?
    /// Losing closes in a row that pause new entries.
    public var consecutiveLossPause: LossPause?

    public struct Rate: Sendable, Hashable {
        public var perSecond: Int64
        public var burst: Int64
        public init(perSecond: Int64, burst: Int64) {
            self.perSecond = perSecond
            self.burst = burst
        }
    }

    public struct Breaker: Sendable, Hashable {
        public var errors: Int
        public var windowSeconds: Int64
        public var cooldownSeconds: Int64
        public init(errors: Int, windowSeconds: Int64, cooldownSeconds: Int64) {
            self.errors = errors
            self.windowSeconds = windowSeconds
            self.cooldownSeconds = cooldownSeconds
        }
    }

    public struct LossPause: Sendable, Hashable {
        public var losses: Int
        public var pauseSeconds: Int64
        public init(losses: Int, pauseSeconds: Int64) {
            self.losses = losses
            self.pauseSeconds = pauseSeconds
        }
    }

    public init(
        symbols: [InstrumentID: SymbolLimits], minNotional: Fixed, maxNotional: Fixed, maxGrossExposure: Fixed? = nil,
        maxOpenOrders: Int? = nil, orderRate: Rate? = nil, symbolOrderRate: Rate? = nil, breaker: Breaker? = nil,
        dailyLossLimit: Fixed? = nil, maxDrawdown: Fixed? = nil, consecutiveLossPause: LossPause? = nil
    ) {
        self.symbols = symbols
        self.minNotional = minNotional
        self.maxNotional = maxNotional
        self.maxGrossExposure = maxGrossExposure
        self.maxOpenOrders = maxOpenOrders
        self.orderRate = orderRate
        self.symbolOrderRate = symbolOrderRate
        self.breaker = breaker
        self.dailyLossLimit = dailyLossLimit
        self.maxDrawdown = maxDrawdown
        self.consecutiveLossPause = consecutiveLossPause
    }
}
