import Prometheus

/// The process's metrics registry. swift-prometheus renders the text format; the HTTP layer of
/// each binary serves it at /metrics.
public typealias MetricsRegistry = PrometheusCollectorRegistry
public typealias CounterMetric = Counter
public typealias GaugeMetric = Gauge
public typealias LatencyHistogram = DurationHistogram

extension PrometheusCollectorRegistry {
    /// Latency buckets from 50 µs to 10 s, covering a loopback ack and a slow venue alike.
    public static let latencyBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
        .seconds(10),
    ]

    /// The Prometheus text exposition.
    public func render() -> [UInt8] {
        var buffer = [UInt8]()
        buffer.reserveCapacity(16 * 1024)
        emit(into: &buffer)
        return buffer
    }
}

extension PrometheusCollectorRegistry {
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        // The full name is passed whole (names live in MetricNames); the unit is part of it.
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    public func counter(_ name: String, labels: [(String, String)] = [], help: String) -> Counter {
        makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
    }

    public func gauge(_ name: String, labels: [(String, String)] = [], help: String) -> Gauge {
        makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
    }

    public func latencyHistogram(_ name: String, labels: [(String, String)] = [], help: String) -> DurationHistogram {
        makeDurationHistogram(descriptor: Self.descriptor(name, help), labels: labels, buckets: Self.latencyBuckets)
    }
}
