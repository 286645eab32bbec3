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

    public init(symbols: [InstrumentID: SymbolLimits], minNotional: Fixed, maxNotional: Fixed) {
        self.symbols = symbols
        self.minNotional = minNotional
        self.maxNotional = maxNotional
    }
}
