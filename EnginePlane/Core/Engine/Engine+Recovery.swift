import Logging
import TradingDomain

extension Engine {
    public struct RecoveryReport: Sendable {
        public var openOrdersChecked = 0
        public var ordersChanged = 0
        public var fillsApplied = 0
        public var notSent = 0
    }

    /// Runs before the engine reports ready: every order the ledger holds as open is checked
    /// against the venue. Fills it missed are applied once; orders the venue closed are settled;
    /// an intent the venue never saw is closed as NOT_SENT (it was never acknowledged, so nothing
    /// was promised, and a retry with the same id returns that outcome rather than a second order).
    public func recover(progress: @Sendable (String) -> Void = { _ in }) async throws(EngineError) -> RecoveryReport {
        var report = RecoveryReport()
        let fillsBefore = (try? ledger.fillCount()) ?? 0
        let orders = open.values.sorted { $0.createdUnixNanos < $1.createdUnixNanos }
        progress("reconciling \(orders.count) open orders with \(venueName.rawValue)")
        for order in orders {
            report.openOrdersChecked += 1
            let venueReport: VenueOrderReport?
            do {
                venueReport = try await venue.order(clientOrderID: order.clientOrderID, instrument: order.instrument)
            } catch {
                throw EngineError(
                    .unavailable, "recovery could not reach the venue for \(order.clientOrderID): \(error)")
            }
            let before = open[order.clientOrderID]
            if let venueReport {
                try apply(venueReport)
            } else if order.status == .pendingSubmit {
                var closed = order
                closed.reject(
                    reason: RejectReason.notSent.rawValue,
                    message: "the engine stopped before the venue received the order", at: WallClock.nowUnixNanos())
                try record(closed)
                audit.order("recovered_not_sent", closed)
                report.notSent += 1
            } else {
                var closed = order
                try? closed.apply(.canceled, at: WallClock.nowUnixNanos())
                try record(closed)
                audit.order("recovered_unknown_at_venue", closed)
            }
            if open[order.clientOrderID] != before { report.ordersChanged += 1 }
        }
        try commitAndPublish()
        report.fillsApplied = Int(((try? ledger.fillCount()) ?? 0) - fillsBefore)
        audit.record(
            "recovered",
            [
                ("open_orders_checked", String(report.openOrdersChecked)),
                ("orders_changed", String(report.ordersChanged)),
                ("fills_applied", String(report.fillsApplied)), ("not_sent", String(report.notSent)),
            ])
        isReady = true
        return report
    }
}
