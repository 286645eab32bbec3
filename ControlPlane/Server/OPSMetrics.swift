import Prometheus
import Telemetry

/// OPS's own metrics (docs/metrics.md).
final class OPSMetrics: Sendable {
    let registry = MetricsRegistry()
    let signalLatency: LatencyHistogram
    /// The two outcomes of nearly every signal, looked up once (a registry lookup hashes the
    /// name and labels under a lock: ~1% of OPS's loop per signal).
    private let accepted: Counter
    private let rejected: Counter

    init() {
        signalLatency = registry.latencyHistogram(
            MetricNames.signalLatency, help: "Time from a signal's arrival to the engine's answer")
        accepted = Self.signalCounter(registry, outcome: "accepted")
        rejected = Self.signalCounter(registry, outcome: "rejected")
    }

    func signal(outcome: String) {
        switch outcome {
        case "accepted": accepted.increment()
        case "rejected": rejected.increment()
        default: Self.signalCounter(registry, outcome: outcome).increment()
        }
    }

    private static func signalCounter(_ registry: MetricsRegistry, outcome: String) -> Counter {
        registry.counter(MetricNames.signals, labels: [("outcome", outcome)], help: "Signals received, by outcome")
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
