import TradingDomain

/// Hooks for metrics: the runtime implements them with Prometheus; tests can count calls.
/// Called on the engine's executor, after the change they report is durable.
public protocol EngineObserver: Sendable {
    func orderSubmitted(model: String)
    func orderRejected(model: String, reason: String)
    func orderFilled(model: String, latencyNanos: Int64)
    func fillRecorded(_ fill: FillRecord, modelRealizedPnL: Fixed)
    func accountUpdated(_ account: AccountSummary, openOrders: Int, mode: TradingMode)
    func ledgerCommitted(nanos: Int64)
    /// Breaker 0 closed / 1 open / 2 half-open; kill switch 0 off … 3 hard kill.
    func riskState(breaker: Int, killSwitch: Int)
    func reconciliationMismatch(kind: String)
}

extension EngineObserver {
    public func riskState(breaker: Int, killSwitch: Int) {}
    public func reconciliationMismatch(kind: String) {}
}

/// An observer that ignores everything.
public struct NoEngineObserver: EngineObserver {
    public init() {}
    public func orderSubmitted(model: String) {}
    public func orderRejected(model: String, reason: String) {}
    public func orderFilled(model: String, latencyNanos: Int64) {}
    public func fillRecorded(_ fill: FillRecord, modelRealizedPnL: Fixed) {}
    public func accountUpdated(_ account: AccountSummary, openOrders: Int, mode: TradingMode) {}
    public func ledgerCommitted(nanos: Int64) {}
}
