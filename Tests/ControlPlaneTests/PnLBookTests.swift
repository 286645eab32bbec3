import FleetProto
import PnLBook
import Testing
import TradingDomain

struct PnLBookTests {
    func fill(seq: UInt64, side: Fleet_V1_Side, quantity: Int64, price: Int64, realized: Int64 = 0) -> Fleet_V1_Event {
        var event = Fleet_V1_Event()
        event.seq = seq
        var fill = Fleet_V1_Fill()
        fill.model = "m"
        fill.symbol = "BTCUSDT.PAPER"
        fill.side = side
        fill.quantityE8 = quantity * Fixed.unitsPerOne
        fill.priceE8 = price * Fixed.unitsPerOne
        fill.realizedPnlE8 = realized * Fixed.unitsPerOne
        event.fill = fill
        return event
    }

    func snapshot(seq: UInt64) -> Fleet_V1_Snapshot {
        var snapshot = Fleet_V1_Snapshot()
        snapshot.venue = "PAPER"
        snapshot.lastEventSeq = seq
        var mark = Fleet_V1_Mark()
        mark.symbol = "BTCUSDT.PAPER"
        mark.bidE8 = 110 * Fixed.unitsPerOne
        mark.askE8 = 110 * Fixed.unitsPerOne
        snapshot.marks = [mark]
        return snapshot
    }

    @Test func eventsDuringSyncNewerThanTheSnapshotAreKeptOnce() {
        let book = PnLBook()
        book.beginSync(engineID: "e", venue: "PAPER")
        book.apply(engineID: "e", event: fill(seq: 1, side: .buy, quantity: 1, price: 100))  // already in the snapshot
        book.apply(engineID: "e", event: fill(seq: 2, side: .buy, quantity: 1, price: 100))  // newer
        var snap = snapshot(seq: 1)
        var model = Fleet_V1_ModelPnL()
        model.model = "m"
        model.fills = 1
        var position = Fleet_V1_Position()
        position.symbol = "BTCUSDT.PAPER"
        position.quantityE8 = Fixed.unitsPerOne
        position.averagePriceE8 = 100 * Fixed.unitsPerOne
        model.positions = [position]
        snap.models = [model]
        book.resync(engineID: "e", snapshot: snap)
        book.apply(engineID: "e", event: fill(seq: 2, side: .buy, quantity: 1, price: 100))  // duplicate delivery
        let row = book.report().models.first
        #expect(row?.fills == 2)
        #expect(row?.unrealizedPnL == Fixed(20), "2 units bought at 100, marked at 110")
    }

    @Test func realizedAndWinRate() {
        let book = PnLBook()
        book.beginSync(engineID: "e", venue: "PAPER")
        book.resync(engineID: "e", snapshot: snapshot(seq: 0))
        book.apply(engineID: "e", event: fill(seq: 1, side: .buy, quantity: 2, price: 100))
        book.apply(engineID: "e", event: fill(seq: 2, side: .sell, quantity: 1, price: 120, realized: 20))
        book.apply(engineID: "e", event: fill(seq: 3, side: .sell, quantity: 1, price: 90, realized: -10))
        let row = book.report().models.first
        #expect(row?.realizedPnL == Fixed(10))
        #expect(row?.winningCloses == 1 && row?.losingCloses == 1)
        #expect(row?.winRate == (try? Fixed(parsing: "0.5")))
        #expect(book.report().totalRealizedPnL == Fixed(10))
    }
}
