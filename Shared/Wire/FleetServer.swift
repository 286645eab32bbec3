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
        /// Well above what batching needs (at 256 in flight a group commit already holds hundreds
        /// of orders), and a bounded amount of memory per link.
        public static let defaultMaxConcurrentRequests = 1024

        public init(
            host: String, port: Int, maxFrameSize: Int = FrameDecoder.defaultMaxFrameSize,
            idleTimeout: TimeAmount = .seconds(30),
            maxConcurrentRequests: Int = Configuration.defaultMaxConcurrentRequests
        ) {
            self.maxConcurrentRequests = maxConcurrentRequests
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
                connections.withLockedValue { $0[key] = child }
                child.closeFuture.whenComplete { _ in _ = connections.withLockedValue { $0.removeValue(forKey: key) } }
                let shared = taskExecutor.flatMap { $0.eventLoop === child.eventLoop ? $0 : nil }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandlers([
                        IdleStateHandler(readTimeout: configuration.idleTimeout),
                        ByteToMessageHandler(FrameDecoder(maxFrameSize: configuration.maxFrameSize)),
                        MessageToByteHandler(FrameEncoder()),
                        ServerConnectionHandler(
                            service: service, secret: secret, executor: shared,
                            maxConcurrentRequests: configuration.maxConcurrentRequests, logger: logger),
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
