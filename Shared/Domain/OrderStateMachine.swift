/// The order lifecycle as one exhaustive table, with no I/O: the OMS, the ledger's restore and the
/// property tests all go through `OrderProgress.apply`, so an illegal transition cannot be recorded.

public enum OrderStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// The intent is durable; the venue has not confirmed it yet.
    case pendingSubmit = "PENDING_SUBMIT"
    case accepted = "ACCEPTED"
    case partiallyFilled = "PARTIALLY_FILLED"
    case filled = "FILLED"
    case pendingCancel = "PENDING_CANCEL"
    case canceled = "CANCELED"
    case rejected = "REJECTED"
    case expired = "EXPIRED"
    /// Accepted by the engine but not at the venue: waiting for its trigger price or its parent.
    case held = "HELD"

    /// Still able to trade (or to be confirmed as trading).
    public var isOpen: Bool {
        switch self {
        case .pendingSubmit, .accepted, .partiallyFilled, .pendingCancel, .held: true
        case .filled, .canceled, .rejected, .expired: false
        }
    }
}

/// Something that happened to an order, as reported by the venue or asked by the engine.
public enum OrderEvent: Sendable, Hashable {
    /// A held order's trigger fired (or its parent filled): it goes to the venue now.
    case triggered
    case accepted
    case rejected
    case filled(quantity: Fixed)
    case cancelRequested
    case canceled
    case cancelRejected
    case expired
}

/// An event the current state cannot take.
public struct OrderTransitionError: Error, CustomStringConvertible, Equatable {
    public let from: OrderStatus
    public let event: OrderEvent
    public let problem: String
    public var description: String { "order in \(from.rawValue) cannot take \(event): \(problem)" }
}

/// Status plus the fill progress that decides between partially filled and filled.
public struct OrderProgress: Sendable, Hashable {
    public private(set) var status: OrderStatus
    public let quantity: Fixed
    public private(set) var filledQuantity: Fixed

    public init(quantity: Fixed, status: OrderStatus = .pendingSubmit, filledQuantity: Fixed = .zero) {
        self.quantity = quantity
        self.status = status
        self.filledQuantity = filledQuantity
    }

    public var remainingQuantity: Fixed { quantity - filledQuantity }

    /// Applies `event`, or throws and leaves the state as it was.
    public mutating func apply(_ event: OrderEvent) throws(OrderTransitionError) {
        func illegal(_ problem: String = "illegal transition") -> OrderTransitionError {
            OrderTransitionError(from: status, event: event, problem: problem)
        }
        switch (status, event) {
        case (.held, .triggered):
            status = .pendingSubmit
        // A held order never reached the venue: cancelling or expiring it is local and immediate.
        case (.held, .cancelRequested), (.held, .canceled):
            status = .canceled
        case (.held, .expired):
            status = .expired
        // Refused by the rails when submitted or when its trigger fired.
        case (.held, .rejected):
            status = .rejected
        case (.held, _), (_, .triggered):
            throw illegal()
        case (.pendingSubmit, .accepted):
            status = .accepted
        // A repeated acknowledgement (venues resend them after reconnects) changes nothing.
        case (.accepted, .accepted), (.partiallyFilled, .accepted), (.pendingCancel, .accepted):
            break
        case (.pendingSubmit, .rejected):
            status = .rejected

        case (.pendingSubmit, .filled(let quantity)), (.accepted, .filled(let quantity)),
            (.partiallyFilled, .filled(let quantity)):
            try addFill(quantity, event: event)
            status = filledQuantity == self.quantity ? .filled : .partiallyFilled
        // A fill can race a cancel request; the order stays pending cancel until it is done.
        case (.pendingCancel, .filled(let quantity)):
            try addFill(quantity, event: event)
            if filledQuantity == self.quantity { status = .filled }
        // Real-world: the venue filled part of the order before it processed our cancel, and the
        // fill report arrives after the cancel confirmation. The fill counts; the order stays closed
        // unless the late fill completes it.
        case (.canceled, .filled(let quantity)), (.expired, .filled(let quantity)):
            try addFill(quantity, event: event)
            if filledQuantity == self.quantity { status = .filled }

        case (.pendingSubmit, .cancelRequested), (.accepted, .cancelRequested), (.partiallyFilled, .cancelRequested):
            status = .pendingCancel
        case (.pendingCancel, .cancelRequested):
            break
        case (.pendingSubmit, .canceled), (.accepted, .canceled), (.partiallyFilled, .canceled),
            (.pendingCancel, .canceled):
            status = .canceled
        case (.canceled, .canceled):
            break
        case (.pendingCancel, .cancelRejected):
            status = filledQuantity.isZero ? .accepted : .partiallyFilled
        case (.pendingSubmit, .expired), (.accepted, .expired), (.partiallyFilled, .expired),
            (.pendingCancel, .expired):
            status = .expired

        case (.filled, _), (.rejected, _):
            throw illegal("the order is closed")
        case (.canceled, _), (.expired, _):
            throw illegal("the order is closed")
        case (_, .rejected), (_, .cancelRejected):
            throw illegal()
        }
    }

    private mutating func addFill(_ quantity: Fixed, event: OrderEvent) throws(OrderTransitionError) {
        guard quantity.isPositive else {
            throw OrderTransitionError(from: status, event: event, problem: "fill quantity must be positive")
        }
        let total = filledQuantity + quantity
        guard total <= self.quantity else {
            throw OrderTransitionError(
                from: status, event: event, problem: "overfill: \(total) filled of \(self.quantity)")
        }
        filledQuantity = total
    }
}
