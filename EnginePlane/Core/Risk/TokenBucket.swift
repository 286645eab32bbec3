/// Order rate limiting: `rate` tokens a second refill a bucket of `burst`; an order takes one.
public struct TokenBucket: Sendable, Equatable {
    public let ratePerSecond: Int64
    public let burst: Int64
    /// Tokens × 10^9, so refills stay exact in integer nanoseconds.
    private var scaledTokens: Int64
    private var lastNanos: Int64?

    public init(ratePerSecond: Int64, burst: Int64) {
        self.ratePerSecond = max(1, ratePerSecond)
        self.burst = max(1, burst)
        self.scaledTokens = self.burst * 1_000_000_000
    }

    /// Takes a token at `nowNanos` (monotonic); false when the bucket is empty.
    public mutating func take(nowNanos: Int64) -> Bool {
        refill(nowNanos)
        guard scaledTokens >= 1_000_000_000 else { return false }
        scaledTokens -= 1_000_000_000
        return true
    }

    /// Would a token be available, without taking it.
    public mutating func hasToken(nowNanos: Int64) -> Bool {
        refill(nowNanos)
        return scaledTokens >= 1_000_000_000
    }

    private mutating func refill(_ now: Int64) {
        if let last = lastNanos, now > last {
            let (added, overflow) = (now - last).multipliedReportingOverflow(by: ratePerSecond)
            scaledTokens = overflow ? burst * 1_000_000_000 : min(burst * 1_000_000_000, scaledTokens + added)
        }
        lastNanos = max(lastNanos ?? now, now)
    }
}
