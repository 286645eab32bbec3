/// An exact decimal with 8 fractional digits, stored as an `Int64` count of 10^-8 units.
///
/// Prices, quantities and cash are `Fixed`, never `Double`: 0.1 + 0.2 is exactly 0.3, and a sum of a
/// million fills has no drift. The range is ±92,233,720,368.54775807, enough for any single price,
/// quantity or account balance the fleet handles; products go through `Int128` so that
/// price × quantity never overflows before it is rescaled. Arithmetic that could overflow on input a
/// caller controls has a checked form that returns `nil` instead of trapping.
public struct Fixed: Sendable, Hashable, Comparable {
    /// Fractional digits carried.
    public static let decimals = 8
    /// 10^decimals: the number of units in 1.
    public static let unitsPerOne: Int64 = 100_000_000

    /// The value × 10^8.
    public var units: Int64

    @inlinable public init(units: Int64) { self.units = units }

    /// A whole number. Traps only for |value| beyond the representable range, which no literal reaches.
    @inlinable public init(_ whole: Int) { self.units = Int64(whole) * Self.unitsPerOne }

    public static let zero = Fixed(units: 0)
    public static let one = Fixed(units: unitsPerOne)
    public static let max = Fixed(units: .max)

    @inlinable public static func < (lhs: Fixed, rhs: Fixed) -> Bool { lhs.units < rhs.units }

    @inlinable public var isZero: Bool { units == 0 }
    @inlinable public var isPositive: Bool { units > 0 }
    @inlinable public var isNegative: Bool { units < 0 }
    @inlinable public var magnitude: Fixed { Fixed(units: units < 0 ? -units : units) }
    @inlinable public var signum: Int64 { units.signum() }

    @inlinable public static prefix func - (value: Fixed) -> Fixed { Fixed(units: -value.units) }
    @inlinable public static func + (lhs: Fixed, rhs: Fixed) -> Fixed { Fixed(units: lhs.units + rhs.units) }
    @inlinable public static func - (lhs: Fixed, rhs: Fixed) -> Fixed { Fixed(units: lhs.units - rhs.units) }
    @inlinable public static func += (lhs: inout Fixed, rhs: Fixed) { lhs.units += rhs.units }
    @inlinable public static func -= (lhs: inout Fixed, rhs: Fixed) { lhs.units -= rhs.units }

    /// `self + other`, or `nil` if the sum leaves the representable range.
    @inlinable public func adding(_ other: Fixed) -> Fixed? {
        let (sum, overflow) = units.addingReportingOverflow(other.units)
        return overflow ? nil : Fixed(units: sum)
    }

    /// `self × other`, rounded to 8 decimals by `rule`, or `nil` on overflow.
    public func multiplied(by other: Fixed, rounding rule: RoundingRule = .toNearestOrEven) -> Fixed? {
        let product = Int128(units) * Int128(other.units)
        return Self.narrow(Self.divide(product, by: Int128(Self.unitsPerOne), rule: rule))
    }

    /// `self ÷ other`, rounded to 8 decimals by `rule`; `nil` when dividing by zero or on overflow.
    public func divided(by other: Fixed, rounding rule: RoundingRule = .toNearestOrEven) -> Fixed? {
        guard other.units != 0 else { return nil }
        let numerator = Int128(units) * Int128(Self.unitsPerOne)
        return Self.narrow(Self.divide(numerator, by: Int128(other.units), rule: rule))
    }

    /// `self × numerator ÷ denominator` exactly, then rounded by `rule` (basis points: `(bps, 10_000)`).
    /// Saturates instead of overflowing; `denominator` must not be zero (zero is returned if it is).
    public func multiplied(
        byRatio numerator: Int64, over denominator: Int64, rounding rule: RoundingRule = .toNearestOrEven
    )
        -> Fixed
    {
        guard denominator != 0 else { return .zero }
        let value = Self.divide(Int128(units) * Int128(numerator), by: Int128(denominator), rule: rule)
        return Self.narrow(value) ?? (value < 0 ? Fixed(units: .min) : .max)
    }

    /// `self × count` (a whole multiplier), or `nil` on overflow.
    public func multiplied(byInteger count: Int64) -> Fixed? {
        let (product, overflow) = units.multipliedReportingOverflow(by: count)
        return overflow ? nil : Fixed(units: product)
    }

    /// The nearest multiple of `step` by `rule` (e.g. a quantity rounded down to the lot size).
    public func rounded(toMultipleOf step: Fixed, rule: RoundingRule = .towardZero) -> Fixed {
        guard step.units > 0 else { return self }
        let steps = Self.divide(Int128(units), by: Int128(step.units), rule: rule)
        return Fixed(units: Int64(steps) * step.units)
    }

    /// The exact quantity-weighted mean of two (quantity, price) pairs, rounded to nearest-even:
    /// the average price after adding `addQuantity` at `addPrice` to `quantity` at `price`.
    public static func weightedAverage(
        quantity: Fixed, price: Fixed, addQuantity: Fixed, addPrice: Fixed
    ) -> Fixed {
        let total = Int128(quantity.units) + Int128(addQuantity.units)
        guard total != 0 else { return .zero }
        let cost = Int128(quantity.units) * Int128(price.units) + Int128(addQuantity.units) * Int128(addPrice.units)
        return narrow(divide(cost, by: total, rule: .toNearestOrEven)) ?? .zero
    }

    /// How to round an exact result that needs more than 8 decimals.
    public enum RoundingRule: Sendable {
        case toNearestOrEven
        case towardZero
        case awayFromZero
        case down  // toward negative infinity
        case up  // toward positive infinity
    }

    static func narrow(_ value: Int128) -> Fixed? {
        guard value >= Int128(Int64.min), value <= Int128(Int64.max) else { return nil }
        return Fixed(units: Int64(value))
    }

    static func divide(_ numerator: Int128, by denominator: Int128, rule: RoundingRule) -> Int128 {
        let (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: denominator)
        if remainder == 0 { return quotient }
        // The exact result lies between quotient and quotient + direction.
        let negative = (numerator < 0) != (denominator < 0)
        let direction: Int128 = negative ? -1 : 1
        switch rule {
        case .towardZero:
            return quotient
        case .awayFromZero:
            return quotient + direction
        case .down:
            return negative ? quotient - 1 : quotient
        case .up:
            return negative ? quotient : quotient + 1
        case .toNearestOrEven:
            let twice = remainder.magnitude * 2
            let divisor = denominator.magnitude
            if twice > divisor { return quotient + direction }
            if twice < divisor { return quotient }
            return quotient.isMultiple(of: 2) ? quotient : quotient + direction
        }
    }
}
