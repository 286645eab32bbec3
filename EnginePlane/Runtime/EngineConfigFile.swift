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

    public var limits: RiskLimits {
        RiskLimits(
            symbols: Dictionary(uniqueKeysWithValues: symbols.map { ($0.instrument, $0.limits) }),
            minNotional: minNotional,
            maxNotional: maxNotional)
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
            minNotional: Fixed(10), maxNotional: Fixed(250_000), startingCash: Fixed(1_000_000))
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
        var risk: RawRisk?
        var symbols: [RawSymbol]?
    }
    private struct RawRisk: Decodable {
        var min_notional: String?
        var max_notional: String?
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
