import Testing
import TradingDomain

@testable import EngineCore

/// The open-order aggregates the hot path reads must always equal a scan of the open orders.
@Suite struct OpenOrdersTests {
    static let btc = InstrumentID(symbol: "BTCUSDT", venue: .paper)
    static let eth = InstrumentID(symbol: "ETHUSDT", venue: .paper)

    func order(
        _ id: String, _ instrument: InstrumentID, _ side: Side, quantity: Int64, filled: Int64 = 0,
        parent: String = "", group: String = ""
    ) -> OrderRecord {
        var order = OrderRecord(
            clientOrderID: id, instrument: instrument, side: side, type: .limit, timeInForce: .gtc,
            limitPrice: Fixed(units: 100), quoteQuantity: .zero,
            progress: OrderProgress(
                quantity: Fixed(units: quantity), status: filled > 0 ? .partiallyFilled : .accepted,
                filledQuantity: Fixed(units: filled)),
            model: "m", strategy: "s", createdUnixNanos: 0, updatedUnixNanos: 0)
        order.parentID = parent
        order.ocoGroup = group
        return order
    }

    /// What the aggregate replaced: a scan of every open order.
    func scanned(_ open: OpenOrders, _ instrument: InstrumentID, _ side: Side, excluding: String) -> Fixed {
        open.values.reduce(Fixed.zero) { sum, other in
            other.instrument == instrument && other.side == side && other.clientOrderID != excluding
                && other.parentID.isEmpty ? sum + other.progress.remainingQuantity : sum
        }
    }

    @Test func sameSideQuantityMatchesAScanThroughEveryChange() {
        var open = OpenOrders()
        var generator = SystemRandomNumberGenerator()
        let instruments = [Self.btc, Self.eth]
        for step in 0..<2_000 {
            let id = "o\(Int.random(in: 0..<40, using: &generator))"
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: open[id] = nil
            default:
                let quantity = Int64.random(in: 1...50, using: &generator)
                open.upsert(
                    order(
                        id, instruments.randomElement(using: &generator) ?? Self.btc,
                        Bool.random(using: &generator) ? .buy : .sell, quantity: quantity,
                        filled: Int64.random(in: 0..<quantity, using: &generator),
                        parent: Int.random(in: 0..<5, using: &generator) == 0 ? "p" : "",
                        group: Int.random(in: 0..<5, using: &generator) == 0 ? "g" : ""))
            }
            for instrument in instruments {
                for side in [Side.buy, .sell] {
                    let excluded = "o\(step % 40)"
                    #expect(
                        open.openQuantity(instrument, side, excluding: excluded)
                            == scanned(open, instrument, side, excluding: excluded))
                }
            }
            let contingent = Set(
                open.values.filter { !$0.parentID.isEmpty || !$0.ocoGroup.isEmpty }.map(\.clientOrderID))
            #expect(open.contingentIDs == contingent)
        }
    }
}
