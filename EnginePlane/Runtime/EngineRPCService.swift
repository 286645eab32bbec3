import EngineCore
import FleetProto
import FleetWire
import FoundationEssentials
import NIOCore
import SwiftProtobuf
import TradingDomain

/// Serves the engine's RPC methods over the fleet link: decodes, checks the deadline once more
/// right before acting, calls the engine, encodes. A request that cannot be decoded changes nothing.
struct EngineRPCService: FleetService {
    let engine: Engine
    let version: String
    let status: @Sendable () -> String

    var serverID: String { engine.engineID }
    var venue: String { engine.venueName.rawValue }

    func handle(_ request: ServerRequest, events: EventSink?) async -> Result<Data, RPCStatus> {
        do {
            return .success(try await dispatch(request, events: events))
        } catch let status as RPCStatus {
            return .failure(status)
        } catch let error as EngineError {
            return .failure(RPCStatus(error.code.wire, error.message))
        } catch {
            return .failure(RPCStatus(.internal, "\(error)"))
        }
    }

    private func dispatch(_ request: ServerRequest, events: EventSink?) async throws -> Data {
        func decode<M: SwiftProtobuf.Message>(_ type: M.Type) throws -> M {
            do { return try M(serializedBytes: [UInt8](request.payload)) } catch {
                throw RPCStatus.invalidArgument("payload is not a valid \(M.protoMessageName): \(error)")
            }
        }
        func checkDeadline() throws {
            if request.isExpired(nowUnixNanos: WallClock.nowUnixNanos()) { throw RPCStatus.deadlineExceeded() }
        }
        switch request.method {
        case .submitOrder:
            let command = try SubmitCommand(try decode(Fleet_V1_SubmitOrderRequest.self))
            try checkDeadline()
            let outcome = try await engine.submit(command)
            var reply = Fleet_V1_SubmitOrderResponse()
            reply.order = Fleet_V1_Order(outcome.order)
            reply.duplicate = outcome.duplicate
            reply.legs = outcome.legs.map(Fleet_V1_Order.init)
            return try reply.serializedData()
        case .cancelOrder:
            let cancel = try decode(Fleet_V1_CancelOrderRequest.self)
            try checkDeadline()
            var reply = Fleet_V1_OrderResponse()
            reply.order = Fleet_V1_Order(try await engine.cancel(clientOrderID: cancel.clientOrderID))
            return try reply.serializedData()
        case .replaceOrder:
            let replace = try decode(Fleet_V1_ReplaceOrderRequest.self)
            guard !replace.newClientOrderID.isEmpty else {
                throw RPCStatus.invalidArgument("new_client_order_id is required")
            }
            try checkDeadline()
            var reply = Fleet_V1_OrderResponse()
            reply.order = Fleet_V1_Order(
                try await engine.replace(
                    clientOrderID: replace.clientOrderID, newClientOrderID: replace.newClientOrderID,
                    quantity: Fixed(units: replace.quantityE8), limitPrice: Fixed(units: replace.limitPriceE8)))
            return try reply.serializedData()
        case .getSnapshot:
            _ = try decode(Fleet_V1_GetSnapshotRequest.self)
            let snapshot = await engine.snapshot()
            return try Fleet_V1_Snapshot(snapshot, engineID: engine.engineID, venue: engine.venueName).serializedData()
        case .setTradingMode:
            let change = try decode(Fleet_V1_SetTradingModeRequest.self)
            guard let mode = change.mode.domain else {
                throw RPCStatus.invalidArgument("mode must be ACTIVE, CLOSE_ONLY or HALTED")
            }
            try checkDeadline()
            var reply = Fleet_V1_SetTradingModeResponse()
            reply.mode = .init(try await engine.setTradingMode(mode, reason: change.reason))
            return try reply.serializedData()
        case .flatten:
            let flatten = try decode(Fleet_V1_FlattenRequest.self)
            try checkDeadline()
            var reply = Fleet_V1_FlattenResponse()
            reply.orders = try await engine.flatten(reason: flatten.reason).map(Fleet_V1_Order.init)
            return try reply.serializedData()
        case .subscribe:
            guard let events else { throw RPCStatus(.internal, "subscribe without an event sink") }
            let (id, lastSeq) = await engine.subscribe { batch in
                events.send(batch.map(Fleet_V1_Event.init))
            }
            let engine = self.engine
            events.closeFuture.whenComplete { _ in Task { await engine.unsubscribe(id) } }
            var reply = Fleet_V1_SubscribeResponse()
            reply.lastEventSeq = lastSeq
            return try reply.serializedData()
        case .health:
            var reply = Fleet_V1_HealthResponse()
            reply.engineID = engine.engineID
            reply.venue = engine.venueName.rawValue
            reply.ready = await engine.isReady
            reply.tradingMode = .init(await engine.tradingMode)
            reply.version = version
            reply.status = status()
            return try reply.serializedData()
        case .noop:
            return Data()
        case .unspecified, .UNRECOGNIZED:
            throw RPCStatus(.unimplemented, "unknown method")
        }
    }
}

extension SubmitCommand {
    init(_ wire: Fleet_V1_SubmitOrderRequest) throws(RPCStatus) {
        let instrument: InstrumentID
        do { instrument = try InstrumentID(parsing: wire.symbol) } catch { throw RPCStatus.invalidArgument("\(error)") }
        guard let side = wire.side.domain else { throw RPCStatus.invalidArgument("side must be BUY or SELL") }
        guard let type = wire.type.domain else {
            throw RPCStatus.invalidArgument("type must be MARKET, LIMIT, STOP, STOP_LIMIT or TRAILING_STOP")
        }
        let tif: TimeInForce?
        switch wire.timeInForce {
        case .tifUnspecified: tif = nil
        case .gtc: tif = .gtc
        case .ioc: tif = .ioc
        case .fok: tif = .fok
        case .UNRECOGNIZED: throw RPCStatus.invalidArgument("unknown time in force")
        }
        self.init(
            clientOrderID: wire.clientOrderID, instrument: instrument, side: side, type: type, timeInForce: tif,
            quantity: Fixed(units: wire.quantityE8), quoteQuantity: Fixed(units: wire.quoteQuantityE8),
            limitPrice: Fixed(units: wire.limitPriceE8), model: wire.model, strategy: wire.strategy)
        stopPrice = Fixed(units: wire.stopPriceE8)
        trailingOffset = Fixed(units: wire.trailingOffsetE8)
        trailingBps = wire.trailingPercentBps
        takeProfitPrice = Fixed(units: wire.takeProfitPriceE8)
        stopLossPrice = Fixed(units: wire.stopLossPriceE8)
        ocoStopPrice = Fixed(units: wire.ocoStopPriceE8)
    }
}

extension EngineError.Code {
    var wire: Fleet_V1_StatusCode {
        switch self {
        case .invalidArgument: .invalidArgument
        case .alreadyExists: .alreadyExists
        case .notFound: .notFound
        case .failedPrecondition: .failedPrecondition
        case .unavailable: .unavailable
        case .internalError: .internal
        }
    }
}
