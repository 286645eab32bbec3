import Histogram
import Synchronization

/// Latencies in nanoseconds in an HDR histogram (3 significant digits), safe from many threads.
final class LatencyRecorder: Sendable {
    private let state = Mutex(
        (
            histogram: Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three),
            errors: [String: Int]()
        ))

    func record(nanos: Int64) {
        state.withLock { _ = $0.histogram.record(UInt64(max(1, nanos))) }
    }

    /// A failed request; `kind` says what failed (a status code, an order's status, an HTTP status).
    func error(_ kind: String) { state.withLock { $0.errors[kind, default: 0] += 1 } }

    struct Summary: Sendable {
        var count: UInt64
        var errors: Int
        /// Failures by kind, most frequent first.
        var errorKinds: [(kind: String, count: Int)]
        var p50: UInt64
        var p99: UInt64
        var p999: UInt64
        var max: UInt64
    }

    func summary() -> Summary {
        state.withLock { s in
            Summary(
                count: s.histogram.totalCount, errors: s.errors.values.reduce(0, +),
                errorKinds: s.errors.map { ($0.key, $0.value) }.sorted {
                    $0.count > $1.count || ($0.count == $1.count && $0.kind < $1.kind)
                },
                p50: s.histogram.valueAtPercentile(50),
                p99: s.histogram.valueAtPercentile(99), p999: s.histogram.valueAtPercentile(99.9), max: s.histogram.max)
        }
    }
}

enum MonotonicClock {
    static func nanos() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

#if canImport(Glibc)
    import Glibc
#endif

/// One run's result: a JSON line for machines and a table row for people.
struct RunReport {
    var bench: String
    var mode: String
    var offeredRate: Double?
    var concurrency: Int
    var seconds: Double
    var summary: LatencyRecorder.Summary
    /// CPU µs per completed request of each sampled process (see `CPUSampler`), in the order given.
    var cpuMicrosPerRequest: [(String, Double)] = []

    var achievedRate: Double { Double(summary.count) / seconds }

    func json() -> String {
        func us(_ nanos: UInt64) -> String { String(format: "%.1f", Double(nanos) / 1000) }
        return """
            {"bench":"\(bench)","mode":"\(mode)","offered_per_s":\(offeredRate.map { String(Int($0)) } ?? "null"),\
            "concurrency":\(concurrency),"seconds":\(String(format: "%.2f", seconds)),"completed":\(summary.count),\
            "errors":\(summary.errors),"achieved_per_s":\(Int(achievedRate)),"p50_us":\(us(summary.p50)),\
            "p99_us":\(us(summary.p99)),"p999_us":\(us(summary.p999)),"max_us":\(us(summary.max)),\
            "cpu_us_per_request":{\(cpuMicrosPerRequest.map { "\"\($0.0)\":\(String(format: "%.1f", $0.1))" }.joined(separator: ","))},\
            "error_kinds":{\(summary.errorKinds.map { "\"\(jsonEscaped($0.kind))\":\($0.count)" }.joined(separator: ","))}}
            """
    }

    func row() -> String {
        func us(_ nanos: UInt64) -> String { String(format: "%.0f", Double(nanos) / 1000) }
        let offered = offeredRate.map { "\(Int($0))/s open-loop" } ?? "closed-loop ×\(concurrency)"
        return
            "| \(bench) | \(offered) | \(Int(achievedRate))/s | \(us(summary.p50)) | \(us(summary.p99)) | \(us(summary.p999)) | \(summary.errors) |"
    }
}

/// `text` with JSON's special characters escaped (error kinds carry server messages' words).
func jsonEscaped(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}
