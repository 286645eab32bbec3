import Testing
import TradingDomain

struct OrderStateMachineTests {
    @Test func happyPathToFilled() throws {
        var order = OrderProgress(quantity: Fixed(10))
        try order.apply(.accepted)
        try order.apply(.filled(quantity: Fixed(4)))
        #expect(order.status == .partiallyFilled)
        try order.apply(.filled(quantity: Fixed(6)))
        #expect(order.status == .filled)
        #expect(order.remainingQuantity == .zero)
    }

    @Test func closedOrdersRefuseFurtherEvents() throws {
        var filled = OrderProgress(quantity: Fixed(1), status: .filled, filledQuantity: Fixed(1))
        #expect(throws: OrderTransitionError.self) { try filled.apply(.canceled) }
        var rejected = OrderProgress(quantity: Fixed(1), status: .rejected)
        #expect(throws: OrderTransitionError.self) { try rejected.apply(.accepted) }
        #expect(rejected.status == .rejected)
    }

    @Test func overfillIsRefusedAndStateKept() throws {
        var order = OrderProgress(quantity: Fixed(1))
        try order.apply(.accepted)
        #expect(throws: OrderTransitionError.self) { try order.apply(.filled(quantity: Fixed(2))) }
        #expect(order.status == .accepted)
        #expect(order.filledQuantity == .zero)
    }

    @Test func lateFillAfterCancelCounts() throws {
        var order = OrderProgress(quantity: Fixed(2))
        try order.apply(.accepted)
        try order.apply(.cancelRequested)
        try order.apply(.canceled)
        try order.apply(.filled(quantity: Fixed(1)))
        #expect(order.status == .canceled)
        #expect(order.filledQuantity == Fixed(1))
        try order.apply(.filled(quantity: Fixed(1)))
        #expect(order.status == .filled)
    }

    @Test func cancelRejectedRestoresTheLiveState() throws {
        var order = OrderProgress(quantity: Fixed(2))
        try order.apply(.accepted)
        try order.apply(.filled(quantity: Fixed(1)))
        try order.apply(.cancelRequested)
        try order.apply(.cancelRejected)
        #expect(order.status == .partiallyFilled)
    }

    /// Property: whatever sequence of venue events arrives (duplicates, out of order, late), the
    /// machine never overfills, never leaves a closed state except by a completing late fill, and a
    /// refused event leaves the state exactly as it was.
    @Test func randomEventSequencesKeepInvariants() {
        var generator = SplitMix64(seed: 2024)
        for _ in 0..<2_000 {
            let quantity = Fixed(Int(generator.next() % 5) + 1)
            var order = OrderProgress(quantity: quantity)
            for _ in 0..<12 {
                let event: OrderEvent
                switch generator.next() % 7 {
                case 0: event = .accepted
                case 1: event = .rejected
                case 2: event = .filled(quantity: Fixed(Int(generator.next() % 3) + 1))
                case 3: event = .cancelRequested
                case 4: event = .canceled
                case 5: event = .cancelRejected
                default: event = .expired
                }
                let before = order
                do {
                    try order.apply(event)
                    if [.filled, .rejected].contains(before.status) { Issue.record("closed order took \(event)") }
                    if [.canceled, .expired].contains(before.status), case .filled = event {
                    } else if [.canceled, .expired].contains(before.status),
                        before != order
                    {
                        Issue.record("closed order changed on \(event)")
                    }
                } catch {
                    #expect(order == before, "a refused event must not change the order")
                }
                #expect(order.filledQuantity <= order.quantity)
                #expect(!order.filledQuantity.isNegative)
                if order.status == .filled { #expect(order.filledQuantity == order.quantity) }
                if order.status == .partiallyFilled {
                    #expect(order.filledQuantity.isPositive && order.filledQuantity < order.quantity)
                }
            }
        }
    }
}
