import Prometheus
import Telemetry

/// OPS's own metrics (docs/metrics.md).
final class OPSMetrics: Sendable {
    let registry = MetricsRegistry()
    let signalLatency: LatencyHistogram

    init() {
        signalLatency = registry.latencyHistogram(
            MetricNames.signalLatency, help: "Time from a signal's arrival to the engine's answer")
    }

    func signal(outcome: String) {
        registry.counter(MetricNames.signals, labels: [("outcome", outcome)], help: "Signals received, by outcome")
            .increment()
    }

    func engine(_ id: String, up: Bool) {
        registry.gauge(MetricNames.engineUp, labels: [("engine", id)], help: "1 while the link to the engine is up")
            .set(to: up ? 1 : 0)
    }

    func reconnect(_ id: String) {
        registry.counter(
            MetricNames.engineReconnects, labels: [("engine", id)], help: "Times the engine link went down"
        )
        .increment()
    }
}
