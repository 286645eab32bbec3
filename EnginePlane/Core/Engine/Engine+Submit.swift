import Logging
import Storage
import TradingDomain

extension Engine {
    /// Places one order at most once per client order id, ever.
    ///
    /// A known id returns the existing order (`duplicate`), or ALREADY_EXISTS if the request is
    /// different. A risk refusal is a REJECTED order, recorded so that a retry gets the same answer.
    /// Otherwise the intent is made durable before the venue call, and the outcome (ack, fills) is
    /// durable before this returns. Stops, trailing stops and bracket exits are held in the engine
    /// (status HELD, durable) until their trigger fires.
    public func submit(_ command: SubmitCommand) async throws(EngineError) -> SubmitOutcome {
        let outcome = try await submitWritten(command)
        try await durable()  // a duplicate's first submission may still be in the batch being synced
        return outcome
    }

    /// `submit` for a caller that does not wait for durability in a task: `reply` gets the outcome
    /// once it is durable (on the sync thread), or the error. A paper order runs to its last write
    /// without suspending, so a task started in place for it ends here instead of being resumed
    /// after the sync (a resumption costs the engine's thread two executor jobs per order).
    public func submit(
        _ command: SubmitCommand, reply: @escaping @Sendable (Result<SubmitOutcome, EngineError>) -> Void
    ) async {
        let outcome: SubmitOutcome
        do { outcome = try await submitWritten(command) } catch { return reply(.failure(error)) }
        whenDurable { result in reply(result.map { outcome }) }
    }

    /// `submit` up to its last write; the caller then waits for it to be durable.
    func submitWritten(_ command: SubmitCommand) async throws(EngineError) -> SubmitOutcome {
        // What this function keeps across its awaits is its task frame, allocated per order: the
        // rare paths and the lookups are functions of their own (5.5 KB here before, which took a
        // malloc of its own in the task allocator for every order).
        try validate(command)
        if sending[command.clientOrderID] != nil { await waitForSubmission(of: command.clientOrderID) }
        switch try admit(command) {
        case .known(let existing):
            return try await duplicate(of: existing)
        case .refused(let order):
            return SubmitOutcome(order: order, duplicate: false)
        case .recorded(let order, let hasLegs):
            if order.status == .pendingSubmit {
                sending[order.clientOrderID] = []
                defer { for waiter in sending.removeValue(forKey: order.clientOrderID) ?? [] { waiter.resume() } }
                try await send(order.clientOrderID)
            }
            return try outcome(of: order, hasLegs: hasLegs)
        }
    }

    /// The first submission of this client order id is still on its way to the venue: waits for
    /// its answer.
    @inline(never)
    private func waitForSubmission(of clientOrderID: String) async {
        await withCheckedContinuation { continuation in
            // Checked again here: the first submission may have finished while this suspended.
            if sending[clientOrderID] != nil {
                sending[clientOrderID]?.append(continuation)
            } else {
                continuation.resume()
            }
        }
    }

    /// A retry of a known order. One whose submission outcome is unknown is asked about at the
    /// venue now, never resent.
    @inline(never)
    private func duplicate(of existing: OrderRecord) async throws(EngineError) -> SubmitOutcome {
        if existing.status == .pendingSubmit { try await resolvePending(existing) }
        return SubmitOutcome(
            order: try order(existing.clientOrderID) ?? existing, duplicate: true, legs: try legs(of: existing))
    }

    /// A recorded order as it stands now, with its legs (no lookups for the plain orders).
    @inline(never)
    private func outcome(of order: OrderRecord, hasLegs: Bool) throws(EngineError) -> SubmitOutcome {
        SubmitOutcome(
            order: try self.order(order.clientOrderID) ?? order, duplicate: false,
            legs: hasLegs ? try legs(of: order) : [])
    }

    /// What `admit` did with a command.
    enum Admission {
        /// The client order id is known and the command matches it.
        case known(OrderRecord)
        /// The rails refused it: recorded as REJECTED.
        case refused(OrderRecord)
        /// Its intent (and its legs') is recorded; it goes to the venue unless it is held.
        case recorded(OrderRecord, hasLegs: Bool)
    }

