import Logging
import Storage
import TradingDomain

extension Engine {
    /// Handles one venue-pushed event (a resting order filled, canceled, ...).
    public func handle(_ event: VenueEvent) async {
        switch event {
        case .quotes(let quotes):
            await handleQuotes(quotes)
        case .order(let report):
            do {
                try apply(report)
                try commitAndPublish()
                try await settleContingents()
            } catch {
                logger.error(
                    "could not apply a venue report",
                    metadata: ["client_order_id": "\(report.clientOrderID)", "error": "\(error)"])
            }
        }
    }

    /// Brings our order in line with the venue's report: acknowledgement, new fills (each trade id
    /// once, ever), then a terminal state. Idempotent: applying the same report twice changes nothing.
    func apply(_ report: VenueOrderReport) throws(EngineError) {
        guard
            var order = cachedOrder(report.clientOrderID) ?? (try? ledger.order(report.clientOrderID))
        else {
            audit.record(
                "external_order", [("client_order_id", report.clientOrderID), ("venue_order_id", report.venueOrderID)])
            logger.warning(
                "venue reported an order this engine did not make",
                metadata: ["client_order_id": "\(report.clientOrderID)"])
            return
        }
        let now = WallClock.nowUnixNanos()
        let before = order
        if !report.venueOrderID.isEmpty { order.venueOrderID = report.venueOrderID }
        if report.state == .rejected {
            if order.status == .pendingSubmit {
                order.reject(reason: RejectReason.venueRejected.rawValue, message: report.rejectReason, at: now)
                observer.orderRejected(model: order.model, reason: RejectReason.venueRejected.rawValue)
            }
        } else if order.status == .pendingSubmit {
            try? order.apply(.accepted, at: now)
        }
        for fill in report.fills {
            let known: Bool
            do { known = try ledger.hasFill(tradeID: fill.tradeID) } catch {
                throw EngineError(.internalError, "\(error)")
            }
            if known { continue }
            do {
                try order.applyFill(quantity: fill.quantity, price: fill.price, at: now)
            } catch {
                audit.order("fill_refused", order, extra: [("trade_id", fill.tradeID), ("error", "\(error)")])
                logger.error(
                    "venue fill does not fit the order", metadata: ["trade_id": "\(fill.tradeID)", "error": "\(error)"])
                continue
            }
            let realized = portfolio.apply(
                instrument: fill.instrument, side: fill.side, quantity: fill.quantity, price: fill.price, fee: fill.fee,
                model: order.model)
            let record = FillRecord(
                tradeID: fill.tradeID, clientOrderID: order.clientOrderID, venueOrderID: fill.venueOrderID,
                instrument: fill.instrument, side: fill.side, quantity: fill.quantity, price: fill.price, fee: fill.fee,
                model: order.model, realizedPnL: realized, unixNanos: fill.unixNanos)
            let modelKey = Portfolio.ModelKey(model: order.model, instrument: fill.instrument)
            try write { () throws(StorageError) in try ledger.insert(record) }
            // Positions, model stats and cash are written once per flush, in the fill's transaction.
            dirtyLots.insert(Portfolio.ModelKey(model: "", instrument: fill.instrument))
            dirtyLots.insert(modelKey)
            dirtyStats.insert(order.model)
            audit.fill(record)
            pendingEvents.append(.fill(record))
            fillsRecorded += 1
            if !(realized + fill.fee).isZero {
                // The fill closed part of a position (its gross PnL is not zero): it ends or extends a streak.
                recordClose(realized: realized, model: order.model)
            }
            observer.fillRecorded(record, modelRealizedPnL: portfolio.modelStats[order.model]?.realizedPnL ?? .zero)
            if order.status == .filled {
                observer.orderFilled(model: order.model, latencyNanos: fill.unixNanos - order.createdUnixNanos)
            }
        }
        switch report.state {
        case .canceled: try? order.apply(.canceled, at: now)
        case .expired: try? order.apply(.expired, at: now)
        case .accepted, .partiallyFilled, .filled, .rejected: break
        }
        if order != before {
            try record(order)
            if order.status != before.status { audit.order(AuditTrail.statusKind(order.status), order) }
        }
    }
}
