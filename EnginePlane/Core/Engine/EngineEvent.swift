import TradingDomain

/// What the engine streams to its subscribers (OPS), each with a sequence number.
public enum EngineEvent: Sendable {
    case order(OrderRecord)
    case fill(FillRecord)
    case risk(RiskNotice)
    case heartbeat(AccountSummary, marks: [InstrumentID: Quote], mode: TradingMode)

    /// An order's state (what a subscriber may ask to leave out).
    public var isOrder: Bool {
        if case .order = self { true } else { false }
    }
}

/// A risk decision worth telling OPS about: a denied order, a mode change.
public struct RiskNotice: Sendable, Hashable {
    public var kind: String
    public var reason: String
    public var message: String
    public var instrument: InstrumentID?
    public var clientOrderID: String
    public var model: String
}

public struct AccountSummary: Sendable, Hashable {
    public var cash: Fixed
    public var equity: Fixed
    public var realizedPnL: Fixed
    public var unrealizedPnL: Fixed
    public var fees: Fixed
}

/// The engine's state at one instant: what GetSnapshot returns and OPS re-syncs from.
public struct EngineSnapshot: Sendable {
    public struct PositionView: Sendable {
        public var instrument: InstrumentID
        public var lot: PositionLot
        public var mark: Fixed
    }
    public struct ModelView: Sendable {
        public var model: String
        public var stats: Portfolio.ModelStats
        public var unrealizedPnL: Fixed
        /// This model's lots, by instrument.
        public var lots: [InstrumentID: PositionLot]
    }
    public var mode: TradingMode
    public var modeReason: String
    public var account: AccountSummary
    public var positions: [PositionView]
    public var openOrders: [OrderRecord]
    public var models: [ModelView]
    public var marks: [InstrumentID: Quote]
    public var lastEventSeq: UInt64
}
