import TradingDomain

/// Every order that can still change, by client order id, with the two aggregates the hot path
/// asks for kept in step on each change — so a submit costs the same with 1 or 10,000 orders open:
/// the open quantity per instrument and side (the risk rails' same-side exposure), and the ids of
/// the orders in an OCO group or under a bracket parent (the only ones contingent settling visits).
struct OpenOrders: Sequence {
    private struct SideKey: Hashable {
        let instrument: InstrumentID
        let side: Side
    }

    private var byID: [String: OrderRecord] = [:]
    private var sameSide: [SideKey: Fixed] = [:]
    /// Ids of the open orders with an OCO group or a parent.
    private(set) var contingentIDs: Set<String> = []

    subscript(clientOrderID: String) -> OrderRecord? {
        get { byID[clientOrderID] }
        set {
            if let newValue { upsert(newValue) } else { _ = removeValue(forKey: clientOrderID) }
        }
    }

    var values: Dictionary<String, OrderRecord>.Values { byID.values }
    var count: Int { byID.count }

    func makeIterator() -> Dictionary<String, OrderRecord>.Iterator { byID.makeIterator() }

    mutating func upsert(_ order: OrderRecord) {
        if let old = byID.updateValue(order, forKey: order.clientOrderID) { account(old, sign: -1) }
        account(order, sign: 1)
    }

    @discardableResult
    mutating func removeValue(forKey clientOrderID: String) -> OrderRecord? {
        guard let old = byID.removeValue(forKey: clientOrderID) else { return nil }
        account(old, sign: -1)
        return old
    }

    /// The unfilled quantity of the open top-level orders on `instrument`'s `side`, but `excluded`.
    func openQuantity(_ instrument: InstrumentID, _ side: Side, excluding excluded: String) -> Fixed {
        let total = sameSide[SideKey(instrument: instrument, side: side)] ?? .zero
        guard let own = byID[excluded], own.instrument == instrument, own.side == side else { return total }
        return total - Self.exposure(of: own)
    }

    /// The open orders that belong to an OCO group or a bracket.
    var contingent: [OrderRecord] { contingentIDs.compactMap { byID[$0] } }

    private static func exposure(of order: OrderRecord) -> Fixed {
        order.parentID.isEmpty ? order.progress.remainingQuantity : .zero
    }

    private mutating func account(_ order: OrderRecord, sign: Int64) {
        let exposure = Self.exposure(of: order)
        if !exposure.isZero {
            let key = SideKey(instrument: order.instrument, side: order.side)
            let total = (sameSide[key] ?? .zero) + (sign > 0 ? exposure : -exposure)
            sameSide[key] = total.isZero ? nil : total
        }
        if !order.ocoGroup.isEmpty || !order.parentID.isEmpty {
            if sign > 0 { contingentIDs.insert(order.clientOrderID) } else { contingentIDs.remove(order.clientOrderID) }
        }
    }
}
