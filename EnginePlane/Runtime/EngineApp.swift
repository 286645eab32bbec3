import EngineCore
import FleetWire
import FoundationEssentials
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Storage
import Synchronization
import SystemdNotify
import Telemetry
import TradingDomain
import UnixSignals

/// Boots one engine: config → ledger → venue → recovery → link and metrics servers → READY=1.
/// Each `engine-<venue>` main calls `run` with a factory for its venue client.
public enum EngineApp {
    public static let version = "0.1.0"

    /// Everything a venue factory may need.
    public struct VenueContext: Sendable {
        public let options: EngineOptions
        public let config: EngineConfigFile
        public let dataDirectory: String
        public let durability: SQLiteDatabase.Durability
        /// The engine's ledger file: an in-process venue that keeps its book here shares the
        /// ledger's transactions (one commit and one fsync for the intent, the venue and the fill).
        public let ledgerPath: String
    }

    /// Starts one more transport for the engine's own service once it is ready; returns its stop.
    public typealias ExtraTransport = @Sendable (any FleetService) async throws -> @Sendable () async -> Void

    /// Runs until SIGTERM/SIGINT. Throws `ConfigError` for bad flags or files (exit 2).
    /// `alsoServe` is nil in production (benchmarks serve the same service over gRPC with it).
    public static func run(
        venue: Venue, options: EngineOptions, alsoServe: ExtraTransport? = nil,
        makeVenue: @Sendable (VenueContext) throws -> any VenueClient
    ) async throws {
        guard let level = Logger.Level(rawValue: options.logLevel) else {
            throw ConfigError(file: "--log-level", message: "unknown level '\(options.logLevel)'")
        }
        LoggingSetup.bootstrap(level: level)
        let logger = {
            var logger = Logger(label: "engine")
            logger[metadataKey: "engine"] = "\(options.id)"
            return logger
        }()
        let notifier = SystemdNotifier()
        let status = Mutex("starting")
        @Sendable func setStatus(_ text: String) {
            status.withLock { $0 = text }
            notifier.status(text)
            logger.info("\(text)")
        }

        guard let durability = SQLiteDatabase.Durability(rawValue: options.durability.uppercased()) else {
            throw ConfigError(file: "--durability", message: "use full or normal")
        }
        let config =
            try options.config.map { (path) throws(ConfigError) in try EngineConfigFile.load(path: path, venue: venue) }
            ?? .defaults(venue: venue)
        let rpcAddress = try parseAddress(options.listen, flag: "--listen")
        let metricsAddress = try parseAddress(options.metricsListen, flag: "--metrics-listen")
        guard options.maxConnections > 0 else {
            throw ConfigError(file: "--max-connections", message: "must be at least 1")
        }
        // Links, the metrics server's connections, the ledger, its WAL and the audit are descriptors.
        let descriptorsNeeded = options.maxConnections + 128
        let descriptorLimit = FileDescriptorLimit.raise(toAtLeast: descriptorsNeeded)
        guard descriptorLimit >= descriptorsNeeded else {
            throw ConfigError(
                file: "--max-connections",
                message: """
                    \(options.maxConnections) links need about \(descriptorsNeeded) open files and this process \
                    may open \(descriptorLimit): lower --max-connections or raise the limit (LimitNOFILE=, ulimit -n)
                    """)
        }
        let secret: FleetSecret
        do {
            secret = try FleetSecret.load(
                file: options.fleetSecretFile, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ConfigError(file: options.fleetSecretFile ?? "FLEET_SECRET", message: error.message)
        }
        let directory = options.dataDir
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw ConfigError(
                file: directory, message: "cannot create the data directory: \(fileErrorMessage(error))")
        }

        let metrics = EngineMetrics(venue: venue)
        let runMode = try RunMode.validate(
            options.mode, venue: venue, environment: ProcessInfo.processInfo.environment, account: config.account)
        metrics.setRunMode(runMode)
        let killSwitch = KillSwitch(
            filePath: options.killSwitchFile ?? "\(directory)/KILL_SWITCH",
            environmentValue: ProcessInfo.processInfo.environment["ENGINE_KILL_SWITCH"])
        setStatus("opening ledger")
        let ledgerPath = "\(directory)/\(options.id).ledger.sqlite"
        let context = VenueContext(
            options: options, config: config, dataDirectory: directory, durability: durability, ledgerPath: ledgerPath)
        let venueClient = try makeVenue(context)
        // One thread serves the link and runs the engine: a request is decoded, executed and answered
        // on it without a hop between threads (the fsync and checkpoints have threads of their own).
        let linkGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { linkGroup.shutdownGracefully { _ in } }
        // Request tasks prefer the loop's task executor and the engine runs under it too, so calls
        // between the engine's own methods don't hop through the loop (see EventLoopSerialExecutor).
        let engineExecutor = EventLoopSerialExecutor(EventLoopTaskExecutor(linkGroup.next()))
        let engine = try Engine(
            configuration: .init(
                engineID: options.id, limits: config.limits, startingCash: config.startingCash,
                ledgerPath: ledgerPath,
                auditPath: "\(directory)/\(options.id).audit.jsonl",
                durability: durability, killSwitch: killSwitch),
            venue: venueClient, observer: metrics, logger: logger, executor: engineExecutor)

        // The metrics port answers from the start (/readyz says 503 while recovering); the link
        // opens only once recovery is done, and closes first on SIGTERM (services stop in reverse order).
        let http = makeMetricsServer(
            engine: engine, metrics: metrics, venue: venue, runMode: runMode, address: metricsAddress,
            status: { status.withLock { $0 } },
            logger: logger)
        let venueName = venue
        let configPath = options.config
        let lifecycle = EngineService(
            engine: engine, venueClient: venueClient, metrics: metrics, secret: secret,
            rpc: .init(host: rpcAddress.host, port: rpcAddress.port, maxConnections: options.maxConnections),
            notifier: notifier, logger: logger, version: version, status: { status.withLock { $0 } },
            setStatus: setStatus,
            readyText:
                "ready: \(venue.rawValue) engine \(options.id) (\(runMode.rawValue)) on \(options.listen), metrics on \(options.metricsListen)",
            policy: Engine.MismatchPolicy(rawValue: config.mismatchPolicy) ?? .closeOnly,
            reconcileInterval: .seconds(config.reconcileIntervalSeconds),
            reload: configPath.map { path in
                { @Sendable in
                    do { return try EngineConfigFile.load(path: path, venue: venueName) } catch {
                        Logger(label: "engine").error("config reload: \(error)")
                        return nil
                    }
                }
            },
            configPath: configPath, linkGroup: linkGroup, engineExecutor: engineExecutor,
            alsoServe: alsoServe)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: http), .init(service: lifecycle)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        logger.notice("stopped cleanly")
    }

    static func makeMetricsServer(
        engine: Engine, metrics: EngineMetrics, venue: Venue, runMode: RunMode, address: (host: String, port: Int),
        status: @escaping @Sendable () -> String, logger: Logger
    ) -> some Service {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.render())))
        }
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            let ready = await engine.isReady
            return Response(
                status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: ready ? "ready\n" : "recovering\n")))
        }
        router.get("/version") { _, _ -> Response in
            let trading = await engine.tradingMode
            let kill = await engine.killSwitchLevel
            let body = """
                {"engine":"\(engine.engineID)","venue":"\(venue.rawValue)","version":"\(version)","mode":"\(runMode.rawValue)","trading_mode":"\(trading.rawValue)","kill_switch":"\(kill.name)","status":"\(status())"}

                """
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        var appLogger = logger
        appLogger.logLevel = .warning
        // Scrapers and health checks only: a few connections, and idle ones closed.
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: .init(
                address: .hostname(address.host, port: address.port), serverName: "engine",
                availableConnectionsDelegate: .maximum(32, logger: appLogger)),
            logger: appLogger)
    }
}

