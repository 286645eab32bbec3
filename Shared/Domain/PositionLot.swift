/// A signed position with an average entry price, and the PnL its fills realize.
///
/// Average-cost accounting: adding to a position moves the average price; reducing it realizes
/// (exit − average) × closed quantity for a long, the opposite for a short; crossing through zero
/// closes the old side and opens the new one at the fill price. The engine's portfolio and OPS's PnL
/// book both use it, so they agree to the unit.
public struct PositionLot: Sendable, Hashable, Codable {
    /// Signed: negative is short.
    public private(set) var quantity: Fixed
    public private(set) var averagePrice: Fixed
    /// Gross of fees.
    public private(set) var realizedPnL: Fixed

    public init(quantity: Fixed = .zero, averagePrice: Fixed = .zero, realizedPnL: Fixed = .zero) {
        self.quantity = quantity
        self.averagePrice = averagePrice
        self.realizedPnL = realizedPnL
    }

    /// Applies one fill and returns the PnL it realized (gross of fees).
    @discardableResult
    public mutating func apply(side: Side, quantity fillQuantity: Fixed, price: Fixed) -> Fixed {
        let signed = side == .buy ? fillQuantity : -fillQuantity
        var realized = Fixed.zero
        if quantity.isZero || quantity.signum == signed.signum {
            // Opening or adding: new average = (|q|·avg + |f|·price) / (|q| + |f|).
            averagePrice = Fixed.weightedAverage(
                quantity: quantity.magnitude, price: averagePrice, addQuantity: fillQuantity, addPrice: price)
            quantity += signed
        } else {
            let closing = Swift.min(quantity.magnitude, fillQuantity)
            let perUnit = quantity.isPositive ? price - averagePrice : averagePrice - price
            realized = perUnit.multiplied(by: closing) ?? .zero
            realizedPnL += realized
            quantity += signed
            if quantity.isZero {
                averagePrice = .zero
            } else if quantity.signum == signed.signum {
                averagePrice = price  // crossed through zero: the remainder opens at the fill price
            }
        }
        return realized
    }

    /// Unrealized PnL at `mark`.
    public func unrealizedPnL(mark: Fixed) -> Fixed {
        guard !quantity.isZero, mark.isPositive else { return .zero }
        return (mark - averagePrice).multiplied(by: quantity) ?? .zero
    }
}
