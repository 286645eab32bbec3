import FleetLink
import FleetProto
import FleetWire
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import OPSConfig
import PnLBook
import ServiceLifecycle
import Storage
import StrategyRouter
import SystemdNotify
import Telemetry
import TradingDomain
import UnixSignals

/// Boots OPS: config → state → engine links → HTTP API. Runs until SIGTERM/SIGINT.
public enum OPSApp {
    public static let version = "0.1.0"

    public struct Options: Sendable {
        public var config: String
        public var listen: String
        public var stateDir: String
        public var fleetSecretFile: String?
        public var logLevel: String
        /// How long X-Idempotency-Key values are remembered.
        public var idempotencyKeyLifetime: Duration
        /// HTTP connections open at once. Beyond it OPS stops accepting: new clients wait in the
        /// listen backlog (then are refused) instead of taking file descriptors the engine links need.
        public var maxConnections: Int
        /// A keep-alive connection with no request for this long is closed. A response still being
        /// written (the dashboard's event stream) keeps its connection.
        public var idleTimeout: Duration

        public static let defaultMaxConnections = 512
        public static let defaultIdleTimeout: Duration = .seconds(60)

        public init(
            config: String, listen: String, stateDir: String, fleetSecretFile: String?, logLevel: String,
            idempotencyKeyLifetime: Duration = .seconds(86_400), maxConnections: Int = Options.defaultMaxConnections,
            idleTimeout: Duration = Options.defaultIdleTimeout
        ) {
            self.idempotencyKeyLifetime = idempotencyKeyLifetime
            self.maxConnections = maxConnections
            self.idleTimeout = idleTimeout
            self.config = config
            self.listen = listen
            self.stateDir = stateDir
            self.fleetSecretFile = fleetSecretFile
            self.logLevel = logLevel
        }
    }

