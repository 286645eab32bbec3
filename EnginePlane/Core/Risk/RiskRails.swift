import TradingDomain

/// The pre-trade checks every order passes before anything leaves the engine. Pure: given the
/// order, the mode, the position and the price, the verdict is always the same, so every rule is
/// tested at its boundaries without a venue.
public struct RiskRails: Sendable {
    public var limits: RiskLimits

    public init(limits: RiskLimits) { self.limits = limits }

    public struct Context: Sendable {
        public var mode: TradingMode
        /// Signed current position in the instrument.
        public var position: Fixed
        /// Remaining quantity of open orders on the order's side.
        public var openSameSide: Fixed
        /// The price the notional is measured at: the limit price, or the touch for a market order.
        public var price: Fixed?
        public var killSwitch: KillSwitch.Level
        /// Σ |position × mark| now, before the order.
        public var grossExposure: Fixed
        /// This instrument's |position × mark| now (replaced by its value after the order).
        public var instrumentExposure: Fixed
        public var openOrders: Int
        /// Entries are paused after a losing streak until then (monotonic ns), if set.
        public var lossPausedUntil: Int64?
        public var nowNanos: Int64

        public init(
            mode: TradingMode, position: Fixed, openSameSide: Fixed, price: Fixed?, killSwitch: KillSwitch.Level = .off,
            grossExposure: Fixed = .zero, instrumentExposure: Fixed = .zero, openOrders: Int = 0,
            lossPausedUntil: Int64? = nil, nowNanos: Int64 = 0
        ) {
            self.mode = mode
            self.position = position
            self.openSameSide = openSameSide
            self.price = price
            self.killSwitch = killSwitch
            self.grossExposure = grossExposure
            self.instrumentExposure = instrumentExposure
            self.openOrders = openOrders
            self.lossPausedUntil = lossPausedUntil
            self.nowNanos = nowNanos
        }
    }

    public enum Verdict: Sendable, Equatable {
        case accept
        case reject(RejectReason, String)
    }

    public func check(instrument: InstrumentID, side: Side, quantity: Fixed, context: Context) -> Verdict {
        let signed = side == .buy ? quantity : -quantity
        let after = context.position + signed
        // Reducing: the order goes against the position and does not carry it through zero.
        let reducesOnly =
            !context.position.isZero && context.position.signum != signed.signum
            && (after.isZero || after.signum == context.position.signum)

        switch context.killSwitch {
        case .hardKill, .halt:
            return .reject(.killSwitch, "kill switch \(context.killSwitch.name) is set: no order leaves")
        case .closeOnly where !reducesOnly:
            return .reject(.killSwitch, "kill switch CLOSE_ONLY is set: only orders that reduce a position leave")
        case .closeOnly, .off:
            break
        }
        switch context.mode {
        case .halted:
            return .reject(.tradingHalted, "trading is halted: no order leaves")
        case .closeOnly where !reducesOnly:
            return .reject(
                .closeOnly, "close-only mode: only orders that reduce the \(instrument) position are allowed")
        case .active, .closeOnly:
            break
        }
        guard let symbol = limits.symbols[instrument] else {
            return .reject(.symbolNotAllowed, "\(instrument) is not in this engine's symbol allowlist")
        }
        if symbol.lotSize.isPositive, !quantity.units.isMultiple(of: symbol.lotSize.units) {
            return .reject(
                .quantityNotLotMultiple, "quantity \(quantity) is not a multiple of the lot size \(symbol.lotSize)")
        }
        guard let price = context.price, price.isPositive else {
            return .reject(.noMarketPrice, "no market price for \(instrument) yet")
        }
        guard let notional = quantity.multiplied(by: price) else {
            return .reject(.notionalAboveMax, "order notional overflows")
        }
        if notional < limits.minNotional {
            return .reject(.notionalBelowMin, "notional \(notional) is below the minimum \(limits.minNotional)")
        }
        if notional > limits.maxNotional {
            return .reject(.notionalAboveMax, "notional \(notional) is above the maximum \(limits.maxNotional)")
        }
        if !reducesOnly, let maxOpen = limits.maxOpenOrders, context.openOrders >= maxOpen {
            return .reject(.maxOpenOrders, "\(context.openOrders) orders are open; the limit is \(maxOpen)")
        }
        if !reducesOnly {
            let exposure = after.magnitude + context.openSameSide
            if exposure > symbol.maxPosition {
                return .reject(
                    .positionLimit,
                    "position would reach \(exposure) \(instrument.symbol) with open orders, above the limit \(symbol.maxPosition)"
                )
            }
        }
        if !reducesOnly, let maxGross = limits.maxGrossExposure {
            let afterExposure = after.magnitude.multiplied(by: price) ?? .max
            let gross = context.grossExposure - context.instrumentExposure + afterExposure
            if gross > maxGross {
                return .reject(.grossExposure, "gross exposure would reach \(gross), above the limit \(maxGross)")
            }
        }
        if !reducesOnly, let until = context.lossPausedUntil, context.nowNanos < until {
            return .reject(
                .lossPause,
                "entries are paused after a losing streak for \((until - context.nowNanos) / 1_000_000_000 + 1) s more")
        }
        return .accept
    }
}
