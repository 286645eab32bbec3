import EngineCore
import Testing
import TradingDomain
import YAMLReader

@testable import EngineRuntime

struct EngineConfigFileTests {
    static let repository = String(#filePath.split(separator: "/Tests/").first ?? "")

    @Test func theShippedExampleReadsExactly() throws {
        let config = try EngineConfigFile.load(
            path: "/\(Self.repository)/deploy/config/engine-paper.yaml", venue: .paper)
        #expect(config.symbols.map(\.instrument.description) == ["BTCUSDT.PAPER", "ETHUSDT.PAPER"])
        #expect(config.symbols[0].limits.lotSize == Fixed(units: 1_000))  // 0.00001 at 8 places
        #expect(config.symbols[0].initialPrice == Fixed(65_000))
        #expect(config.rails.orderRate == .init(perSecond: 20_000, burst: 40_000))
        #expect(config.rails.breaker == .init(errors: 5, windowSeconds: 10, cooldownSeconds: 5))
        #expect(config.maxNotional == Fixed(250_000))
        #expect(config.mismatchPolicy == "close_only")
    }

    @Test func decimalsStayExactAndUnsetKeysKeepTheirDefaults() throws {
        let config = try EngineConfigFile.parse("risk:\n  min_notional: 0.1\n", venue: .paper)
        #expect(config.minNotional == Fixed(units: 10_000_000))
        #expect(config.rails.maxOpenOrders == EngineConfigFile.defaults(venue: .paper).rails.maxOpenOrders)
        let empty = try EngineConfigFile.parse("", venue: .paper)
        #expect(empty.symbols.count == EngineConfigFile.defaults(venue: .paper).symbols.count)
    }

    @Test func aMisspeltOrInvalidSettingIsRefusedWithItsPlace() {
        func message(_ text: String) -> String? {
            do {
                _ = try EngineConfigFile.parse(text, venue: .paper)
                return nil
            } catch { return error.description }
        }
        #expect(message("risk:\n  max_open_order: 5\n")?.hasPrefix("line 2: risk.max_open_order: unknown key") == true)
        #expect(message("risk:\n  rate_limit: {burst: 5}\n") == "line 2: risk.rate_limit.orders_per_second: required")
        #expect(message("risk:\n  max_open_orders: 0\n") == "line 2: risk.max_open_orders: must be positive")
        #expect(
            message("symbols:\n  - symbol: BTCUSDT.KRAKEN\n    max_position: \"1\"\n")?.contains("is not on PAPER")
                == true)
        #expect(message("symbols:\n  - symbol: BTCUSDT.PAPER\n")?.contains("symbols[0].max_position") == true)
        #expect(message("risk:\n  max_notional: abc\n")?.hasPrefix("line 2: risk.max_notional:") == true)
        #expect(
            message("risk: {min_notional: \"10\", max_notional: \"5\"}")
                == "risk.min_notional is above risk.max_notional")
    }
}
