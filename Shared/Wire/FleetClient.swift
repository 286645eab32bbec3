import FleetProto
import FoundationEssentials
import Logging
import NIOCore
import NIOPosix
import SwiftProtobuf
import TradingDomain

/// One authenticated link to an engine, with any number of calls in flight.
///
/// `connect` returns only after both sides have proved the fleet secret. Calls fail with
/// `RPCStatus` (UNAVAILABLE once the link is gone); reconnecting is the caller's policy
/// (OPS's engine supervisor does it with backoff).
public final class FleetClient: Sendable {
    public struct Configuration: Sendable {
        public var clientID: String
        public var maxFrameSize: Int
        public var connectTimeout: TimeAmount
        /// A ping goes out after this long without writes; no read for three times as long closes the link.
        public var keepaliveInterval: TimeAmount

        public init(
            clientID: String, maxFrameSize: Int = FrameDecoder.defaultMaxFrameSize,
            connectTimeout: TimeAmount = .seconds(3), keepaliveInterval: TimeAmount = .seconds(5)
        ) {
            self.clientID = clientID
            self.maxFrameSize = maxFrameSize
            self.connectTimeout = connectTimeout
            self.keepaliveInterval = keepaliveInterval
        }
    }

    private let channel: any Channel
    /// Announced by the engine in its hello.
    public let serverID: String
    public let venue: String

    private init(channel: any Channel, serverID: String, venue: String) {
        self.channel = channel
        self.serverID = serverID
        self.venue = venue
    }

