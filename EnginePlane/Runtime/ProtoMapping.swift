import EngineCore
import FleetProto
import TradingDomain

/// Domain values to and from their wire form. The engine core never sees protobuf.
extension Fleet_V1_Order {
    init(_ order: OrderRecord) {
        self.init()
        clientOrderID = order.clientOrderID
        venueOrderID = order.venueOrderID
        symbol = order.instrument.description
        side = .init(order.side)
        type = .init(order.type)
        timeInForce = .init(order.timeInForce)
        quantityE8 = order.quantity.units
        limitPriceE8 = order.limitPrice.units
        status = .init(order.status)
        filledQuantityE8 = order.filledQuantity.units
        averageFillPriceE8 = order.averageFillPrice.units
        rejectReason = order.rejectReason
        rejectMessage = order.rejectMessage
        model = order.model
        strategy = order.strategy
        createdUnixNs = order.createdUnixNanos
        updatedUnixNs = order.updatedUnixNanos
        stopPriceE8 = order.stopPrice.units
        trailingOffsetE8 = order.trailingOffset.units
        trailingPercentBps = order.trailingBps
        parentClientOrderID = order.parentID
        ocoGroup = order.ocoGroup
    }
}

extension Fleet_V1_OrderType {
    init(_ type: OrderType) {
        switch type {
        case .market: self = .market
        case .limit: self = .limit
        case .stop: self = .stop
        case .stopLimit: self = .stopLimit
        case .trailingStop: self = .trailingStop
        }
    }
    var domain: OrderType? {
        switch self {
        case .market: .market
        case .limit: .limit
        case .stop: .stop
        case .stopLimit: .stopLimit
        case .trailingStop: .trailingStop
        case .unspecified, .UNRECOGNIZED: nil
        }
    }
}

extension Fleet_V1_Side {
    init(_ side: Side) { self = side == .buy ? .buy : .sell }
    var domain: Side? {
        switch self {
        case .buy: .buy
        case .sell: .sell
        default: nil
        }
    }
}

extension Fleet_V1_TimeInForce {
    init(_ tif: TimeInForce) {
        switch tif {
        case .gtc: self = .gtc
        case .ioc: self = .ioc
        case .fok: self = .fok
        }
    }
}

extension Fleet_V1_OrderStatus {
    init(_ status: OrderStatus) {
        switch status {
        case .pendingSubmit: self = .pendingSubmit
        case .accepted: self = .accepted
        case .partiallyFilled: self = .partiallyFilled
        case .filled: self = .filled
        case .pendingCancel: self = .pendingCancel
        case .canceled: self = .canceled
        case .rejected: self = .rejected
        case .expired: self = .expired
        case .held: self = .held
        }
    }
}

extension Fleet_V1_TradingMode {
    init(_ mode: TradingMode) {
        switch mode {
        case .active: self = .active
        case .closeOnly: self = .closeOnly
        case .halted: self = .halted
        }
    }
    var domain: TradingMode? {
        switch self {
        case .active: .active
        case .closeOnly: .closeOnly
        case .halted: .halted
        default: nil
        }
    }
}

extension Fleet_V1_Account {
    init(_ account: AccountSummary) {
        self.init()
        cashE8 = account.cash.units
        equityE8 = account.equity.units
        realizedPnlE8 = account.realizedPnL.units
        unrealizedPnlE8 = account.unrealizedPnL.units
        feesE8 = account.fees.units
    }
}

extension Fleet_V1_Mark {
    init(_ instrument: InstrumentID, _ quote: Quote) {
        self.init()
        symbol = instrument.description
        bidE8 = quote.bid.units
        askE8 = quote.ask.units
    }
}

extension Fleet_V1_Event {
    init(_ envelope: Engine.EventEnvelope) {
        self.init()
        seq = envelope.seq
        unixNs = envelope.unixNanos
        switch envelope.event {
        case .order(let order):
            self.order = Fleet_V1_Order(order)
        case .fill(let fill):
            var wire = Fleet_V1_Fill()
            wire.clientOrderID = fill.clientOrderID
            wire.venueOrderID = fill.venueOrderID
            wire.tradeID = fill.tradeID
            wire.symbol = fill.instrument.description
            wire.side = .init(fill.side)
            wire.quantityE8 = fill.quantity.units
            wire.priceE8 = fill.price.units
            wire.feeE8 = fill.fee.units
            wire.model = fill.model
            wire.realizedPnlE8 = fill.realizedPnL.units
            wire.unixNs = fill.unixNanos
            self.fill = wire
        case .risk(let notice):
            var wire = Fleet_V1_RiskEvent()
            wire.kind = notice.kind
            wire.reason = notice.reason
            wire.message = notice.message
            wire.symbol = notice.instrument?.description ?? ""
            wire.clientOrderID = notice.clientOrderID
            wire.model = notice.model
            self.risk = wire
        case .heartbeat(let account, let marks, let mode):
            var wire = Fleet_V1_Heartbeat()
            wire.account = .init(account)
            wire.marks = marks.sorted { $0.key < $1.key }.map { Fleet_V1_Mark($0.key, $0.value) }
            wire.tradingMode = .init(mode)
            self.heartbeat = wire
        }
    }
}

extension Fleet_V1_Snapshot {
    init(_ snapshot: EngineSnapshot, engineID: String, venue: Venue) {
        self.init()
        self.engineID = engineID
        self.venue = venue.rawValue
        tradingMode = .init(snapshot.mode)
        tradingModeReason = snapshot.modeReason
        account = .init(snapshot.account)
        positions = snapshot.positions.map { Fleet_V1_Position($0.instrument, $0.lot, mark: $0.mark) }
        openOrders = snapshot.openOrders.map(Fleet_V1_Order.init)
        models = snapshot.models.map { view in
            var model = Fleet_V1_ModelPnL()
            model.model = view.model
            model.realizedPnlE8 = view.stats.realizedPnL.units
            model.unrealizedPnlE8 = view.unrealizedPnL.units
            model.fills = UInt64(view.stats.fills)
            model.winningCloses = UInt64(view.stats.winningCloses)
            model.losingCloses = UInt64(view.stats.losingCloses)
            model.positions = view.lots.sorted { $0.key < $1.key }.map { instrument, lot in
                Fleet_V1_Position(instrument, lot, mark: snapshot.marks[instrument]?.mid ?? .zero)
            }
            return model
        }
        marks = snapshot.marks.sorted { $0.key < $1.key }.map { Fleet_V1_Mark($0.key, $0.value) }
        lastEventSeq = snapshot.lastEventSeq
        unixNs = WallClock.nowUnixNanos()
    }
}

extension Fleet_V1_Position {
    init(_ instrument: InstrumentID, _ lot: PositionLot, mark: Fixed) {
        self.init()
        symbol = instrument.description
        quantityE8 = lot.quantity.units
        averagePriceE8 = lot.averagePrice.units
        markPriceE8 = mark.units
        realizedPnlE8 = lot.realizedPnL.units
        unrealizedPnlE8 = lot.unrealizedPnL(mark: mark).units
    }
}
