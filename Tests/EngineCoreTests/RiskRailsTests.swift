import EngineCore
import Testing
import TradingDomain

/// Each rule at its boundary: what it must admit and what it must refuse.
struct RiskRailsTests {
    let btc = InstrumentID(symbol: "BTCUSDT", venue: .paper)
    var rails: RiskRails {
        RiskRails(
            limits: RiskLimits(
                symbols: [btc: .init(maxPosition: Fixed(2), lotSize: Fixed(units: 1000))], minNotional: Fixed(10),
                maxNotional: Fixed(1000)))
    }

    func verdict(
        _ quantity: Fixed, price: Fixed? = Fixed(100), mode: TradingMode = .active, position: Fixed = .zero,
        open: Fixed = .zero, instrument: InstrumentID? = nil
    ) -> RiskRails.Verdict {
        verdict(.buy, quantity, price: price, mode: mode, position: position, open: open, instrument: instrument)
    }

    func verdict(
        _ side: Side, _ quantity: Fixed, price: Fixed? = Fixed(100), mode: TradingMode = .active,
        position: Fixed = .zero,
        open: Fixed = .zero, instrument: InstrumentID? = nil
    ) -> RiskRails.Verdict {
        rails.check(
            instrument: instrument ?? btc, side: side, quantity: quantity,
            context: .init(mode: mode, position: position, openSameSide: open, price: price))
    }

    func reason(_ verdict: RiskRails.Verdict) -> RejectReason? {
        if case .reject(let reason, _) = verdict { return reason }
        return nil
    }

    @Test func notionalBounds() {
        #expect(verdict(Fixed(units: 10_000_000)) == .accept, "10 × 0.1 = 10: the minimum itself passes")
        #expect(reason(verdict(Fixed(units: 9_999_000))) == .notionalBelowMin)
        #expect(verdict(Fixed(1), price: Fixed(1000)) == .accept, "1 × 1000 = the maximum itself passes")
        #expect(reason(verdict(Fixed(units: 100_001_000), price: Fixed(1000))) == .notionalAboveMax)
    }

    @Test func quantityMustBeAWholeNumberOfLots() {
        #expect(verdict(Fixed(units: 10_001_000)) == .accept, "0.10001 is 10001 lots of 0.00001")
        #expect(reason(verdict(Fixed(units: 10_000_001))) == .quantityNotLotMultiple)
    }

    @Test func symbolAllowlistAndPrice() {
        #expect(reason(verdict(Fixed(1), instrument: InstrumentID(symbol: "DOGE", venue: .paper))) == .symbolNotAllowed)
        #expect(reason(verdict(Fixed(1), price: nil)) == .noMarketPrice)
    }

    @Test func positionLimitCountsOpenOrders() {
        #expect(verdict(Fixed(1), price: Fixed(10), position: Fixed(1)) == .accept, "1 + 1 = 2 = max")
        #expect(
            reason(verdict(Fixed(1), price: Fixed(10), position: Fixed(1), open: Fixed(units: 1))) == .positionLimit)
        #expect(reason(verdict(.sell, Fixed(3), price: Fixed(10))) == .positionLimit, "shorts count too")
        #expect(verdict(.sell, Fixed(3), price: Fixed(10), position: Fixed(3)) == .accept, "reducing is always allowed")
    }

    @Test func tradingModes() {
        #expect(reason(verdict(Fixed(1), mode: .halted, position: Fixed(1))) == .tradingHalted)
        #expect(
            reason(verdict(.sell, Fixed(1), mode: .halted, position: Fixed(1))) == .tradingHalted,
            "halted refuses exits too")
        #expect(reason(verdict(Fixed(1), mode: .closeOnly)) == .closeOnly)
        #expect(verdict(.sell, Fixed(1), mode: .closeOnly, position: Fixed(1)) == .accept)
        #expect(
            reason(verdict(.sell, Fixed(2), mode: .closeOnly, position: Fixed(1))) == .closeOnly,
            "flipping is not closing")
    }
}
