import Logging
import Storage
import TradingDomain

/// Orders the engine emulates because the venue does not have them natively: stops, stop-limits
/// and trailing stops held until their trigger; OCO pairs; brackets whose exits arm when the
/// entry fills. All of their state (held status, trigger, trailing high-water mark, parent, group)
/// lives in the ledger, so it survives a restart.
extension Engine {
    /// Bracket exits (take-profit LIMIT, stop-loss STOP, OCO with each other, waiting for the entry)
    /// or the OCO stop leg, with ids derived from the parent's so a retry recreates the same ones.
    func makeLegs(for command: SubmitCommand, parent: OrderRecord, quantity: Fixed, at now: Int64) -> [OrderRecord] {
        func leg(
            _ suffix: String, type: OrderType, side: Side, limit: Fixed, stop: Fixed, parentID: String, group: String
        )
            -> OrderRecord
        {
            var order = OrderRecord(
                clientOrderID: "\(command.clientOrderID).\(suffix)", instrument: command.instrument, side: side,
                type: type, timeInForce: .gtc, limitPrice: limit, quoteQuantity: .zero,
                progress: OrderProgress(quantity: quantity, status: .held), model: command.model,
                strategy: command.strategy, createdUnixNanos: now, updatedUnixNanos: now)
            order.stopPrice = stop
            order.parentID = parentID
            order.ocoGroup = group
            return order
        }
        if command.isBracket {
            let exit = command.side.opposite
            let group = "\(command.clientOrderID).exit"
            return [
                leg(
                    "tp", type: .limit, side: exit, limit: command.takeProfitPrice, stop: .zero,
                    parentID: parent.clientOrderID, group: group),
                leg(
                    "sl", type: .stop, side: exit, limit: .zero, stop: command.stopLossPrice,
                    parentID: parent.clientOrderID, group: group),
            ]
        }
        return [
            leg(
                "sl", type: .stop, side: command.side, limit: .zero, stop: command.ocoStopPrice, parentID: "",
                group: command.clientOrderID)
        ]
    }

    func legs(of order: OrderRecord) throws(EngineError) -> [OrderRecord] {
        var out: [OrderRecord] = []
        for suffix in ["tp", "sl"] {
            if let leg = try self.order("\(order.clientOrderID).\(suffix)"),
                leg.parentID == order.clientOrderID || leg.ocoGroup == order.clientOrderID
            {
                out.append(leg)
            }
        }
        return out
    }

    /// The stop of a trailing order for a given high- (sell) or low- (buy) water mark.
    func trailingStop(_ order: OrderRecord, water: Fixed) -> Fixed {
        let distance =
            order.trailingBps > 0
            ? water.multiplied(byRatio: order.trailingBps, over: 10_000, rounding: .up) : order.trailingOffset
        return order.side == .sell ? water - distance : water + distance
    }

    /// New prices: move trailing stops, fire triggers whose price traded. Each fired order goes
    /// through the rails again (mode, kill switch) before it is sent.
    public func handleQuotes(_ quotes: [InstrumentID: Quote]) async {
        var fired: [String] = []
        for (id, order) in open where order.status == .held && order.type.isTriggered {
            guard let quote = quotes[order.instrument], isArmed(order) else { continue }
            var current = order
            if order.type == .trailingStop {
                let price = order.side == .sell ? quote.bid : quote.ask
                let better =
                    order.waterMark.isZero || (order.side == .sell ? price > order.waterMark : price < order.waterMark)
                if better {
                    current.waterMark = price
                    current.stopPrice = trailingStop(order, water: price)
                    stage(current)
                    open[id] = current
                }
            }
            let touched = current.side == .sell ? quote.bid <= current.stopPrice : quote.ask >= current.stopPrice
            if touched { fired.append(id) }
        }
        try? commitAndPublish()
        for id in fired.sorted() { await fire(id, quote: quotes) }
    }

    /// A held order is armed when it has no parent, or its parent (a bracket entry) has filled.
    func isArmed(_ order: OrderRecord) -> Bool {
        guard !order.parentID.isEmpty else { return true }
        return (try? self.order(order.parentID))?.status == .filled
    }

    /// Sends a held order whose trigger fired. OCO: its siblings at the venue are cancelled first,
    /// and if one of them already filled, this order is cancelled instead: never both.
    func fire(_ id: String, quote quotes: [InstrumentID: Quote]) async {
        guard let order = open[id], order.status == .held else { return }
        do {
            if !order.ocoGroup.isEmpty {
                let siblingFilled = try await cancelSiblings(of: order)
                if siblingFilled, var current = open[id], current.status == .held {
                    try current.apply(.canceled, at: WallClock.nowUnixNanos())
                    try record(current)
                    audit.order("oco_cancelled", current)
                    try commitAndPublish()
                    return
                }
            }
            try await release(order, quote: quotes[order.instrument], why: "order_triggered")
        } catch {
            logger.error("could not fire a held order", metadata: ["client_order_id": "\(id)", "error": "\(error)"])
        }
    }

    /// A held order leaves: the rails again (mode, kill switch, rates), then the durable intent,
    /// then the venue.
    func release(_ held: OrderRecord, quote: Quote?, why: String) async throws(EngineError) {
        // Re-read: a sibling's cancel may have closed it while this one was being decided.
        guard var order = open[held.clientOrderID], order.status == .held else { return }
        if case .reject(let reason, let message) = riskVerdict(for: order, quote: quote, gates: true) {
            try deny(&order, reason: reason, message: message, at: WallClock.nowUnixNanos())
            return
        }
        do { try order.apply(.triggered, at: WallClock.nowUnixNanos()) } catch {
            throw EngineError(.failedPrecondition, "\(error)")
        }
        try record(order)
        audit.order(why, order, extra: [("stop_price", order.stopPrice.description)])
        try commitAndPublish()
        observer.orderSubmitted(model: order.model)
        try await send(order.clientOrderID)
    }

