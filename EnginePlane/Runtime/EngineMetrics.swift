import EngineCore
import Prometheus
import Synchronization
import Telemetry
import TradingDomain

/// The engine's Prometheus metrics, fed by the engine's observer hooks (docs/metrics.md).
final class EngineMetrics: EngineObserver {
    let registry = MetricsRegistry()
    private let venue: String
    private let equity: GaugeMetric
    private let openOrders: GaugeMetric
    private let mode: GaugeMetric
    private let ready: GaugeMetric
    private let fillLatency: LatencyHistogram
    private let ledgerWrite: LatencyHistogram
    /// The per-model series, looked up in the registry once per model rather than on every order.
    private struct ModelSeries {
        let submitted: CounterMetric
        let filled: CounterMetric
        let fills: CounterMetric
        let realized: GaugeMetric
    }
    private let models = Mutex<[String: ModelSeries]>([:])

    private func series(_ model: String) -> ModelSeries {
        if let known = models.withLock({ $0[model] }) { return known }
        let labels = [("venue", venue), ("model", model)]
        let made = ModelSeries(
            submitted: registry.counter(MetricNames.ordersSubmitted, labels: labels, help: "Orders sent to the venue"),
            filled: registry.counter(MetricNames.ordersFilled, labels: labels, help: "Orders completely filled"),
            fills: registry.counter(MetricNames.fills, labels: labels, help: "Executions recorded"),
            realized: registry.gauge(MetricNames.pnlRealized, labels: labels, help: "Realized PnL in USD net of fees"))
        models.withLock { $0[model] = made }
        return made
    }

    init(venue: Venue) {
        self.venue = venue.rawValue
        equity = registry.gauge(
            MetricNames.equity, labels: [("venue", venue.rawValue)], help: "Account equity in USD at mid prices")
        openOrders = registry.gauge(
            MetricNames.openOrders, labels: [("venue", venue.rawValue)], help: "Orders that can still trade")
        mode = registry.gauge(
            MetricNames.tradingMode, labels: [("venue", venue.rawValue)],
            help: "Trading mode: 0 active, 1 close-only, 2 halted")
        ready = registry.gauge(
            MetricNames.engineReady, labels: [("venue", venue.rawValue)], help: "1 once recovery is done")
        fillLatency = registry.latencyHistogram(
            MetricNames.fillLatency, labels: [("venue", venue.rawValue)],
            help: "Time from order intent to its completing fill")
        ledgerWrite = registry.latencyHistogram(
            MetricNames.ledgerWriteLatency, labels: [("venue", venue.rawValue)],
            help: "Time to commit a ledger transaction (fsync included)")
    }

    func setReady(_ value: Bool) { ready.set(to: value ? 1 : 0) }

    func setRunMode(_ mode: RunMode) {
        for candidate in RunMode.allCases {
            registry.gauge(
                MetricNames.engineRunMode, labels: [("venue", venue), ("mode", candidate.rawValue)],
                help: "1 for the mode the engine runs in: paper, dry-live or live"
            ).set(to: candidate == mode ? 1 : 0)
        }
    }

    func riskState(breaker: Int, killSwitch: Int) {
        registry.gauge(
            MetricNames.breakerState, labels: [("venue", venue)], help: "Venue breaker: 0 closed, 1 open, 2 half-open"
        ).set(to: Double(breaker))
        registry.gauge(
            MetricNames.killSwitch, labels: [("venue", venue)],
            help: "Kill switch: 0 off, 1 close-only, 2 halt, 3 hard kill"
        ).set(to: Double(killSwitch))
    }

    func reconciliationMismatch(kind: String) {
        registry.counter(
            MetricNames.reconciliationMismatches, labels: [("venue", venue), ("kind", kind)],
            help: "Differences found between the engine and the venue"
        ).increment()
    }

    func orderSubmitted(model: String) { series(model).submitted.increment() }

    func orderRejected(model: String, reason: String) {
        registry.counter(
            MetricNames.ordersRejected, labels: [("venue", venue), ("model", model), ("reason", reason)],
            help: "Orders refused by risk rails or the venue"
        ).increment()
    }

    func orderFilled(model: String, latencyNanos: Int64) {
        series(model).filled.increment()
        fillLatency.recordNanoseconds(max(0, latencyNanos))
    }

    func fillRecorded(_ fill: FillRecord, modelRealizedPnL: Fixed) {
        let series = series(fill.model)
        series.fills.increment()
        series.realized.set(to: modelRealizedPnL.asMetricValue)
    }

    func accountUpdated(_ account: AccountSummary, openOrders count: Int, mode current: TradingMode) {
        equity.set(to: account.equity.asMetricValue)
        openOrders.set(to: Double(count))
        mode.set(to: current == .active ? 0 : current == .closeOnly ? 1 : 2)
    }

    func ledgerCommitted(nanos: Int64) { ledgerWrite.recordNanoseconds(nanos) }
}

extension Fixed {
    /// For metric exposition only: Prometheus samples are floats. Money itself never is.
    var asMetricValue: Double { Double(units) / Double(Fixed.unitsPerOne) }
}
