/// Why an order was refused. The raw value is the `reason` label of `orders_rejected_total`, the
/// `reject_reason` on the wire and in the audit; docs/risk.md explains each.
public enum RejectReason: String, Sendable, CaseIterable {
    case killSwitch = "KILL_SWITCH"
    case tradingHalted = "TRADING_HALTED"
    case closeOnly = "CLOSE_ONLY"
    case symbolNotAllowed = "SYMBOL_NOT_ALLOWED"
    case noMarketPrice = "NO_MARKET_PRICE"
    case quantityBelowLot = "QUANTITY_BELOW_LOT"
    case quantityNotLotMultiple = "QUANTITY_NOT_LOT_MULTIPLE"
    case notionalBelowMin = "NOTIONAL_BELOW_MIN"
    case notionalAboveMax = "NOTIONAL_ABOVE_MAX"
    case positionLimit = "POSITION_LIMIT"
    case grossExposure = "GROSS_EXPOSURE"
    case maxOpenOrders = "MAX_OPEN_ORDERS"
    case lossPause = "LOSS_PAUSE"
    case rateLimit = "RATE_LIMIT"
    case circuitOpen = "CIRCUIT_OPEN"
    case venueRejected = "VENUE_REJECTED"
    case notSent = "NOT_SENT"
}