    /// Cancels the other open orders of `order`'s OCO group; true if one of them had already filled.
    func cancelSiblings(of order: OrderRecord) async throws(EngineError) -> Bool {
        let siblings = open.values.filter { $0.ocoGroup == order.ocoGroup && $0.clientOrderID != order.clientOrderID }
        var filled = false
        for sibling in siblings {
            if sibling.status == .held {
                var closed = sibling
                try? closed.apply(.canceled, at: WallClock.nowUnixNanos())
                try record(closed)
                audit.order("oco_cancelled", closed)
                continue
            }
            _ = try? await cancelOne(clientOrderID: sibling.clientOrderID, settle: false)
            if let after = try self.order(sibling.clientOrderID), after.filledQuantity.isPositive { filled = true }
        }
        // A sibling that filled before this call counts too.
        let group = try groupMembers(order.ocoGroup)
        if group.contains(where: { $0.clientOrderID != order.clientOrderID && $0.filledQuantity.isPositive }) {
            filled = true
        }
        try commitAndPublish()
        return filled
    }

    private func groupMembers(_ group: String) throws(EngineError) -> [OrderRecord] {
        do {
            try writeDirtyOrders()  // the query must see the members changed in this batch
            return try ledger.orders(inGroup: group)
        } catch {
            throw EngineError(.internalError, "\(error)")
        }
    }

    /// After fills: a filled OCO member cancels the rest of its group; a filled bracket entry sends
    /// its take-profit (its stop-loss stays held, now armed); an entry that closed without filling
    /// cancels its exits.
    func settleContingents() async throws(EngineError) {
        // Plain orders never need settling. Checked here, before the work's own function: an
        // async function's frame (~4 KB there) is allocated whenever it is called.
        guard !open.contingentIDs.isEmpty else { return }
        try await settleContingentGroups()
    }

    @inline(never)
    private func settleContingentGroups() async throws(EngineError) {
        // A member with any fill ends its group: the others are cancelled. Filled members have left
        // the open set, so the groups are found from the members still open.
        let contingent = open.contingent
        guard !contingent.isEmpty else { return }
        let groups = Set(contingent.map(\.ocoGroup).filter { !$0.isEmpty })
        for group in groups.sorted() {
            let members = try groupMembers(group)
            guard let filled = members.first(where: { $0.filledQuantity.isPositive }) else { continue }
            _ = try await cancelSiblings(of: filled)
        }
        for child in open.contingent where !child.parentID.isEmpty && child.status == .held {
            guard let parent = try self.order(child.parentID) else { continue }
            if parent.status == .filled, child.type == .limit {
                try await release(child, quote: venue.quote(child.instrument), why: "bracket_armed")
            } else if !parent.status.isOpen, parent.status != .filled {
                var closed = child
                try? closed.apply(.canceled, at: WallClock.nowUnixNanos())
                try record(closed)
                audit.order("bracket_cancelled", closed, extra: [("parent_status", parent.status.rawValue)])
                try commitAndPublish()
            }
        }
    }

    /// Cancel/replace, atomic from the caller's view: the old order is cancelled at the venue first,
    /// and only once it is closed does the new one go out, so the two are never live together. If
    /// the old order filled in the meantime, nothing new is sent.
    public func replace(
        clientOrderID: String, newClientOrderID: String, quantity: Fixed, limitPrice: Fixed
    ) async throws(EngineError) -> OrderRecord {
        if let existing = try order(newClientOrderID) { return existing }  // a retried replace
        guard let old = try order(clientOrderID) else {
            throw EngineError(.notFound, "no order with client order id '\(clientOrderID)'")
        }
        guard old.status.isOpen else {
            throw EngineError(
                .failedPrecondition, "order '\(clientOrderID)' is \(old.status.rawValue): nothing to replace")
        }
        guard quantity.isPositive else { throw EngineError(.invalidArgument, "the new quantity must be positive") }
        let canceled = try await cancel(clientOrderID: clientOrderID)
        guard canceled.status == .canceled || canceled.status == .expired else {
            throw EngineError(
                .failedPrecondition, "order '\(clientOrderID)' is \(canceled.status.rawValue) and was not replaced")
        }
        let remaining = quantity - canceled.filledQuantity
        guard remaining.isPositive else {
            throw EngineError(
                .failedPrecondition,
                "order '\(clientOrderID)' already filled \(canceled.filledQuantity): nothing left to replace")
        }
        var command = SubmitCommand(
            clientOrderID: newClientOrderID, instrument: old.instrument, side: old.side, type: old.type,
            timeInForce: old.timeInForce, quantity: remaining, limitPrice: old.type.hasLimitPrice ? limitPrice : .zero,
            model: old.model, strategy: old.strategy)
        command.stopPrice = old.type == .stop || old.type == .stopLimit ? old.stopPrice : .zero
        command.trailingOffset = old.trailingOffset
        command.trailingBps = old.trailingBps
        audit.record("replace", [("old", clientOrderID), ("new", newClientOrderID)])
        return try await submit(command).order
    }
}