    /// Connects and authenticates, or throws `RPCStatus` (UNAUTHENTICATED for a wrong secret,
    /// UNAVAILABLE when nothing listens).
    public static func connect(
        host: String, port: Int, secret: FleetSecret, configuration: Configuration, group: any EventLoopGroup,
        onGoAway: @escaping @Sendable (Fleet_V1_GoAway) -> Void = { _ in }
    ) async throws -> FleetClient {
        let eventLoop = group.next()
        let handshake = eventLoop.makePromise(of: ClientConnectionHandler.ServerIdentity.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(configuration.connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            IdleStateHandler(
                                readTimeout: configuration.keepaliveInterval * 3,
                                writeTimeout: configuration.keepaliveInterval),
                            ByteToMessageHandler(FrameDecoder(maxFrameSize: configuration.maxFrameSize)),
                            MessageToByteHandler(FrameEncoder()),
                            ClientConnectionHandler(
                                secret: secret, clientID: configuration.clientID, handshake: handshake,
                                onGoAway: onGoAway),
                        ])
                    }
                }
                .connect(host: host, port: port)
                .get()
        } catch {
            handshake.fail(error)
            throw RPCStatus.unavailable("cannot connect to \(host):\(port): \(error)")
        }
        closeUnlessDone(channel, when: handshake.futureResult, within: configuration.connectTimeout)
        do {
            let identity = try await handshake.futureResult.get()
            return FleetClient(channel: channel, serverID: identity.serverID, venue: identity.venue)
        } catch let status as RPCStatus {
            try? await channel.close()
            throw status
        } catch {
            try? await channel.close()
            throw RPCStatus.unavailable("handshake with \(host):\(port) failed: \(error)")
        }
    }

    /// Closes `channel` unless `future` completes within `timeout`. The timer is cancelled on the
    /// loop, by the completion itself: cancelled by the connecting task once it resumed, it cut
    /// links that had authenticated whenever that task's executor was busy for longer than the
    /// timeout (seen in the test suite, with blocking tests holding the cooperative pool).
    static func closeUnlessDone<Value: Sendable>(
        _ channel: any Channel, when future: EventLoopFuture<Value>, within timeout: TimeAmount
    ) {
        let timer = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        future.whenComplete { _ in timer.cancel() }
    }

    public var isActive: Bool { channel.isActive }
    /// The link's event loop: callers that prefer it as their task executor (`EventLoopTaskExecutor`)
    /// send and resume without a thread hop.
    public var eventLoop: any EventLoop { channel.eventLoop }
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Sends one request and waits for its response; throws `RPCStatus` unless the code is OK.
    public func call(_ method: Fleet_V1_Method, payload: Data, deadlineUnixNanos: Int64) async throws -> Data {
        let response = try await rawCall(method, payload: payload, deadlineUnixNanos: deadlineUnixNanos, events: nil)
        guard response.code == .ok else { throw RPCStatus(response.code, response.message) }
        return response.payload
    }

    /// The absolute deadline (Unix nanoseconds) `timeout` from now, as calls carry it.
    public static func deadline(after timeout: Duration) -> Int64 {
        WallClock.nowUnixNanos() + Int64(timeout.components.seconds) * 1_000_000_000
            + timeout.components.attoseconds / 1_000_000_000
    }

    /// A typed call: encodes `request`, decodes the reply as `Reply`.
    public func call<Reply: SwiftProtobuf.Message>(
        _ method: Fleet_V1_Method, _ request: some SwiftProtobuf.Message, timeout: Duration = .seconds(5),
        as: Reply.Type = Reply.self
    ) async throws -> Reply {
        let payload = try await call(
            method, payload: request.serializedData(), deadlineUnixNanos: Self.deadline(after: timeout))
        do {
            return try Reply(serializedBytes: payload)
        } catch {
            throw RPCStatus(.internal, "undecodable \(Reply.protoMessageName) from the engine: \(error)")
        }
    }

    /// Subscribes to the engine's events; `onEvent` runs on the link's event loop, in order.
    /// `excludingOrderEvents`: fills, risk events and heartbeats only (`seq` then has gaps).
    public func subscribe(
        excludingOrderEvents: Bool = false, onEvent: @escaping @Sendable (Fleet_V1_Event) -> Void
    ) async throws -> Fleet_V1_SubscribeResponse {
        var request = Fleet_V1_SubscribeRequest()
        request.excludeOrderEvents = excludingOrderEvents
        let response = try await rawCall(
            .subscribe, payload: try request.serializedData(),
            deadlineUnixNanos: WallClock.nowUnixNanos() + 5_000_000_000, events: onEvent)
        guard response.code == .ok else { throw RPCStatus(response.code, response.message) }
        return try Fleet_V1_SubscribeResponse(serializedBytes: response.payload)
    }

    /// Closes the link; calls still waiting fail with UNAVAILABLE.
    public func close() async {
        try? await channel.close()
    }

    private func rawCall(
        _ method: Fleet_V1_Method, payload: Data, deadlineUnixNanos: Int64,
        events: (@Sendable (Fleet_V1_Event) -> Void)?
    ) async throws -> Fleet_V1_Response {
        // One continuation per call, completed exactly once by the connection handler (response,
        // deadline, GOAWAY or close) or here when the link is already gone: no promises, futures
        // or callbacks in between (two promises and a future's `get()` were ~10% of OPS's loop).
        let channel = self.channel
        do {
            return try await withCheckedThrowingContinuation { continuation in
                let call = OutboundCall(
                    method: method, deadlineUnixNanos: deadlineUnixNanos, payload: payload, reply: continuation,
                    events: events)
                // On the loop, an active channel's pipeline is whole: the handler takes the call now.
                // A closed one would drop it at its head, so it is failed here instead.
                if channel.eventLoop.inEventLoop {
                    Self.send(call, on: channel)
                } else {
                    channel.eventLoop.execute { Self.send(call, on: channel) }
                }
            }
        } catch let status as RPCStatus {
            throw status
        } catch {
            throw RPCStatus.unavailable("\(error)")
        }
    }

    private static func send(_ call: OutboundCall, on channel: any Channel) {
        if channel.isActive {
            channel.writeAndFlush(call, promise: nil)
        } else {
            call.reply.resume(throwing: RPCStatus.unavailable("the link is closed"))
        }
    }
}
