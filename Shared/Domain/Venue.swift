/// A trading venue the fleet can run an engine against. The raw value is the suffix of a symbol
/// (`BTCUSDT.BINANCE`) and the `venue` label on every metric.
public enum Venue: String, Sendable, Hashable, CaseIterable, Codable {
    case paper = "PAPER"
    case binance = "BINANCE"
    case kraken = "KRAKEN"
    case ibkr = "IBKR"
    case hyperliquid = "HYPERLIQUID"
    case alpaca = "ALPACA"

    /// Accepts any letter case ("paper", "Binance").
    public init?(name: String) {
        self.init(rawValue: name.uppercased())
    }
}
