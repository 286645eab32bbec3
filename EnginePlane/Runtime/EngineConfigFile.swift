import EngineCore
import Foundation
import TradingDomain
import Yams

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

    /// Reads and validates `path`; errors name the file and what is wrong.
    public static func load(path: String, venue: Venue) throws(ConfigError) -> EngineConfigFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(file: path, message: "cannot read: \(error.localizedDescription)")
        }
        let raw: RawFile
        do { raw = try YAMLDecoder().decode(RawFile.self, from: text) } catch {
            throw ConfigError(file: path, message: "\(error)")
        }
        var config = defaults(venue: venue)
        func decimal(_ text: String?, _ field: String) throws(ConfigError) -> Fixed? {
            guard let text else { return nil }
            do { return try Fixed(parsing: text) } catch {
                throw ConfigError(file: path, message: "\(field): \(error)")
            }
        }
        config.minNotional = try decimal(raw.risk?.min_notional, "risk.min_notional") ?? config.minNotional
        config.maxNotional = try decimal(raw.risk?.max_notional, "risk.max_notional") ?? config.maxNotional
        config.startingCash = try decimal(raw.starting_cash, "starting_cash") ?? config.startingCash
        config.account = raw.account
        if let risk = raw.risk {
            config.rails.maxGrossExposure =
                try decimal(risk.max_gross_exposure, "risk.max_gross_exposure") ?? config.rails.maxGrossExposure
            config.rails.dailyLossLimit =
                try decimal(risk.daily_loss_limit, "risk.daily_loss_limit") ?? config.rails.dailyLossLimit
            config.rails.maxDrawdown = try decimal(risk.max_drawdown, "risk.max_drawdown") ?? config.rails.maxDrawdown
            if let open = risk.max_open_orders {
                guard open > 0 else { throw ConfigError(file: path, message: "risk.max_open_orders must be positive") }
                config.rails.maxOpenOrders = open
            }
            func rate(_ raw: RawRate?, _ field: String) throws(ConfigError) -> RiskLimits.Rate? {
                guard let raw else { return nil }
                guard raw.orders_per_second > 0, raw.burst ?? raw.orders_per_second > 0 else {
                    throw ConfigError(file: path, message: "\(field): orders_per_second and burst must be positive")
                }
                return .init(perSecond: raw.orders_per_second, burst: raw.burst ?? raw.orders_per_second)
            }
            config.rails.orderRate = try rate(risk.rate_limit, "risk.rate_limit") ?? config.rails.orderRate
            config.rails.symbolOrderRate =
                try rate(risk.symbol_rate_limit, "risk.symbol_rate_limit") ?? config.rails.symbolOrderRate
            if let breaker = risk.breaker {
                guard breaker.errors > 0, breaker.window_seconds > 0, breaker.cooldown_seconds > 0 else {
                    throw ConfigError(
                        file: path,
                        message: "risk.breaker: errors, window_seconds and cooldown_seconds must be positive")
                }
                config.rails.breaker = .init(
                    errors: breaker.errors, windowSeconds: breaker.window_seconds,
                    cooldownSeconds: breaker.cooldown_seconds)
            }
            if let pause = risk.consecutive_losses {
                guard pause.count > 0, pause.pause_seconds > 0 else {
                    throw ConfigError(
                        file: path, message: "risk.consecutive_losses: count and pause_seconds must be positive")
                }
                config.rails.consecutiveLossPause = .init(losses: pause.count, pauseSeconds: pause.pause_seconds)
            }
        }
        if let reconcile = raw.reconciliation {
            if let policy = reconcile.on_mismatch {
                guard ["log", "close_only", "halt"].contains(policy) else {
                    throw ConfigError(file: path, message: "reconciliation.on_mismatch must be log, close_only or halt")
                }
                config.mismatchPolicy = policy
            }
            if let interval = reconcile.interval_seconds {
                guard interval > 0 else {
                    throw ConfigError(file: path, message: "reconciliation.interval_seconds must be positive")
                }
                config.reconcileIntervalSeconds = interval
            }
        }
        if let symbols = raw.symbols {
            guard !symbols.isEmpty else { throw ConfigError(file: path, message: "symbols: list at least one symbol") }
            config.symbols = []
            for (index, symbol) in symbols.enumerated() {
                let field = "symbols[\(index)]"
                let instrument: InstrumentID
                do { instrument = try InstrumentID(parsing: symbol.symbol) } catch {
                    throw ConfigError(file: path, message: "\(field).symbol: \(error)")
                }
                guard instrument.venue == venue else {
                    throw ConfigError(file: path, message: "\(field).symbol: \(instrument) is not on \(venue.rawValue)")
                }
                guard let maxPosition = try decimal(symbol.max_position, "\(field).max_position"),
                    maxPosition.isPositive
                else {
                    throw ConfigError(file: path, message: "\(field).max_position: a positive number is required")
                }
                let lot = try decimal(symbol.lot_size, "\(field).lot_size") ?? Fixed(units: 1)
                guard lot.isPositive else {
                    throw ConfigError(file: path, message: "\(field).lot_size must be positive")
                }
                let price = try decimal(symbol.initial_price, "\(field).initial_price") ?? Fixed(100)
                config.symbols.append(
                    SymbolEntry(
                        instrument: instrument, limits: .init(maxPosition: maxPosition, lotSize: lot),
                        initialPrice: price))
            }
        }
        guard config.minNotional <= config.maxNotional else {
            throw ConfigError(file: path, message: "risk.min_notional is above risk.max_notional")
        }
        return config
    }

    // Decimals are read as strings so that YAML's floats never touch money.
    private struct RawFile: Decodable {
        var starting_cash: String?
        var account: String?
        var risk: RawRisk?
        var symbols: [RawSymbol]?
        var reconciliation: RawReconciliation?
    }
    private struct RawRisk: Decodable {
        var min_notional: String?
        var max_notional: String?
        var max_gross_exposure: String?
        var max_open_orders: Int?
        var rate_limit: RawRate?
        var symbol_rate_limit: RawRate?
        var breaker: RawBreaker?
        var daily_loss_limit: String?
        var max_drawdown: String?
        var consecutive_losses: RawLossPause?
    }
    private struct RawRate: Decodable {
        var orders_per_second: Int64
        var burst: Int64?
    }
    private struct RawBreaker: Decodable {
        var errors: Int
        var window_seconds: Int64
        var cooldown_seconds: Int64
    }
    private struct RawLossPause: Decodable {
        var count: Int
        var pause_seconds: Int64
    }
    private struct RawReconciliation: Decodable {
        var on_mismatch: String?
        var interval_seconds: Int64?
    }
    private struct RawSymbol: Decodable {
        var symbol: String
        var max_position: String?
        var lot_size: String?
        var initial_price: String?
    }
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
