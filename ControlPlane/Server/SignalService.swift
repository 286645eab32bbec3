import FleetLink
import FleetProto
import FleetWire
import Foundation
import HTTPTypes
import JSONWriter
import NIOCore
import Prometheus
import StrategyRouter
import SwiftProtobuf
import Telemetry
import TradingDomain

/// Signal → model → client order id → the engine of the symbol's venue → the order's state.
struct SignalService: Sendable {
    let router: SignalRouter
    let supervisor: EngineSupervisor
    let metrics: OPSMetrics

    /// What OPS answers for a signal: the order as the engine holds it.
    struct Result {
        var clientOrderID: String
        var engine: String
        var venue: String
        var model: String
        var strategy: String
        var symbol: String
        var side: String
        var type: String
        var status: String
        var quantity: Fixed
        var filledQuantity: Fixed
        var averageFillPrice: Fixed
        var limitPrice: Fixed?
        var rejectReason: String?
        var rejectMessage: String?
        var duplicate: Bool

        /// The JSON body, keys sorted as every other answer of the API (`jsonResponse`); written
        /// field by field, as `JSONEncoder` took a tenth of OPS's event loop per signal.
        func json() -> [UInt8] {
            var object = JSONObjectWriter(capacity: 384)
            object.field("average_fill_price", averageFillPrice)
            object.field("client_order_id", clientOrderID)
            object.field("duplicate", duplicate)
            object.field("engine", engine)
            object.field("filled_quantity", filledQuantity)
            object.field("limit_price", ifPresent: limitPrice)
            object.field("model", model)
            object.field("quantity", quantity)
            object.field("reject_message", ifPresent: rejectMessage)
            object.field("reject_reason", ifPresent: rejectReason)
            object.field("side", side)
            object.field("status", status)
            object.field("strategy", strategy)
            object.field("symbol", symbol)
            object.field("type", type)
            object.field("venue", venue)
            return object.finish()
        }
    }

    /// The answer's JSON body (`Result`).
    func handle(body: [UInt8], idempotencyKey: String?) async throws(APIError) -> [UInt8] {
        let started = NIODeadline.now()
        defer { metrics.signalLatency.record(.nanoseconds((NIODeadline.now() - started).nanoseconds)) }
        // Each step that does not suspend is a function of its own, and what crosses the awaits is
        // small (the order and its reply as bytes): an async function's locals are allocated per
        // call in the task, and at 1.4 KB they took a malloc of their own (and glibc's slow path).
        let signal = try accept(body)
        let venue = signal.instrument.venue
        let supervisor = self.supervisor
        let decision: SignalRouter.Decision
        do {
            decision = try await router.route(signal, idempotencyKey: idempotencyKey, body: body) { model in
                supervisor.engine(venue: venue, model: model)?.id ?? ""
            }
        } catch {
            throw refusal(error)
        }
        let (link, request) = try order(signal, decision)
        let reply: Data
        do { reply = try await link.call(.submitOrder, payload: request) } catch {
            throw engineError(error, link: link.id)
        }
        return try answer(reply, signal: signal, decision: decision, link: link)
    }

    /// The parsed signal, if its venue has an engine that may trade its symbol.
    private func accept(_ body: [UInt8]) throws(APIError) -> Signal {
        let signal: Signal
        do { signal = try Signal.parse(json: body) } catch {
            metrics.signal(outcome: "invalid")
            throw APIError(.init(code: error.httpStatus), error.code, error.message)
        }
        let venue = signal.instrument.venue
        let engines = supervisor.engines(venue: venue)
        guard !engines.isEmpty else {
            metrics.signal(outcome: "no_engine")
            throw APIError(
                .unprocessableContent, "UNKNOWN_VENUE", "no engine for venue \(venue.rawValue) in fleet.yaml")
        }
        // Refuse a symbol no engine of the venue quotes before anything is recorded (engines that
        // have not said what they quote yet refuse nothing). No union per signal: it hashed every
        // symbol of the venue for each one.
        let symbol = signal.instrument.description
        if !engines.contains(where: { $0.symbols.contains(symbol) }),
            !engines.allSatisfy({ $0.symbols.isEmpty })
        {
            var symbols = Set<String>()
            for engine in engines { symbols.formUnion(engine.symbols) }
            metrics.signal(outcome: "unknown_symbol")
            throw APIError(
                .unprocessableContent, "UNKNOWN_SYMBOL",
                "\(signal.instrument) is not traded on \(venue.rawValue) (engines trade \(symbols.sorted().joined(separator: ", ")))"
            )
        }
        return signal
    }

