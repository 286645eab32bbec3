import FleetProto
import FoundationEssentials
import NIOCore

/// What a link server serves. The engine implements it; the link layer owns framing, auth,
/// deadlines, keepalive and goaway, so the service sees only authenticated, unexpired requests.
public protocol FleetService: Sendable {
    /// The id and venue announced in `Hello`.
    var serverID: String { get }
    var venue: String { get }

    /// Runs one request. Return the reply payload or a status. `SUBSCRIBE` requests come with a
    /// sink on which the service pushes events until the sink reports it is closed.
    func handle(_ request: ServerRequest, events: EventSink?) async -> Result<Data, RPCStatus>

    /// Starts one request on the link's event loop (called there) and calls `reply` once with its
    /// result, from any thread. The default runs `handle` in a task that prefers `executor`; the
    /// engine's service, whose actor runs on that same loop, starts a read's requests on the actor
    /// from one job and answers orders from its sync thread (`EngineRPCService.start`).
    func start(
        _ request: ServerRequest, events: EventSink?, executor: EventLoopTaskExecutor,
        reply: @escaping @Sendable (Result<Data, RPCStatus>) -> Void)
}

extension FleetService {
    public func start(
        _ request: ServerRequest, events: EventSink?, executor: EventLoopTaskExecutor,
        reply: @escaping @Sendable (Result<Data, RPCStatus>) -> Void
    ) {
        Task(executorPreference: executor) { reply(await handle(request, events: events)) }
    }
}

/// An authenticated request as the service sees it.
public struct ServerRequest: Sendable {
    public let streamID: UInt64
    public let method: Fleet_V1_Method
    /// Unix nanoseconds; 0 means none.
    public let deadlineUnixNanos: Int64
    public let payload: Data
    /// The authenticated client id.
    public let clientID: String

    public init(streamID: UInt64, method: Fleet_V1_Method, deadlineUnixNanos: Int64, payload: Data, clientID: String) {
        self.streamID = streamID
        self.method = method
        self.deadlineUnixNanos = deadlineUnixNanos
        self.payload = payload
        self.clientID = clientID
    }

    /// True once the deadline has passed. A service checks it right before it acts, so that a
    /// request that waited in a queue past its deadline is refused rather than executed late.
    public func isExpired(nowUnixNanos: Int64) -> Bool {
        deadlineUnixNanos != 0 && nowUnixNanos >= deadlineUnixNanos
    }
}

/// Pushes events to one subscriber on its subscription stream. Safe from any thread.
public struct EventSink: Sendable {
    let channel: any Channel
    public let streamID: UInt64

    init(channel: any Channel, streamID: UInt64) {
        self.channel = channel
        self.streamID = streamID
    }

    /// False once the link is gone; the service then drops the sink.
    public var isActive: Bool { channel.isActive }

    /// Bytes a link may have written but not yet sent before its subscriber counts as stuck.
    static let backlogLimitBytes = 32 << 20

    /// Queues `events` and flushes them in one write. A subscriber that stopped reading (its link's
    /// unsent bytes past `backlogLimitBytes`) is disconnected instead: the engine's memory stays
    /// bounded, and the subscriber re-syncs from a snapshot when it reconnects, as after any drop.
    public func send(_ events: [Fleet_V1_Event]) {
        guard !events.isEmpty else { return }
        // Encoded here, on the caller's thread (the engine's: the one its batch became durable
        // on), so the event loop only writes the bytes.
        var bytes = channel.allocator.buffer(capacity: events.count * 256)
        var frame = Fleet_V1_Frame()
        frame.streamID = streamID
        do {
            for event in events {
                frame.event = event
                try FrameEncoder.append(frame, to: &bytes)
            }
        } catch {
            // Cannot happen for proto3 messages; a subscriber that misses events must re-sync.
            channel.close(promise: nil)
            return
        }
        let channel = self.channel
        let encoded = bytes
        channel.eventLoop.execute {
            guard channel.isWritable else {
                channel.close(promise: nil)
                return
            }
            channel.writeAndFlush(OutboundFrame.encoded(encoded), promise: nil)
        }
    }

    /// A future that completes when the link closes.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }
}
