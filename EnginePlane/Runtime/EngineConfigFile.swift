import EngineCore
import FoundationEssentials
import TradingDomain
import YAMLReader

/// The engine's `--config` YAML: risk limits and the symbols it trades. Without a file, the
/// defaults trade BTCUSDT, ETHUSDT and SOLUSDT on the engine's venue. See deploy/config/engine-paper.yaml.
public struct EngineConfigFile: Sendable {
    public struct SymbolEntry: Sendable {
        public var instrument: InstrumentID
        public var limits: RiskLimits.SymbolLimits
        /// The paper venue's starting price; ignored by real venues.
        public var initialPrice: Fixed
    }

    public var symbols: [SymbolEntry]
    public var minNotional: Fixed
    public var maxNotional: Fixed
    public var startingCash: Fixed
    /// The other rails (exposure, open orders, rates, breaker, loss limits); symbols and notional
    /// bounds above are copied in by `limits`.
    public var rails: RiskLimits
    /// What a reconciliation mismatch makes the engine do: log, close_only or halt.
    public var mismatchPolicy: String
    /// Seconds between reconciliations while running.
    public var reconcileIntervalSeconds: Int64
    /// The venue account this config trades; required for --mode live.
    public var account: String?

    public var limits: RiskLimits {
        var limits = rails
        limits.symbols = Dictionary(uniqueKeysWithValues: symbols.map { ($0.instrument, $0.limits) })
        limits.minNotional = minNotional
        limits.maxNotional = maxNotional
        return limits
    }

    public static func defaults(venue: Venue) -> EngineConfigFile {
        func entry(_ symbol: String, _ maxPosition: Int, _ lot: String, _ price: Int) -> SymbolEntry {
            SymbolEntry(
                instrument: InstrumentID(symbol: symbol, venue: venue),
                limits: .init(maxPosition: Fixed(maxPosition), lotSize: Fixed(lot) ?? Fixed(units: 1)),
                initialPrice: Fixed(price))
        }
        return EngineConfigFile(
            symbols: [
                entry("BTCUSDT", 5, "0.00001", 65_000), entry("ETHUSDT", 100, "0.0001", 3_200),
                entry("SOLUSDT", 2_000, "0.01", 150),
            ],
            minNotional: Fixed(10), maxNotional: Fixed(250_000), startingCash: Fixed(1_000_000),
            rails: RiskLimits(
                symbols: [:], minNotional: .zero, maxNotional: .zero, maxGrossExposure: Fixed(2_000_000),
                maxOpenOrders: 500,
                orderRate: .init(perSecond: 20_000, burst: 40_000),
                symbolOrderRate: .init(perSecond: 10_000, burst: 20_000),
                breaker: .init(errors: 5, windowSeconds: 10, cooldownSeconds: 5), dailyLossLimit: Fixed(50_000),
                maxDrawdown: Fixed(100_000), consecutiveLossPause: nil),
            mismatchPolicy: "close_only", reconcileIntervalSeconds: 30, account: nil)
    }