    private func refusal(_ error: SignalError) -> APIError {
        metrics.signal(outcome: error.code == "IDEMPOTENCY_KEY_REUSED" ? "key_reused" : "refused")
        return APIError(.init(code: error.httpStatus), error.code, error.message)
    }

    /// The engine's link, if it is up, and the order for it.
    private func order(
        _ signal: Signal, _ decision: SignalRouter.Decision
    ) throws(APIError) -> (EngineLink, Data) {
        guard let link = supervisor.link(id: decision.engineID) else {
            metrics.signal(outcome: "no_engine")
            throw APIError(
                .conflict, "ENGINE_GONE",
                "engine '\(decision.engineID)' of this idempotency key is no longer in fleet.yaml")
        }
        guard link.state == .up else {
            metrics.signal(outcome: "engine_down")
            throw APIError(
                .serviceUnavailable, "ENGINE_DOWN",
                "engine \(link.id) for \(signal.instrument.venue.rawValue) is down; retry later with the same X-Idempotency-Key"
            )
        }
        var request = Fleet_V1_SubmitOrderRequest()
        request.clientOrderID = decision.clientOrderID
        request.symbol = signal.instrument.description
        request.side = signal.side == .buy ? .buy : .sell
        request.type = signal.type == .market ? .market : .limit
        request.quantityE8 = signal.quantity?.units ?? 0
        request.quoteQuantityE8 = signal.quote?.units ?? 0
        request.limitPriceE8 = signal.limitPrice?.units ?? 0
        request.model = decision.model
        request.strategy = signal.strategy
        do { return (link, try request.serializedData()) } catch {
            metrics.signal(outcome: "engine_error")
            throw APIError(.internalServerError, "INTERNAL", "could not encode the order: \(error)")
        }
    }

    private func engineError(_ error: any Error, link: String) -> APIError {
        metrics.signal(outcome: "engine_error")
        if let status = error as? RPCStatus { return Self.apiError(status, engine: link) }
        return APIError(.badGateway, "ENGINE_ERROR", "\(error)")
    }

    /// The engine's reply as the answer's JSON.
    private func answer(
        _ bytes: Data, signal: Signal, decision: SignalRouter.Decision, link: EngineLink
    ) throws(APIError) -> [UInt8] {
        let reply: Fleet_V1_SubmitOrderResponse
        do { reply = try Fleet_V1_SubmitOrderResponse(serializedBytes: bytes) } catch {
            throw engineError(RPCStatus(.internal, "undecodable SubmitOrderResponse: \(error)"), link: link.id)
        }
        let order = reply.order
        metrics.signal(outcome: order.status == .rejected ? "rejected" : "accepted")
        return Result(
            clientOrderID: order.clientOrderID, engine: link.id, venue: link.venue.rawValue, model: order.model,
            strategy: order.strategy, symbol: order.symbol, side: signal.side.rawValue, type: signal.type.rawValue,
            status: Self.statusName(order.status), quantity: Fixed(units: order.quantityE8),
            filledQuantity: Fixed(units: order.filledQuantityE8),
            averageFillPrice: Fixed(units: order.averageFillPriceE8),
            limitPrice: order.limitPriceE8 == 0 ? nil : Fixed(units: order.limitPriceE8),
            rejectReason: order.rejectReason.isEmpty ? nil : order.rejectReason,
            rejectMessage: order.rejectMessage.isEmpty ? nil : order.rejectMessage,
            duplicate: reply.duplicate || decision.isRetry
        ).json()
    }

    static func apiError(_ status: RPCStatus, engine: String) -> APIError {
        switch status.code {
        case .invalidArgument: APIError(.badRequest, "INVALID_ORDER", "engine \(engine): \(status.message)")
        case .alreadyExists: APIError(.conflict, "CLIENT_ORDER_ID_CONFLICT", "engine \(engine): \(status.message)")
        case .unavailable: APIError(.serviceUnavailable, "ENGINE_DOWN", "engine \(engine): \(status.message)")
        case .deadlineExceeded: APIError(.gatewayTimeout, "ENGINE_TIMEOUT", "engine \(engine) did not answer in time")
        default: APIError(.badGateway, "ENGINE_ERROR", "engine \(engine): \(status)")
        }
    }

    static func statusName(_ status: Fleet_V1_OrderStatus) -> String {
        switch status {
        case .pendingSubmit: "PENDING_SUBMIT"
        case .accepted: "ACCEPTED"
        case .partiallyFilled: "PARTIALLY_FILLED"
        case .filled: "FILLED"
        case .pendingCancel: "PENDING_CANCEL"
        case .canceled: "CANCELED"
        case .rejected: "REJECTED"
        case .expired: "EXPIRED"
        default: "UNKNOWN"
        }
    }
}