/// Recovery, then the OPS link, then the heartbeat until SIGTERM; then STOPPING=1, GOAWAY and drain.
///
/// The heartbeat runs through the engine actor, so the watchdog ping stops if the engine stalls and
/// systemd restarts it.
struct EngineService: Service {
    let engine: Engine
    let venueClient: any VenueClient
    let metrics: EngineMetrics
    let secret: FleetSecret
    let rpc: FleetServer.Configuration
    let notifier: SystemdNotifier
    let logger: Logger
    let version: String
    let status: @Sendable () -> String
    let setStatus: @Sendable (String) -> Void
    let readyText: String
    let policy: Engine.MismatchPolicy
    let reconcileInterval: Duration
    /// Re-reads the config file; nil when there is none to reload.
    let reload: (@Sendable () -> EngineConfigFile?)?
    let configPath: String?
    let linkGroup: any EventLoopGroup
    /// The engine actor's executor, on the link's one event loop.
    let engineExecutor: EventLoopSerialExecutor
    var linkExecutor: EventLoopTaskExecutor { engineExecutor.taskExecutor }
    let alsoServe: EngineApp.ExtraTransport?

    func run() async throws {
        setStatus("recovering from ledger")
        try await venueClient.start()
        let report = try await engine.recover { setStatus($0) }
        logger.notice(
            "recovered",
            metadata: [
                "open_orders_checked": "\(report.openOrdersChecked)", "orders_changed": "\(report.ordersChanged)",
                "fills_applied": "\(report.fillsApplied)", "not_sent": "\(report.notSent)",
            ])
        setStatus("reconciling with \(venueClient.venue.rawValue)")
        let reconciliation = try await engine.reconcile(policy: policy)
        if !reconciliation.isClean {
            logger.error(
                "start-up reconciliation found mismatches",
                metadata: [
                    "external_orders": "\(reconciliation.externalOrders)",
                    "positions": "\(reconciliation.positionMismatches.count)",
                ])
        }
        let venueEvents = Task(executorPreference: linkExecutor) {
            for await event in venueClient.events { await engine.handle(event) }
        }
        let service = EngineRPCService(
            engine: engine, version: version, status: status, engineExecutor: engineExecutor)
        let link = try await FleetServer.start(
            configuration: rpc, service: service, secret: secret,
            group: linkGroup, taskExecutor: linkExecutor, logger: logger)
        try await engine.markReady()
        metrics.setReady(true)
        setStatus(readyText)
        notifier.ready(status: readyText)
        // Why: the benchmark measures the same service behind another transport (gRPC) in the same process.
        let stopExtraTransport = try await alsoServe?(service)

        // SIGHUP reloads the config; so does a change of the file's modification time.
        let hangups = Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) { await reloadConfig(trigger: "SIGHUP") }
        }
        var configStamp = configPath.flatMap(modificationStamp)
        let interval = min(notifier.watchdogInterval ?? .seconds(1), .seconds(1))
        var nextReconcile = ContinuousClock.now + reconcileInterval
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await engine.heartbeat()
            if let failure = await engine.ledgerFailure {
                // Fail-stop: exit non-zero without the watchdog ping; systemd restarts and recovery resumes.
                metrics.setReady(false)
                throw failure
            }
            notifier.watchdog()
            if let path = configPath, let stamp = modificationStamp(path), stamp != configStamp {
                configStamp = stamp
                await reloadConfig(trigger: "file change")
            }
            if ContinuousClock.now >= nextReconcile {
                nextReconcile = ContinuousClock.now + reconcileInterval
                do { _ = try await engine.reconcile(policy: policy) } catch {
                    logger.warning("periodic reconciliation failed", metadata: ["error": "\(error)"])
                }
            }
            try? await Task.sleep(for: interval)
        }
        hangups.cancel()
        notifier.stopping(status: "draining OPS links")
        logger.notice("shutting down: draining links")
        await stopExtraTransport?()
        await link.shutdown()
        await venueClient.stop()
        venueEvents.cancel()
        await engine.drain()
    }

    /// A bad file is refused with a message and the limits in force stay.
    private func reloadConfig(trigger: String) async {
        guard let reload else { return }
        guard let config = reload() else {
            logger.error(
                "config reload refused: the file is invalid; the previous limits stay in force",
                metadata: ["trigger": "\(trigger)"])
            return
        }
        await engine.updateLimits(config.limits)
        logger.notice("config reloaded", metadata: ["trigger": "\(trigger)"])
    }

    private func modificationStamp(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }
}