    /// The synchronous part of `submit`: the duplicate check, sizing, the risk verdict and the
    /// write-ahead intent. Not inlined into `submit` on purpose: an async function keeps the
    /// locals of everything inlined into it in its task's heap-allocated frame, for as long as the
    /// order is in flight; here they live on the thread's stack (heaptrack: `submit`'s frame went
    /// from ~15 KB to ~7 KB per order in flight).
    @inline(never)
    func admit(_ command: SubmitCommand) throws(EngineError) -> Admission {
        if let existing = try order(command.clientOrderID) {
            guard command.matches(existing) else {
                throw EngineError(
                    .alreadyExists,
                    "client order id '\(command.clientOrderID)' is already used by a different order")
            }
            return .known(existing)
        }
        let now = WallClock.nowUnixNanos()
        let quote = venue.quote(command.instrument)
        let limits = rails.limits.symbols[command.instrument]
        var quantity = command.quantity
        var verdict = RiskRails.Verdict.accept
        if command.quoteQuantity.isPositive {
            // Size by notional at the price the order would take, rounded down to the lot.
            if let price = command.type.hasLimitPrice ? command.limitPrice : quote?.touch(for: command.side),
                price.isPositive, let raw = command.quoteQuantity.divided(by: price, rounding: .towardZero)
            {
                quantity = raw.rounded(toMultipleOf: limits?.lotSize ?? Fixed(units: 1), rule: .towardZero)
                if quantity.isZero {
                    verdict = .reject(.quantityBelowLot, "\(command.quoteQuantity) buys less than one lot at \(price)")
                }
            } else {
                verdict = .reject(.noMarketPrice, "no market price for \(command.instrument) to size the order")
            }
        }
        var order = OrderRecord(
            clientOrderID: command.clientOrderID, instrument: command.instrument, side: command.side,
            type: command.type,
            timeInForce: command.effectiveTimeInForce, limitPrice: command.limitPrice,
            quoteQuantity: command.quoteQuantity,
            progress: OrderProgress(
                quantity: quantity, status: emulated(command.type) ? .held : .pendingSubmit),
            model: command.model, strategy: command.strategy, createdUnixNanos: now, updatedUnixNanos: now)
        order.stopPrice = command.stopPrice
        order.trailingOffset = command.trailingOffset
        order.trailingBps = command.trailingBps
        if command.type == .trailingStop, let quote {
            order.waterMark = command.side == .sell ? quote.bid : quote.ask
            order.stopPrice = trailingStop(order, water: order.waterMark)
        }
        if verdict == .accept { verdict = riskVerdict(for: order, quote: quote, gates: order.status == .pendingSubmit) }
        if case .reject(let reason, let message) = verdict {
            try deny(&order, reason: reason, message: message, at: now, isNew: true)
            return .refused(order)
        }

        var legs: [OrderRecord] = []
        if command.isBracket || command.ocoStopPrice.isPositive {
            legs = makeLegs(for: command, parent: order, quantity: quantity, at: now)
            for leg in legs where try self.order(leg.clientOrderID) != nil {
                throw EngineError(
                    .alreadyExists, "client order id '\(leg.clientOrderID)' (a leg of this order) is already used")
            }
            if command.ocoStopPrice.isPositive { order.ocoGroup = order.clientOrderID }
        }
        // Write-ahead intent, committed before the request leaves (or, for the paper venue, whose
        // book is written in the ledger's transaction, committed with the venue's record of it): a
        // crash at any later instant leaves a row that recovery resolves by asking the venue, so
        // the venue can never hold an order the ledger does not know.
        try record(order, isNew: true)
        for leg in legs { try record(leg, isNew: true) }
        audit.order(order.status == .held ? "order_held" : "order_intent", order)
        for leg in legs { audit.order("order_held", leg, extra: [("parent", order.clientOrderID)]) }
        try commitAndPublish()
        if order.status == .pendingSubmit { observer.orderSubmitted(model: order.model) }
        return .recorded(order, hasLegs: !legs.isEmpty)
    }

    /// The risk verdict for `order` now: the pure rails, then the stateful gates (breaker, rates).
    /// `gates`: also take a rate token and ask the breaker — only for an order about to leave.
    func riskVerdict(for order: OrderRecord, quote: Quote?, gates: Bool) -> RiskRails.Verdict {
        let openSameSide = open.openQuantity(order.instrument, order.side, excluding: order.clientOrderID)
        // The quotes as they are (`marks` would build a dictionary of mids per order).
        let quotes = venue.quotes()
        func exposure(_ instrument: InstrumentID, _ lot: PositionLot) -> Fixed {
            lot.quantity.magnitude.multiplied(by: quotes[instrument]?.mid ?? lot.averagePrice) ?? .max
        }
        let gross = portfolio.positions.reduce(Fixed.zero) { sum, entry in sum + exposure(entry.key, entry.value) }
        let position = portfolio.position(order.instrument)
        let now = WallClock.monotonicNanos()
        let price: Fixed? =
            switch order.type {
            case .limit, .stopLimit: order.limitPrice
            case .stop, .trailingStop: order.stopPrice.isPositive ? order.stopPrice : quote?.touch(for: order.side)
            case .market: quote?.touch(for: order.side)
            }
        let verdict = rails.check(
            instrument: order.instrument, side: order.side, quantity: order.quantity,
            context: RiskRails.Context(
                mode: mode, position: position, openSameSide: openSameSide, price: price, killSwitch: killLevel,
                grossExposure: gross,
                instrumentExposure: portfolio.positions[order.instrument].map { exposure(order.instrument, $0) }
                    ?? .zero,
                openOrders: open.count, lossPausedUntil: risk.lossPausedUntil, nowNanos: now))
        guard verdict == .accept, gates else { return verdict }
        return passGates(order.instrument, now: now)
    }

