import Testing
import TradingDomain

struct PositionLotTests {
    @Test func averageCostAndRealizedPnL() throws {
        var lot = PositionLot()
        lot.apply(side: .buy, quantity: Fixed(1), price: Fixed(100))
        lot.apply(side: .buy, quantity: Fixed(1), price: Fixed(110))
        #expect(lot.averagePrice == Fixed(105))
        let realized = lot.apply(side: .sell, quantity: try Fixed(parsing: "0.5"), price: Fixed(120))
        #expect(try realized == Fixed(parsing: "7.5"))
        #expect(try lot.quantity == Fixed(parsing: "1.5"))
        #expect(lot.averagePrice == Fixed(105), "reducing does not move the average")
        #expect(try lot.unrealizedPnL(mark: Fixed(100)) == Fixed(parsing: "-7.5"))
    }

    @Test func crossingThroughZeroOpensAtTheFillPrice() {
        var lot = PositionLot()
        lot.apply(side: .buy, quantity: Fixed(2), price: Fixed(100))
        let realized = lot.apply(side: .sell, quantity: Fixed(5), price: Fixed(90))
        #expect(realized == Fixed(-20))
        #expect(lot.quantity == Fixed(-3))
        #expect(lot.averagePrice == Fixed(90))
        let short = lot.apply(side: .buy, quantity: Fixed(3), price: Fixed(80))
        #expect(short == Fixed(30), "a short gains when the price falls")
        #expect(lot.quantity == .zero)
        #expect(lot.averagePrice == .zero)
        #expect(lot.realizedPnL == Fixed(10))
    }
}
