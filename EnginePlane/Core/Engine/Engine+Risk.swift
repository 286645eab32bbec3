import Logging
import Storage
import TradingDomain

/// The rails' moving parts: rate buckets, the venue breaker, the loss streak, the day's and the
/// high-water equity that trigger close-only and halt.
struct RiskState: Sendable {
    var orderBucket: TokenBucket?
    var symbolBuckets: [InstrumentID: TokenBucket] = [:]
    var breaker: CircuitBreaker?
    var lossStreak = 0
    var lossPausedUntil: Int64?
    var equityHighWater: Fixed?
    var dayStartEquity: Fixed?
    var day: Int64?

    init(limits: RiskLimits) {
        orderBucket = limits.orderRate.map { TokenBucket(ratePerSecond: $0.perSecond, burst: $0.burst) }
        breaker = limits.breaker.map {
            CircuitBreaker(
                threshold: $0.errors, windowNanos: $0.windowSeconds * 1_000_000_000,
                cooldownNanos: $0.cooldownSeconds * 1_000_000_000)
        }
    }
}

extension Engine {
    /// Replaces the limits (config reload). Rate buckets and the breaker restart from full/closed
    /// when their settings change; positions, orders and loss tracking are untouched.
    public func updateLimits(_ limits: RiskLimits) {
        let old = rails.limits
        rails.limits = limits
        if old.orderRate != limits.orderRate || old.symbolOrderRate != limits.symbolOrderRate
            || old.breaker != limits.breaker
        {
            let fresh = RiskState(limits: limits)
            risk.orderBucket = fresh.orderBucket
            risk.symbolBuckets = [:]
            risk.breaker = fresh.breaker
        }
        audit.record(
            "limits_reloaded",
            [
                ("symbols", limits.symbols.keys.map(\.description).sorted().joined(separator: ",")),
                ("min_notional", limits.minNotional.description), ("max_notional", limits.maxNotional.description),
            ])
        logger.notice("risk limits reloaded")
    }

    /// The limits in force.
    public var limits: RiskLimits { rails.limits }

    /// The kill-switch level in force.
    public var killSwitchLevel: KillSwitch.Level { killLevel }

    func refreshKillSwitch() {
        let level = killSwitch.current()
        guard level != killLevel else { return }
        audit.record("kill_switch", [("from", killLevel.name), ("to", level.name)])
        logger.critical("kill switch changed", metadata: ["from": "\(killLevel.name)", "to": "\(level.name)"])
        killLevel = level
        pendingEvents.append(
            .risk(
                RiskNotice(
                    kind: "KILL_SWITCH", reason: level.name, message: "kill switch is \(level.name)", instrument: nil,
                    clientOrderID: "", model: "")))
        try? commitAndPublish()
    }

    /// Stateful gates run after the pure rails accepted: the venue breaker and the rate buckets.
    /// Tokens are taken only when every gate passes.
    func passGates(_ instrument: InstrumentID, now: Int64) -> RiskRails.Verdict {
        // Rates first: the breaker's half-open probe is only taken by an order that will leave.
        var global = risk.orderBucket
        var symbolBucket =
            risk.symbolBuckets[instrument]
            ?? rails.limits.symbolOrderRate.map { TokenBucket(ratePerSecond: $0.perSecond, burst: $0.burst) }
        if let bucket = global, !(global?.hasToken(nowNanos: now) ?? true) {
            return .reject(.rateLimit, "order rate above \(bucket.ratePerSecond)/s (burst \(bucket.burst))")
        }
        if let bucket = symbolBucket, !(symbolBucket?.hasToken(nowNanos: now) ?? true) {
            return .reject(
                .rateLimit, "\(instrument) order rate above \(bucket.ratePerSecond)/s (burst \(bucket.burst))")
        }
        if var breaker = risk.breaker {
            let allowed = breaker.allow(nowNanos: now)
            risk.breaker = breaker
            if !allowed {
                return .reject(.circuitOpen, "the venue breaker is open after repeated venue errors; retry later")
            }
        }
        _ = global?.take(nowNanos: now)
        risk.orderBucket = global
        if symbolBucket != nil {
            _ = symbolBucket?.take(nowNanos: now)
            risk.symbolBuckets[instrument] = symbolBucket
        }
        return .accept
    }

    func recordVenueOutcome(success: Bool) {
        guard var breaker = risk.breaker else { return }
        let before = breaker.gaugeValue
        if success { breaker.recordSuccess() } else { breaker.recordFailure(nowNanos: WallClock.monotonicNanos()) }
        risk.breaker = breaker
        if breaker.gaugeValue != before {
            audit.record("breaker", [("state", String(breaker.gaugeValue))])
            observer.riskState(breaker: breaker.gaugeValue, killSwitch: killLevel.rawValue)
        }
    }

    /// After a closing fill: count losing closes in a row; pause entries when the streak is long enough.
    func recordClose(realized: Fixed, model: String) {
        if realized.isNegative {
            risk.lossStreak += 1
        } else {
            risk.lossStreak = 0
        }
        guard let pause = rails.limits.consecutiveLossPause, risk.lossStreak >= pause.losses else { return }
        risk.lossPausedUntil = WallClock.monotonicNanos() + pause.pauseSeconds * 1_000_000_000
        risk.lossStreak = 0
        audit.record("loss_pause", [("losses", String(pause.losses)), ("pause_seconds", String(pause.pauseSeconds))])
        pendingEvents.append(
            .risk(
                RiskNotice(
                    kind: "LOSS_PAUSE", reason: RejectReason.lossPause.rawValue,
                    message: "\(pause.losses) losing closes in a row: entries paused for \(pause.pauseSeconds) s",
                    instrument: nil, clientOrderID: "", model: model)))
    }

    /// The daily loss limit (→ close-only) and the drawdown kill switch (→ halted), from equity at
    /// mid prices against the UTC day's opening equity and the high-water mark. Both persist.
    func evaluateLossLimits() {
        let equity = accountSummary().equity
        let day = WallClock.nowUnixNanos() / 86_400_000_000_000
        var changed = false
        if risk.day != day || risk.dayStartEquity == nil {
            risk.day = day
            risk.dayStartEquity = equity
            changed = true
        }
        if equity > (risk.equityHighWater ?? .zero) {
            risk.equityHighWater = equity
            changed = true
        }
        if changed {
            try? ledger.setSetting("day", String(day))
            try? ledger.setSetting("day_start_equity", String(risk.dayStartEquity?.units ?? 0))
            try? ledger.setSetting("equity_high_water", String(risk.equityHighWater?.units ?? 0))
            try? commitAndPublish()
        }
        if let limit = rails.limits.maxDrawdown, let high = risk.equityHighWater, high - equity >= limit,
            mode != .halted
        {
            _ = try? changeTradingMode(
                .halted, reason: "DRAWDOWN: equity \(equity) is \(high - equity) below its high \(high)")
        } else if let limit = rails.limits.dailyLossLimit, let start = risk.dayStartEquity, start - equity >= limit,
            mode == .active
        {
            _ = try? changeTradingMode(
                .closeOnly,
                reason: "DAILY_LOSS_LIMIT: equity \(equity) is \(start - equity) below today's open \(start)")
        }
    }
}
