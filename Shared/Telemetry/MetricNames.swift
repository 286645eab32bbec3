/// Every metric name the fleet exports, in one place (docs/metrics.md maps the seeds' names to
/// these). Names follow Prometheus conventions: base units, `_total` for counters.
public enum MetricNames {
    // Engine: orders and fills, labelled {venue, model} (+ reason for rejections).
    public static let ordersSubmitted = "orders_submitted_total"
    public static let ordersFilled = "orders_filled_total"
    public static let ordersRejected = "orders_rejected_total"
    public static let fills = "fills_total"
    /// Realized PnL per {venue, model}, a gauge because PnL can fall.
    public static let pnlRealized = "pnl_realized_usd"
    public static let equity = "equity_usd"
    public static let fillLatency = "fill_latency_seconds"
    public static let openOrders = "open_orders"
    public static let tradingMode = "engine_trading_mode"
    public static let engineReady = "engine_ready"
    public static let ledgerWriteLatency = "ledger_write_seconds"
    public static let engineRunMode = "engine_run_mode"
    public static let breakerState = "engine_breaker_state"
    public static let killSwitch = "engine_kill_switch"
    public static let reconciliationMismatches = "reconciliation_mismatches_total"

    // OPS.
    public static let signals = "ops_signals_total"
    public static let signalLatency = "ops_signal_seconds"
    public static let engineUp = "ops_engine_up"
    public static let engineReconnects = "ops_engine_reconnects_total"
}
