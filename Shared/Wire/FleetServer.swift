import FleetProto
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Listens for OPS links and serves a `FleetService` on each.
public final class FleetServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var maxFrameSize: Int
        /// A link that sends nothing (not even a ping) for this long is closed.
        public var idleTimeout: TimeAmount
        /// Requests of one link that run at once; the link is not read while more wait.
        public var maxConcurrentRequests: Int
        /// Links open at once. One more is answered GOAWAY (RESOURCE_EXHAUSTED) and closed, so a
        /// client that leaks connections cannot take the descriptors the ledger and OPS's link need.
        public var maxConnections: Int
        /// A link that has not proven the fleet secret this long after it opened is closed (pings
        /// before authentication do not keep it open).
        public var authenticationTimeout: TimeAmount
        /// OPS instances, operators' tools and a reconnect or two: far below this.
        public static let defaultMaxConnections = 64
        /// Well above what batching needs (at 256 in flight a group commit already holds hundreds
        /// of orders), and a bounded amount of memory per link.
        public static let defaultMaxConcurrentRequests = 1024

        public init(
            host: String, port: Int, maxFrameSize: Int = FrameDecoder.defaultMaxFrameSize,
            idleTimeout: TimeAmount = .seconds(30),
            maxConcurrentRequests: Int = Configuration.defaultMaxConcurrentRequests,
            maxConnections: Int = Configuration.defaultMaxConnections,
            authenticationTimeout: TimeAmount = .seconds(10)
        ) {
            self.maxConcurrentRequests = maxConcurrentRequests
            self.maxConnections = max(1, maxConnections)
            self.authenticationTimeout = authenticationTimeout
            self.host = host
            self.port = port
            self.maxFrameSize = maxFrameSize
            self.idleTimeout = idleTimeout
        }
    }

    private let channel: any Channel
    private let connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>
    private let logger: Logger

    /// The bound address (the port is real even when 0 was asked for).
    public var localAddress: SocketAddress? { channel.localAddress }

    private init(channel: any Channel, connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>, logger: Logger)
    {
        self.channel = channel
        self.connections = connections
        self.logger = logger
    }

    /// Binds and starts accepting links. `taskExecutor`: request tasks of links on its event loop
    /// prefer it (give the one the service's actor runs under, see `EventLoopSerialExecutor`);
    /// other links get one of their own loop.
    public static func start(
        configuration: Configuration, service: any FleetService, secret: FleetSecret, group: any EventLoopGroup,
        taskExecutor: EventLoopTaskExecutor? = nil, logger: Logger
    ) async throws -> FleetServer {
        let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // A subscriber this far behind is cut off (EventSink.send) rather than buffered without end.
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: EventSink.backlogLimitBytes / 2, high: EventSink.backlogLimitBytes)
            )
            .childChannelInitializer { child in
                let key = ObjectIdentifier(child)
                let admitted = connections.withLockedValue { open in
                    guard open.count < configuration.maxConnections else { return false }
                    open[key] = child
                    return true
                }
                if admitted {
                    child.closeFuture.whenComplete { _ in
                        _ = connections.withLockedValue { $0.removeValue(forKey: key) }
                    }
                } else {
                    logger.warning(
                        "refusing a link: too many open",
                        metadata: [
                            "limit": "\(configuration.maxConnections)",
                            "peer": "\(child.remoteAddress.map { "\($0)" } ?? "?")",
                        ])
                }
                let refusal =
                    admitted
                    ? nil
                    : RPCStatus(
                        .resourceExhausted,
                        "the engine serves at most \(configuration.maxConnections) links at once; try again later")
                let shared = taskExecutor.flatMap { $0.eventLoop === child.eventLoop ? $0 : nil }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandlers([
                        IdleStateHandler(readTimeout: configuration.idleTimeout),
                        ByteToMessageHandler(FrameDecoder(maxFrameSize: configuration.maxFrameSize)),
                        MessageToByteHandler(FrameEncoder()),
                        ServerConnectionHandler(
                            service: service, secret: secret, executor: shared,
                            maxConcurrentRequests: configuration.maxConcurrentRequests,
                            authenticationTimeout: configuration.authenticationTimeout, refusal: refusal,
                            logger: logger),
                    ])
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        return FleetServer(channel: channel, connections: connections, logger: logger)
    }

    /// Stops accepting, sends GOAWAY on every link, and waits (up to `timeout`) for in-flight
    /// requests to be answered before the links close.
    public func shutdown(timeout: TimeAmount = .seconds(5)) async {
        try? await channel.close()
        let open = connections.withLockedValue { Array($0.values) }
        for child in open {
            child.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let deadline = NIODeadline.now() + timeout
        while NIODeadline.now() < deadline, open.contains(where: { $0.isActive }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for child in connections.withLockedValue({ Array($0.values) }) { try? await child.close() }
    }
}
