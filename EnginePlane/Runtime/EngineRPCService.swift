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
    /// The engine's executor when it runs on the link's event loop (the runtime's one-thread setup).
    let engineExecutor: EventLoopSerialExecutor?
    /// Requests waiting for the engine job that starts them (with `engineExecutor`).
    private let starts = Handoff<Start>()

    struct Start: Sendable {
        let request: ServerRequest
        let events: EventSink?
        let reply: @Sendable (Result<Data, RPCStatus>) -> Void
    }

    var serverID: String { engine.engineID }
    var venue: String { engine.venueName.rawValue }

    /// On the engine's own loop, requests start on the engine actor in place: the requests that
    /// arrive before the engine's next job are started by that one job (`Task.immediate` inside
    /// an engine job runs on the spot), and an order is answered from the sync thread once its
    /// batch is durable, by one loop job per batch (`Handoff`): a paper order's task runs to
    /// its end without suspending. The default path took ~4.6 executor jobs per order on the
    /// engine's thread (the start, the hop onto the actor, the resumption after the sync and the
    /// hops around it) and encoded every reply there.
    func start(
        _ request: ServerRequest, events: EventSink?, executor: EventLoopTaskExecutor,
        reply: @escaping @Sendable (Result<Data, RPCStatus>) -> Void
    ) {
        guard let engineExecutor, engineExecutor.eventLoop === executor.eventLoop,
            executor.eventLoop.inEventLoop
        else {
            Task(executorPreference: executor) { reply(await handle(request, events: events)) }
            return
        }
        guard starts.post(.init(request: request, events: events, reply: reply)) else { return }
        engine.assumeIsolated { engine in
            // One job on the engine's executor. The closures' synchronous reads of the engine's
            // state are what make them (and so their tasks) isolated to it: checked by the compiler.
            _ = Task {
                _ = engine.isReady
                for start in starts.take() {
                    // No executor preference: with one, the runtime saw a task-executor change
                    // and queued the task on the engine instead of running it here (uprobes: one
                    // job per order). The engine's jobs run under the loop's task executor anyway.
                    _ = Task.immediate {
                        _ = engine.isReady  // started right here: this job is on the engine already
                        if start.request.method == .submitOrder {
                            await submit(start.request, reply: start.reply)
                        } else {
                            start.reply(await handle(start.request, events: start.events))
                        }
                    }
                }
            }
        }
    }

    /// Runs on the caller's executor (`nonisolated(nonsending)`): on the engine when `start` began
    /// it there, so its calls into the engine are direct.
    nonisolated(nonsending) func handle(_ request: ServerRequest, events: EventSink?) async -> Result<Data, RPCStatus> {
        do {
            return .success(try await dispatch(request, events: events))
        } catch {
            return .failure(Self.status(of: error))
        }
    }

    /// SubmitOrder answered through `reply` once durable, without a task waiting for it.
    private nonisolated(nonsending) func submit(
        _ request: ServerRequest, reply: @escaping @Sendable (Result<Data, RPCStatus>) -> Void
    ) async {
        let command: SubmitCommand
        do {
            command = try SubmitCommand(try Self.decode(Fleet_V1_SubmitOrderRequest.self, request))
            try Self.checkDeadline(request)
        } catch {
            return reply(.failure(Self.status(of: error)))
        }
        await engine.submit(command) { result in
            // On the sync thread: the reply is encoded there, off the engine's.
            reply(result.mapError { Self.status(of: $0) }.flatMap(Self.encode))
        }
    }

    static func status(of error: any Error) -> RPCStatus {
        switch error {
        case let status as RPCStatus: status
        case let error as EngineError: RPCStatus(error.code.wire, error.message)
        default: RPCStatus(.internal, "\(error)")
        }
    }

    static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, _ request: ServerRequest) throws(RPCStatus) -> M {
        do { return try M(serializedBytes: [UInt8](request.payload)) } catch {
            throw RPCStatus.invalidArgument("payload is not a valid \(M.protoMessageName): \(error)")
        }
    }

    /// Checked once more right before acting: a request that waited past its deadline is refused.
    static func checkDeadline(_ request: ServerRequest) throws(RPCStatus) {
        if request.isExpired(nowUnixNanos: WallClock.nowUnixNanos()) { throw RPCStatus.deadlineExceeded() }
    }

    static func encode(_ outcome: SubmitOutcome) -> Result<Data, RPCStatus> {
        var reply = Fleet_V1_SubmitOrderResponse()
        reply.order = Fleet_V1_Order(outcome.order)
        reply.duplicate = outcome.duplicate
        reply.legs = outcome.legs.map(Fleet_V1_Order.init)
        do { return .success(try reply.serializedData()) } catch {
            return .failure(RPCStatus(.internal, "could not encode the reply: \(error)"))
        }
    }

    private nonisolated(nonsending) func dispatch(_ request: ServerRequest, events: EventSink?) async throws -> Data {
        func decode<M: SwiftProtobuf.Message>(_ type: M.Type) throws -> M { try Self.decode(type, request) }
        func checkDeadline() throws { try Self.checkDeadline(request) }
        switch request.method {
        case .submitOrder:
            let command = try SubmitCommand(try decode(Fleet_V1_SubmitOrderRequest.self))
            try checkDeadline()
            return try Self.encode(try await engine.submit(command)).get()
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
            let subscribe = try decode(Fleet_V1_SubscribeRequest.self)
            guard let events else { throw RPCStatus(.internal, "subscribe without an event sink") }
            let withOrders = !subscribe.excludeOrderEvents
            let (id, lastSeq) = await engine.subscribe { batch in
                // On the sync thread: the events left out are never converted or encoded.
                events.send(batch.compactMap { withOrders || !$0.event.isOrder ? Fleet_V1_Event($0) : nil })
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