    /// Throws `OPSConfigError` for anything the operator must fix (exit 2).
    public static func run(_ options: Options) async throws {
        guard let level = Logger.Level(rawValue: options.logLevel) else {
            throw OPSConfigError(file: "--log-level", line: nil, message: "unknown level '\(options.logLevel)'")
        }
        LoggingSetup.bootstrap(level: level)
        let logger = Logger(label: "ops")
        let environment = ProcessInfo.processInfo.environment
        guard let token = environment["OPS_API_TOKEN"], token.utf8.count >= 8 else {
            throw OPSConfigError(
                file: "OPS_API_TOKEN", line: nil,
                message: "set OPS_API_TOKEN (at least 8 characters) to protect the API")
        }
        let secret: FleetSecret
        do { secret = try FleetSecret.load(file: options.fleetSecretFile, environment: environment) } catch {
            throw OPSConfigError(file: options.fleetSecretFile ?? "FLEET_SECRET", line: nil, message: error.message)
        }
        let fleet = try FleetFile.load(path: options.config)
        let weights = try StrategyWeights.load(path: fleet.strategyWeightsPath)
        guard let colon = options.listen.lastIndex(of: ":"),
            let port = Int(options.listen[options.listen.index(after: colon)...])
        else {
            throw OPSConfigError(file: "--listen", line: nil, message: "'\(options.listen)' is not HOST:PORT")
        }
        let host = String(options.listen[..<colon])
        guard options.maxConnections > 0 else {
            throw OPSConfigError(file: "--max-connections", line: nil, message: "must be at least 1")
        }
        guard options.idleTimeout > .zero else {
            throw OPSConfigError(file: "--idle-timeout", line: nil, message: "must be more than 0 seconds")
        }
        // Each connection is a descriptor; so are the engine links (two each while one reconnects),
        // the state databases and the event loop's own.
        let descriptorsNeeded = options.maxConnections + 64 + 2 * fleet.engines.count
        let descriptorLimit = FileDescriptorLimit.raise(toAtLeast: descriptorsNeeded)
        guard descriptorLimit >= descriptorsNeeded else {
            throw OPSConfigError(
                file: "--max-connections", line: nil,
                message: """
                    \(options.maxConnections) connections need about \(descriptorsNeeded) open files and this \
                    process may open \(descriptorLimit): lower --max-connections or raise the limit \
                    (LimitNOFILE= in the systemd unit, ulimit -n in a shell)
                    """)
        }
        do {
            try FileManager.default.createDirectory(atPath: options.stateDir, withIntermediateDirectories: true)
        } catch {
            throw OPSConfigError(
                file: options.stateDir, line: nil,
                message: "cannot create the state directory: \(error.localizedDescription)")
        }
        // One event loop serves the HTTP API, every engine link and the router (its actor runs on
        // the loop, and request tasks prefer it): a signal is parsed, routed, sent to its engine
        // and answered on one thread. Spread over the default loops and Swift's global pool, each
        // signal crossed threads ~8 times; on 2 cores that cost OPS ~15% more CPU per signal.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loopExecutor = EventLoopTaskExecutor(group.next())
        let router: SignalRouter
        do {
            router = try SignalRouter(
                weights: weights, statePath: "\(options.stateDir)/idempotency.sqlite",
                keyLifetime: options.idempotencyKeyLifetime, executor: EventLoopSerialExecutor(loopExecutor))
        } catch {
            throw OPSConfigError(file: options.stateDir, line: nil, message: "\(error)")
        }

        let metrics = OPSMetrics()
        let book = PnLBook()
        let links = fleet.engines.map { entry in
            EngineLink(
                id: entry.id, venue: entry.venue, host: entry.host, port: entry.port, secret: secret, clientID: "ops",
                group: group, logger: logger
            ) { notification in
                switch notification {
                case .syncing(let engineID):
                    book.beginSync(engineID: engineID, venue: entry.venue.rawValue)
                case .up(let engineID, let snapshot):
                    book.resync(engineID: engineID, snapshot: snapshot)
                    metrics.engine(engineID, up: true)
                case .down(let engineID, _):
                    metrics.engine(engineID, up: false)
                    metrics.reconnect(engineID)
                case .event(let engineID, let event):
                    book.apply(engineID: engineID, event: event)
                }
            }
        }
        for entry in fleet.engines { metrics.engine(entry.id, up: false) }
        let supervisor = EngineSupervisor(
            links: links, assignments: Dictionary(uniqueKeysWithValues: fleet.engines.map { ($0.id, $0.models) }))
        let context = RouteContext(
            signals: SignalService(router: router, supervisor: supervisor, metrics: metrics), supervisor: supervisor,
            book: book, metrics: metrics, router: router, weightsPath: fleet.strategyWeightsPath,
            startedAt: WallClock.nowUnixNanos())
        let signalRoute = SignalRoute(signals: context.signals, token: Array(token.utf8))
        let idleTimeout = options.idleTimeout
        let app = Application(
            router: makeRouter(context, signalRoute: signalRoute),
            server: HTTPServerBuilder { responder in
                OPSHTTPChannel(
                    responder: responder, signalRoute: signalRoute, executor: loopExecutor, idleTimeout: idleTimeout)
            },
            configuration: .init(
                address: .hostname(host, port: port), serverName: "ops",
                availableConnectionsDelegate: .maximum(options.maxConnections, logger: logger)),
            onServerRunning: { channel in
                logger.notice(
                    "OPS API listening",
                    metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? options.listen)"])
                SystemdNotifier().ready(status: "serving on \(options.listen), \(links.count) engine(s) configured")
            },
            eventLoopGroupProvider: .shared(group),
            logger: {
                var quiet = logger
                quiet.logLevel = max(level, .warning)
                return quiet
            }())
        let services = ServiceGroup(
            configuration: .init(
                services: [.init(service: SupervisorService(supervisor: supervisor)), .init(service: app)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // Tasks started in the service group (each HTTP connection's among them) inherit the preference.
        try await withTaskExecutorPreference(loopExecutor) { try await services.run() }
        try? await group.shutdownGracefully()
        logger.notice("stopped cleanly")
    }
}

/// Runs the engine links until shutdown.
struct SupervisorService: Service {
    let supervisor: EngineSupervisor
    func run() async throws {
        let task = Task { await supervisor.run() }
        try? await gracefulShutdown()
        task.cancel()
        await task.value
    }
}