    /// Reads and validates `path`; errors name the file, the line and what is wrong.
    public static func load(path: String, venue: Venue) throws(ConfigError) -> EngineConfigFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(file: path, message: "cannot read: \(fileErrorMessage(error))")
        }
        do { return try parse(text, venue: venue) } catch { throw ConfigError(file: path, message: "\(error)") }
    }

    /// Validates a config file's text. Decimals are read as text, so that YAML floats never touch money.
    static func parse(_ text: String, venue: Venue) throws(YAMLError) -> EngineConfigFile {
        let file = try YAMLFields(
            try YAMLNode.parse(text), keys: ["starting_cash", "account", "risk", "reconciliation", "symbols"])
        var config = defaults(venue: venue)
        func decimal(_ fields: YAMLFields, _ key: String) throws(YAMLError) -> Fixed? {
            guard let text = try fields.string(key) else { return nil }
            do { return try Fixed(parsing: text) } catch { throw fields.error(key, "\(error)") }
        }
        config.startingCash = try decimal(file, "starting_cash") ?? config.startingCash
        config.account = try file.string("account")
        if let risk = try file.fields("risk", keys: Self.riskKeys) {
            config.minNotional = try decimal(risk, "min_notional") ?? config.minNotional
            config.maxNotional = try decimal(risk, "max_notional") ?? config.maxNotional
            config.rails.maxGrossExposure = try decimal(risk, "max_gross_exposure") ?? config.rails.maxGrossExposure
            config.rails.dailyLossLimit = try decimal(risk, "daily_loss_limit") ?? config.rails.dailyLossLimit
            config.rails.maxDrawdown = try decimal(risk, "max_drawdown") ?? config.rails.maxDrawdown
            if let open = try risk.int("max_open_orders") {
                guard open > 0 else { throw risk.error("max_open_orders", "must be positive") }
                config.rails.maxOpenOrders = open
            }
            func rate(_ key: String) throws(YAMLError) -> RiskLimits.Rate? {
                guard let rate = try risk.fields(key, keys: ["orders_per_second", "burst"]) else { return nil }
                let perSecond = try rate.required("orders_per_second", rate.int64)
                let burst = try rate.int64("burst") ?? perSecond
                guard perSecond > 0, burst > 0 else {
                    throw risk.error(key, "orders_per_second and burst must be positive")
                }
                return .init(perSecond: perSecond, burst: burst)
            }
            config.rails.orderRate = try rate("rate_limit") ?? config.rails.orderRate
            config.rails.symbolOrderRate = try rate("symbol_rate_limit") ?? config.rails.symbolOrderRate
            if let breaker = try risk.fields("breaker", keys: ["errors", "window_seconds", "cooldown_seconds"]) {
                let errors = try breaker.required("errors", breaker.int)
                let window = try breaker.required("window_seconds", breaker.int64)
                let cooldown = try breaker.required("cooldown_seconds", breaker.int64)
                guard errors > 0, window > 0, cooldown > 0 else {
                    throw risk.error("breaker", "errors, window_seconds and cooldown_seconds must be positive")
                }
                config.rails.breaker = .init(errors: errors, windowSeconds: window, cooldownSeconds: cooldown)
            }
            if let pause = try risk.fields("consecutive_losses", keys: ["count", "pause_seconds"]) {
                let count = try pause.required("count", pause.int)
                let seconds = try pause.required("pause_seconds", pause.int64)
                guard count > 0, seconds > 0 else {
                    throw risk.error("consecutive_losses", "count and pause_seconds must be positive")
                }
                config.rails.consecutiveLossPause = .init(losses: count, pauseSeconds: seconds)
            }
        }
        if let reconcile = try file.fields("reconciliation", keys: ["on_mismatch", "interval_seconds"]) {
            if let policy = try reconcile.string("on_mismatch") {
                guard ["log", "close_only", "halt"].contains(policy) else {
                    throw reconcile.error("on_mismatch", "must be log, close_only or halt")
                }
                config.mismatchPolicy = policy
            }
            if let interval = try reconcile.int64("interval_seconds") {
                guard interval > 0 else { throw reconcile.error("interval_seconds", "must be positive") }
                config.reconcileIntervalSeconds = interval
            }
        }
        if let symbols = try file.list("symbols", keys: ["symbol", "max_position", "lot_size", "initial_price"]) {
            guard !symbols.isEmpty else { throw file.error("symbols", "list at least one symbol") }
            config.symbols = []
            for symbol in symbols {
                let name = try symbol.required("symbol", symbol.string)
                let instrument: InstrumentID
                do { instrument = try InstrumentID(parsing: name) } catch { throw symbol.error("symbol", "\(error)") }
                guard instrument.venue == venue else {
                    throw symbol.error("symbol", "\(instrument) is not on \(venue.rawValue)")
                }
                guard let maxPosition = try decimal(symbol, "max_position"), maxPosition.isPositive else {
                    throw symbol.error("max_position", "a positive number is required")
                }
                let lot = try decimal(symbol, "lot_size") ?? Fixed(units: 1)
                guard lot.isPositive else { throw symbol.error("lot_size", "must be positive") }
                let price = try decimal(symbol, "initial_price") ?? Fixed(100)
                config.symbols.append(
                    SymbolEntry(
                        instrument: instrument, limits: .init(maxPosition: maxPosition, lotSize: lot),
                        initialPrice: price))
            }
        }
        guard config.minNotional <= config.maxNotional else {
            throw YAMLError(line: nil, message: "risk.min_notional is above risk.max_notional")
        }
        return config
    }

    static let riskKeys = [
        "min_notional", "max_notional", "max_gross_exposure", "max_open_orders", "rate_limit", "symbol_rate_limit",
        "breaker", "daily_loss_limit", "max_drawdown", "consecutive_losses",
    ]
}

/// A configuration file that cannot be used; the process exits with code 2 and this message.
public struct ConfigError: Error, CustomStringConvertible {
    public let file: String
    public let message: String
    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): \(message)" }
}