    /// Records a refusal: a REJECTED order (so a retry gets the same answer), an event, a metric.
    func deny(
        _ order: inout OrderRecord, reason: RejectReason, message: String, at now: Int64, isNew: Bool = false
    ) throws(EngineError) {
        order.reject(reason: reason.rawValue, message: message, at: now)
        try record(order, isNew: isNew)
        audit.order("order_denied", order)
        pendingEvents.append(
            .risk(
                RiskNotice(
                    kind: "ORDER_DENIED", reason: reason.rawValue, message: message, instrument: order.instrument,
                    clientOrderID: order.clientOrderID, model: order.model)))
        try commitAndPublish()
        observer.orderRejected(model: order.model, reason: reason.rawValue)
    }

    /// Sends a PENDING_SUBMIT order to the venue once its intent is durable, and applies the answer.
    func send(_ clientOrderID: String) async throws(EngineError) {
        guard open[clientOrderID]?.status == .pendingSubmit else { return }
        // The intent must be durable before the request leaves, unless the venue's record of the
        // order is written in the ledger's transaction after it (paper): then both commit together.
        if !venueSharesTransaction { try await durable() }
        guard let request = venueRequest(for: clientOrderID) else { return }
        do {
            let report = try await venue.submit(request)
            recordVenueOutcome(success: true)
            try apply(report)
        } catch let error as VenueError {
            recordVenueOutcome(success: error.kind == .rejected || error.kind == .notFound)
            try resolveFailedSubmit(clientOrderID: clientOrderID, error: error)
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.internalError, "\(error)")
        }
        try commitAndPublish()
        try await settleContingents()
    }

    /// The request for an order still waiting to be sent; nil once it is not (looked up again:
    /// other work ran on the actor while the intent was being synced). Not inlined: its locals
    /// would otherwise live in `send`'s task frame.
    @inline(never)
    private func venueRequest(for clientOrderID: String) -> VenueOrderRequest? {
        guard let order = open[clientOrderID], order.status == .pendingSubmit else { return nil }
        // An emulated stop that fired goes out as what it turns into; a native one as itself.
        let sendType: OrderType =
            !emulated(order.type)
            ? order.type : order.type == .stopLimit ? .limit : (order.type.isTriggered ? .market : order.type)
        var request = VenueOrderRequest(
            clientOrderID: order.clientOrderID, instrument: order.instrument, side: order.side, type: sendType,
            timeInForce: sendType == .market ? .ioc : order.timeInForce, quantity: order.quantity,
            limitPrice: sendType.hasLimitPrice ? order.limitPrice : .zero)
        if !emulated(order.type) {
            request.stopPrice = order.stopPrice
            request.trailingOffset = order.trailingOffset
            request.trailingBps = order.trailingBps
        }
        return request
    }

    /// True when the engine holds and fires this type itself because the venue lacks it.
    func emulated(_ type: OrderType) -> Bool { type.isTriggered && !venue.nativeOrderTypes.contains(type) }

    /// Asks the venue about an order whose submission outcome is unknown and applies what it says.
    func resolvePending(_ order: OrderRecord) async throws(EngineError) {
        do {
            if let report = try await venue.order(clientOrderID: order.clientOrderID, instrument: order.instrument) {
                try apply(report)
                try commitAndPublish()
            }
        } catch let error as EngineError {
            throw error
        } catch {
            logger.warning(
                "venue still unreachable for a pending order", metadata: ["client_order_id": "\(order.clientOrderID)"])
        }
    }

    /// A venue call that did not say yes. Rejected: the order is closed. Anything else: the order
    /// stays PENDING_SUBMIT, and reconciliation asks the venue what happened; never a blind resend.
    func resolveFailedSubmit(clientOrderID: String, error: VenueError) throws(EngineError) {
        guard var order = open[clientOrderID] else { return }
        switch error.kind {
        case .rejected:
            order.reject(
                reason: RejectReason.venueRejected.rawValue, message: error.message, at: WallClock.nowUnixNanos())
            try record(order)
            audit.order("venue_rejected", order)
            observer.orderRejected(model: order.model, reason: RejectReason.venueRejected.rawValue)
        case .unavailable, .outcomeUnknown, .notFound:
            audit.order("venue_outcome_unknown", order, extra: [("error", error.message)])
            logger.warning(
                "venue outcome unknown; the order stays pending until reconciled",
                metadata: ["client_order_id": "\(clientOrderID)", "error": "\(error)"])
        }
    }

    /// Cancels an order; an OCO member takes its group with it, a bracket entry its exits.
    public func cancel(clientOrderID: String) async throws(EngineError) -> OrderRecord {
        let canceled = try await cancelOne(clientOrderID: clientOrderID)
        if !canceled.ocoGroup.isEmpty {
            for sibling in open.values
            where sibling.ocoGroup == canceled.ocoGroup && sibling.clientOrderID != clientOrderID {
                _ = try? await cancelOne(clientOrderID: sibling.clientOrderID, settle: false)
            }
        }
        let result = try order(clientOrderID) ?? canceled
        try await durable()
        return result
    }

    /// Cancels one order. `settle`: afterwards, arm or cancel the contingents that depend on it.
    func cancelOne(clientOrderID: String, settle: Bool = true) async throws(EngineError) -> OrderRecord {
        guard killLevel != .hardKill else {
            throw EngineError(.failedPrecondition, "hard kill switch is set: nothing leaves, not even cancels")
        }
        guard var order = open[clientOrderID] else {
            if let closed = try order(clientOrderID) { return closed }
            throw EngineError(.notFound, "no order with client order id '\(clientOrderID)'")
        }
        if order.status == .held {
            // Never left the engine: cancelled here, at once (and a bracket entry's exits with it).
            do { try order.apply(.canceled, at: WallClock.nowUnixNanos()) } catch {
                throw EngineError(.failedPrecondition, "\(error)")
            }
            try record(order)
            audit.order("cancelled_held", order)
            try commitAndPublish()
            if settle { try await settleContingents() }
            return order
        }
        do { try order.apply(.cancelRequested, at: WallClock.nowUnixNanos()) } catch {
            throw EngineError(.failedPrecondition, "\(error)")
        }
        try record(order)
        audit.order("cancel_requested", order)
        try commitAndPublish()
        try await durable()
        do {
            let report = try await venue.cancel(clientOrderID: clientOrderID, instrument: order.instrument)
            try apply(report)
        } catch let error as VenueError {
            if var current = open[clientOrderID], current.status == .pendingCancel {
                try? current.apply(.cancelRejected, at: WallClock.nowUnixNanos())
                try record(current)
            }
            audit.order("cancel_failed", order, extra: [("error", error.message)])
            try commitAndPublish()
            throw EngineError(.failedPrecondition, "the venue refused the cancel: \(error.message)")
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.internalError, "\(error)")
        }
        try commitAndPublish()
        if settle { try await settleContingents() }
        return try self.order(clientOrderID) ?? order
    }

    /// Closes every position with market orders, one per model and instrument, so each model's PnL
    /// is closed on its own lot. The orders pass the rails like any other (a halted engine sends none).
    public func flatten(reason: String) async throws(EngineError) -> [OrderRecord] {
        guard killLevel != .hardKill else {
            throw EngineError(.failedPrecondition, "hard kill switch is set: nothing leaves, not even exits")
        }
        audit.record("flatten", [("reason", reason)])
        var results: [OrderRecord] = []
        let stamp = WallClock.nowUnixNanos()
        let lots = portfolio.modelLots.sorted { ($0.key.model, $0.key.instrument) < ($1.key.model, $1.key.instrument) }
        for (index, (key, lot)) in lots.enumerated() where !lot.quantity.isZero {
            // Ids from a counter, not from model or symbol names, so they always pass validation.
            let command = SubmitCommand(
                clientOrderID: "flatten-\(stamp)-\(index)", instrument: key.instrument,
                side: lot.quantity.isPositive ? .sell : .buy, type: .market, quantity: lot.quantity.magnitude,
                model: key.model, strategy: "flatten")
            results.append(try await submit(command).order)
        }
        return results
    }

    func validate(_ command: SubmitCommand) throws(EngineError) {
        let id = command.clientOrderID
        guard (1...64).contains(id.utf8.count),
            id.utf8.allSatisfy({
                ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95
                    || $0 == 46 || $0 == 58
            })
        else {
            throw EngineError(.invalidArgument, "client_order_id must be 1-64 characters of A-Z a-z 0-9 - _ . :")
        }
        guard command.instrument.venue == venueName else {
            throw EngineError(
                .invalidArgument,
                "\(command.instrument) is not on \(venueName.rawValue): this engine trades \(venueName.rawValue) only")
        }
        guard command.quantity.isPositive != command.quoteQuantity.isPositive,
            !command.quantity.isNegative, !command.quoteQuantity.isNegative
        else {
            throw EngineError(.invalidArgument, "give exactly one of a positive quantity or a positive quote quantity")
        }
        func require(_ condition: Bool, _ message: String) throws(EngineError) {
            if !condition { throw EngineError(.invalidArgument, message) }
        }
        switch command.type {
        case .market:
            try require(command.limitPrice.isZero, "a market order takes no limit price")
        case .limit:
            try require(command.limitPrice.isPositive, "a limit order needs a positive limit price")
        case .stop:
            try require(command.stopPrice.isPositive, "a stop order needs a positive stop price")
            try require(command.limitPrice.isZero, "a stop order takes no limit price (use STOP_LIMIT)")
        case .stopLimit:
            try require(
                command.stopPrice.isPositive && command.limitPrice.isPositive,
                "a stop-limit order needs a stop and a limit price")
        case .trailingStop:
            try require(
                command.trailingOffset.isPositive != (command.trailingBps > 0) && !command.trailingOffset.isNegative
                    && command.trailingBps >= 0 && command.trailingBps < 10_000,
                "a trailing stop needs exactly one of a positive offset or a percentage (1-9999 bps)")
            try require(command.quoteQuantity.isZero, "size a trailing stop by quantity")
        }
        if command.type != .trailingStop {
            try require(
                command.trailingOffset.isZero && command.trailingBps == 0,
                "only a trailing stop takes a trailing distance")
        }
        if command.type != .stop && command.type != .stopLimit {
            try require(command.stopPrice.isZero, "only STOP and STOP_LIMIT take a stop price")
        }
        if command.isBracket {
            try require(command.type == .market || command.type == .limit, "a bracket entry is a MARKET or LIMIT order")
            try require(
                command.takeProfitPrice.isPositive && command.stopLossPrice.isPositive,
                "a bracket needs both take_profit and stop_loss prices")
            let ordered =
                command.side == .buy
                ? command.takeProfitPrice > command.stopLossPrice : command.takeProfitPrice < command.stopLossPrice
            try require(ordered, "the take-profit must be on the profitable side of the stop-loss")
            try require(
                command.clientOrderID.utf8.count <= 61, "a bracket's client_order_id must be at most 61 characters")
            try require(command.ocoStopPrice.isZero, "an order is a bracket or an OCO, not both")
        }
        if command.ocoStopPrice.isPositive {
            try require(command.type == .limit, "an OCO pairs a LIMIT order with a stop leg")
            try require(
                command.clientOrderID.utf8.count <= 61, "an OCO's client_order_id must be at most 61 characters")
        }
        guard !command.model.isEmpty, command.model.utf8.count <= 64 else {
            throw EngineError(.invalidArgument, "model must be 1-64 characters")
        }
        if command.type == .market, command.timeInForce == .gtc {
            throw EngineError(.invalidArgument, "a market order cannot rest: use IOC or FOK")
        }
    }

    /// Runs ledger writes; a storage failure stops the engine (the open batch holds others' writes).
    func write(_ body: () throws(StorageError) -> Void) throws(EngineError) {
        if let failure { throw failure }
        do { try body() } catch { throw fail(error) }
    }

    /// Queues `order`'s row for the next flush (see `dirtyOrders`).
    func stage(_ order: OrderRecord, isNew: Bool = false) {
        let known = dirtyOrders[order.clientOrderID]
        dirtyOrders[order.clientOrderID] = (order, isNew || (known?.isNew ?? false))
    }

    /// Stores `order`, keeps the open-order cache in step and queues its event.
    /// `isNew`: the order's first write (an intent, a leg, a refusal at submit).
    func record(_ order: OrderRecord, isNew: Bool = false) throws(EngineError) {
        if let failure { throw failure }
        stage(order, isNew: isNew)
        if order.status.isOpen {
            open[order.clientOrderID] = order
            recentlyClosed.removeValue(forKey: order.clientOrderID)
            closedBeforeLastFlush.removeValue(forKey: order.clientOrderID)
        } else {
            open.removeValue(forKey: order.clientOrderID)
            recentlyClosed[order.clientOrderID] = order
        }
        pendingEvents.append(.order(order))
    }
}
