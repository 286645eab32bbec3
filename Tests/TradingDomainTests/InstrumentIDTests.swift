import Testing
import TradingDomain

struct InstrumentIDTests {
    @Test func parsesSymbolDotVenue() throws {
        let id = try InstrumentID(parsing: "btcusdt.binance")
        #expect(id.symbol == "BTCUSDT")
        #expect(id.venue == .binance)
        #expect(id.description == "BTCUSDT.BINANCE")
        #expect(try InstrumentID(parsing: "ETH.HYPERLIQUID").venue == .hyperliquid)
    }

    @Test func explainsWhatIsWrong() {
        func problem(_ text: String) -> InstrumentIDError.Problem? {
            do {
                _ = try InstrumentID(parsing: text)
                return nil
            } catch { return error.problem }
        }
        #expect(problem("BTCUSDT") == .missingVenue)
        #expect(problem("BTC.MOON") == .unknownVenue("MOON"))
        #expect(problem(".PAPER") == .badSymbol)
        #expect(problem("B TC.PAPER") == .badSymbol)
    }
}
