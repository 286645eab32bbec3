import TradingDomain

/// Cash, positions and PnL of one venue account, with each model's share of it.
///
/// Average-cost accounting (`PositionLot`); fees come out of cash and out of the model's realized
/// PnL. Equity = cash + Σ position × mark.
public struct Portfolio: Sendable {
    public struct ModelKey: Sendable, Hashable {
        public var model: String
        public var instrument: InstrumentID
    }

    public struct ModelStats: Sendable, Hashable {
        /// Net of fees.
        public var realizedPnL: Fixed = .zero
        public var fills: Int64 = 0
        public var winningCloses: Int64 = 0
        public var losingCloses: Int64 = 0
    }

    public internal(set) var cash: Fixed
    public internal(set) var fees: Fixed = .zero
    public internal(set) var positions: [InstrumentID: PositionLot] = [:]
    public internal(set) var modelLots: [ModelKey: PositionLot] = [:]
    public internal(set) var modelStats: [String: ModelStats] = [:]

    public init(cash: Fixed) { self.cash = cash }

    /// Applies one fill; returns the PnL it realized for its model, net of its fee.
    mutating func apply(
        instrument: InstrumentID, side: Side, quantity: Fixed, price: Fixed, fee: Fixed, model: String
    ) -> Fixed {
        let notional = quantity.multiplied(by: price) ?? .zero
        cash += side == .buy ? -notional : notional
        cash -= fee
        fees += fee
        positions[instrument, default: PositionLot()].apply(side: side, quantity: quantity, price: price)
        let key = ModelKey(model: model, instrument: instrument)
        let gross = modelLots[key, default: PositionLot()].apply(side: side, quantity: quantity, price: price)
        let net = gross - fee
        var stats = modelStats[model, default: ModelStats()]
        stats.realizedPnL += net
        stats.fills += 1
        if !gross.isZero {
            if net.isPositive { stats.winningCloses += 1 } else { stats.losingCloses += 1 }
        }
        modelStats[model] = stats
        return net
    }

    public func position(_ instrument: InstrumentID) -> Fixed { positions[instrument]?.quantity ?? .zero }

    /// Realized PnL of the whole account, gross of fees.
    public var realizedPnL: Fixed { positions.values.reduce(.zero) { $0 + $1.realizedPnL } }

    public func unrealizedPnL(marks: [InstrumentID: Fixed]) -> Fixed {
        positions.reduce(.zero) { sum, entry in sum + entry.value.unrealizedPnL(mark: marks[entry.key] ?? .zero) }
    }

    public func equity(marks: [InstrumentID: Fixed]) -> Fixed {
        positions.reduce(cash) { sum, entry in
            sum + ((marks[entry.key] ?? entry.value.averagePrice).multiplied(by: entry.value.quantity) ?? .zero)
        }
    }

    public func unrealizedPnL(model: String, marks: [InstrumentID: Fixed]) -> Fixed {
        modelLots.reduce(.zero) { sum, entry in
            entry.key.model == model ? sum + entry.value.unrealizedPnL(mark: marks[entry.key.instrument] ?? .zero) : sum
        }
    }
}
