import Foundation
import StrategyRouter
import Testing
import TradingDomain

struct SignalTests {
    func parse(_ json: String) throws(SignalError) -> Signal { try Signal.parse(json: Array(json.utf8)) }

    @Test func numbersAreReadAsExactDecimals() throws {
        let signal = try parse(#"{"symbol":"BTCUSDT.PAPER","side":"buy","quantity":0.1,"strategy":"s"}"#)
        #expect(signal.quantity == Fixed(units: 10_000_000))
        #expect(signal.side == .buy)
        #expect(signal.type == .market)
        let text = try parse(
            #"{"symbol":"BTCUSDT.PAPER","side":"SELL","quote":"1234.56789","type":"limit","limit_price":"65000.5"}"#)
        #expect(text.quote == (try Fixed(parsing: "1234.56789")))
        #expect(text.limitPrice == (try Fixed(parsing: "65000.5")))
        #expect(text.strategy == "default")
    }

    @Test(arguments: [
        "{bad", "[]", #"{"side":"BUY","quantity":"1"}"#, #"{"symbol":"BTCUSDT.PAPER","side":"HOLD","quantity":"1"}"#,
        #"{"symbol":"BTCUSDT.PAPER","side":"BUY"}"#,
        #"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"1","quote":"1"}"#,
        #"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":true}"#,
        #"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"0"}"#,
        #"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"1","type":"LIMIT"}"#,
        #"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"1","limit_price":"5"}"#,
        #"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"1","qty":"1"}"#,
        #"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"1","model":"bad model"}"#,
        #"{"symbol":"BTCUSDT","side":"BUY","quantity":"1"}"#,
    ])
    func malformedSignalsAre400(_ json: String) {
        #expect(throws: SignalError.self) { try parse(json) }
        do { _ = try parse(json) } catch { #expect(error.httpStatus == 400, "\(error)") }
    }

    @Test func unknownVenueIs422() {
        do {
            _ = try parse(#"{"symbol":"BTC.MOON","side":"BUY","quantity":"1"}"#)
            Issue.record("accepted an unknown venue")
        } catch {
            #expect(error.httpStatus == 422)
            #expect(error.code == "UNKNOWN_VENUE")
        }
    }
}
