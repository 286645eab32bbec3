import FleetLink
import FleetProto
import FleetWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OPSConfig
import PnLBook
import Prometheus
import Storage
import StrategyRouter
import Telemetry
import TradingDomain

/// What the route handlers share.
struct RouteContext: Sendable {
    let signals: SignalService
    let supervisor: EngineSupervisor
    let book: PnLBook
    let metrics: OPSMetrics
    let router: SignalRouter
    let weightsPath: String
    let startedAt: Int64
}

struct EngineView: Encodable {
    var id: String
    var venue: String
    var address: String
    var state: String
    var stateSinceUnixNanos: Int64
    var reconnects: Int
    var lastError: String?
    var symbols: [String]

    enum CodingKeys: String, CodingKey {
        case id, venue, address, state, reconnects, symbols
        case stateSinceUnixNanos = "state_since_unix_ns"
        case lastError = "last_error"
    }
}

func engineViews(_ supervisor: EngineSupervisor) async -> [EngineView] {
    var out: [EngineView] = []
    for link in supervisor.links {
        let error = await link.lastError
        out.append(
            EngineView(
                id: link.id, venue: link.venue.rawValue, address: "\(link.host):\(link.port)",
                state: link.state.rawValue,
                stateSinceUnixNanos: await link.stateSinceUnixNanos, reconnects: await link.reconnects,
                lastError: error.isEmpty ? nil : error, symbols: link.symbols.sorted()))
    }
    return out
}

func makeRouter(_ shared: RouteContext, signalRoute: SignalRoute) -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: ErrorJSONMiddleware())
    router.add(middleware: TokenMiddleware(token: signalRoute.token))

    // `SignalRouteHandler` answers these in the connection's pipeline; the router sees only what
    // that handler passes on (say, a trailing slash), and answers it the same way.
    router.post(RouterPath(SignalRoute.path)) { request, context -> Response in
        var body = ByteBuffer()
        var tooLarge = false
        do {
            body = try await request.body.collect(upTo: SignalRoute.maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // Hummingbird's `collect` throws NIO's `NIOTooManyBytesError` here, not an `HTTPError`.
            tooLarge = true
        }
        let (status, json) = await signalRoute.answer(
            token: request.headers[SignalRoute.tokenField], idempotencyKey: request.headers[SignalRoute.idempotencyKey],
            body: body, tooLarge: tooLarge)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }

    router.get("/status") { _, _ -> Response in
        struct Status: Encodable {
            var version: String
            var uptimeSeconds: Int64
            var enginesUp: Int
            var enginesDown: Int
            var engines: [EngineView]
            var totalRealizedPnL: Fixed
            var totalUnrealizedPnL: Fixed
            enum CodingKeys: String, CodingKey {
                case version, engines
                case uptimeSeconds = "uptime_seconds"
                case enginesUp = "engines_up"
                case enginesDown = "engines_down"
                case totalRealizedPnL = "total_realized_pnl"
                case totalUnrealizedPnL = "total_unrealized_pnl"
            }
        }
        let engines = await engineViews(shared.supervisor)
        let up = engines.filter { $0.state == EngineLink.State.up.rawValue }.count
        let pnl = shared.book.report()
        return try jsonResponse(
            Status(
                version: OPSApp.version, uptimeSeconds: (WallClock.nowUnixNanos() - shared.startedAt) / 1_000_000_000,
                enginesUp: up, enginesDown: engines.count - up, engines: engines,
                totalRealizedPnL: pnl.totalRealizedPnL,
                totalUnrealizedPnL: pnl.totalUnrealizedPnL))
    }

    router.get("/engines") { _, _ -> Response in
        struct Engines: Encodable { var engines: [EngineView] }
        return try jsonResponse(Engines(engines: await engineViews(shared.supervisor)))
    }

    router.get("/dash/pnl") { _, _ -> Response in
        try jsonResponse(shared.book.report())
    }

    router.post("/kill") { request, _ -> Response in
        try await setModeEverywhere(shared, mode: .halted, request: request)
    }
    router.post("/resume") { request, _ -> Response in
        try await setModeEverywhere(shared, mode: .active, request: request)
    }

    router.get("/strategy/weights") { _, _ -> Response in
        try jsonResponse(await shared.router.currentWeights.weights)
    }
    router.put("/strategy/weights") { request, _ -> Response in
        let body = try await request.body.collect(upTo: 256 * 1024)
        let weights: StrategyWeights
        do { weights = try StrategyWeights.parse(Data(Array(buffer: body)), source: "request body") } catch {
            throw APIError(.badRequest, "INVALID_WEIGHTS", (error as? OPSConfigError)?.message ?? "\(error)")
        }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            let bytes = Array(try encoder.encode(weights.weights))
            // The file's fsyncs take milliseconds: off the event loop that serves every signal.
            try await withTaskExecutorPreference(globalConcurrentExecutor) {
                try AtomicFile.write(bytes, to: shared.weightsPath)
            }
        } catch {
            throw APIError(.internalServerError, "STORAGE_ERROR", "could not write \(shared.weightsPath): \(error)")
        }
        await shared.router.setWeights(weights)
        return try jsonResponse(weights.weights)
    }

    router.get("/metrics") { _, _ -> Response in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: shared.metrics.registry.render())))
    }
    router.get("/healthz") { _, _ in "ok\n" }
    router.get("/readyz") { _, _ -> Response in
        let up = await engineViews(shared.supervisor).contains { $0.state == EngineLink.State.up.rawValue }
        return Response(
            status: up ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"],
            body: .init(byteBuffer: ByteBuffer(string: up ? "ready\n" : "no engine link is up\n")))
    }
    return router
}

/// POST /kill and /resume: set every reachable engine's trading mode; report each engine's answer.
func setModeEverywhere(_ shared: RouteContext, mode: Fleet_V1_TradingMode, request: Request) async throws -> Response {
    struct Outcome: Encodable {
        var engine: String
        var mode: String?
        var error: String?
    }
    var change = Fleet_V1_SetTradingModeRequest()
    change.mode = mode
    change.reason = mode == .halted ? "kill requested through the OPS API" : "resume requested through the OPS API"
    var outcomes: [Outcome] = []
    for link in shared.supervisor.links {
        do {
            let reply: Fleet_V1_SetTradingModeResponse = try await link.call(.setTradingMode, change)
            outcomes.append(Outcome(engine: link.id, mode: PnLBook.modeName(reply.mode), error: nil))
        } catch {
            outcomes.append(Outcome(engine: link.id, mode: nil, error: "\(error)"))
        }
    }
    struct Reply: Encodable { var engines: [Outcome] }
    return try jsonResponse(
        Reply(engines: outcomes),
        status: outcomes.contains { $0.error != nil } ? .init(code: 207, reasonPhrase: "Multi-Status") : .ok)
}
