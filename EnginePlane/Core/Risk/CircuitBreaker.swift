/// Stops sending to a venue that keeps failing: `threshold` transport errors within `window` open
/// the breaker; after `cooldown` one probe order is let through (half-open); its success closes the
/// breaker, its failure opens it again. Venue rejections (bad order, no balance) are not failures.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case closed
        case open(untilNanos: Int64)
        case halfOpen(probeInFlight: Bool)
    }

    public let threshold: Int
    public let windowNanos: Int64
    public let cooldownNanos: Int64
    public private(set) var state: State = .closed
    private var errors: [Int64] = []

    public init(threshold: Int, windowNanos: Int64, cooldownNanos: Int64) {
        self.threshold = max(1, threshold)
        self.windowNanos = windowNanos
        self.cooldownNanos = cooldownNanos
    }

    /// May an order go out now? In half-open state only one probe at a time.
    public mutating func allow(nowNanos: Int64) -> Bool {
        switch state {
        case .closed:
            return true
        case .open(let until):
            guard nowNanos >= until else { return false }
            state = .halfOpen(probeInFlight: true)
            return true
        case .halfOpen(let probeInFlight):
            if probeInFlight { return false }
            state = .halfOpen(probeInFlight: true)
            return true
        }
    }

    public mutating func recordSuccess() {
        if case .halfOpen = state { state = .closed }
        errors.removeAll()
    }

    public mutating func recordFailure(nowNanos: Int64) {
        if case .halfOpen = state {
            state = .open(untilNanos: nowNanos + cooldownNanos)
            return
        }
        errors.append(nowNanos)
        errors.removeAll { $0 < nowNanos - windowNanos }
        if errors.count >= threshold {
            state = .open(untilNanos: nowNanos + cooldownNanos)
            errors.removeAll()
        }
    }

    /// 0 closed, 1 open, 2 half-open: the `engine_breaker_state` gauge.
    public var gaugeValue: Int {
        switch state {
        case .closed: 0
        case .open: 1
        case .halfOpen: 2
        }
    }
}
