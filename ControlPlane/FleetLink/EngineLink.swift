import FleetProto
import FleetWire
import FoundationEssentials
import Logging
import NIOCore
import SwiftProtobuf
import Synchronization
import TradingDomain

/// OPS's side of one engine: keeps an authenticated link up, reconnecting with backoff, and
/// re-syncs (subscribe, then snapshot) every time it comes back. While it is down, calls fail fast
/// with UNAVAILABLE and the router sends nothing to this engine.
public actor EngineLink {
    public enum State: String, Sendable {
        case connecting = "CONNECTING"
        case up = "UP"
        case down = "DOWN"
    }

    /// What the link tells the rest of OPS.
    public enum Notification: Sendable {
        case up(engineID: String, snapshot: Fleet_V1_Snapshot)
        case down(engineID: String, reason: String)
        case event(engineID: String, Fleet_V1_Event)
        /// Subscription started; events until the snapshot arrives may predate it.
        case syncing(engineID: String)
    }

    public nonisolated let id: String
    public nonisolated let venue: Venue
    public nonisolated let host: String
    public nonisolated let port: Int
    private let secret: FleetSecret
    private let clientID: String
    private let group: any EventLoopGroup
    private let logger: Logger
    private let notify: @Sendable (Notification) -> Void

    /// The state, the client and the symbols, behind a lock rather than the actor: calls and the
    /// signal path read them without queueing on the actor (a hop less per read).
    private struct Published: Sendable {
        var state: State = .connecting
        var client: FleetClient?
        var symbols: Set<String> = []
    }
    private nonisolated let published = Mutex(Published())

    public nonisolated var state: State { published.withLock { $0.state } }
    /// Instruments the engine quotes (from its last snapshot): what it can trade.
    public nonisolated var symbols: Set<String> { published.withLock { $0.symbols } }
    private var client: FleetClient? {
        get { published.withLock { $0.client } }
        set { published.withLock { $0.client = newValue } }
    }
    public private(set) var stateSinceUnixNanos = WallClock.nowUnixNanos()
    public private(set) var lastError = ""
    public private(set) var reconnects = 0
    public private(set) var lastSnapshot: Fleet_V1_Snapshot?

    public init(
        id: String, venue: Venue, host: String, port: Int, secret: FleetSecret, clientID: String,
        group: any EventLoopGroup,
        logger: Logger, notify: @escaping @Sendable (Notification) -> Void
    ) {
        self.id = id
        self.venue = venue
        self.host = host
        self.port = port
        self.secret = secret
        self.clientID = clientID
        self.group = group
        self.logger = logger
        self.notify = notify
    }

    /// Keeps the link up until the task is cancelled.
    public func run() async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                try await connectAndSync()
                backoff = .milliseconds(100)
                if let client { try? await client.closeFuture.get() }
                markDown("link closed")
            } catch {
                markDown("\(error)")
            }
            if Task.isCancelled { break }
            reconnects += 1
            let jitter = Duration.milliseconds(Int64.random(in: 0...50))
            try? await Task.sleep(for: backoff + jitter)
            backoff = min(backoff * 2, .seconds(5))
        }
        await client?.close()
    }

    private func connectAndSync() async throws {
        setState(.connecting)
        let engineID = id
        let notify = self.notify
        let logger = self.logger
        let client = try await FleetClient.connect(
            host: host, port: port, secret: secret, configuration: .init(clientID: clientID), group: group,
            onGoAway: { goaway in
                logger.info("engine sent goaway", metadata: ["engine": "\(engineID)", "reason": "\(goaway.reason)"])
            })
        guard client.serverID == id else {
            await client.close()
            throw RPCStatus(
                .failedPrecondition, "\(host):\(port) is engine '\(client.serverID)', fleet.yaml expects '\(id)'")
        }
        notify(.syncing(engineID: id))
        // The PnL book keeps its numbers from fills; order events would only move its `seq`.
        _ = try await client.subscribe(excludingOrderEvents: true) { event in
            notify(.event(engineID: engineID, event))
        }
        let snapshot: Fleet_V1_Snapshot = try await client.call(.getSnapshot, Fleet_V1_GetSnapshotRequest())
        self.client = client
        let symbols = Set(snapshot.marks.map(\.symbol))
        published.withLock { $0.symbols = symbols }
        lastSnapshot = snapshot
        setState(.up)
        lastError = ""
        logger.notice("engine link up", metadata: ["engine": "\(id)", "address": "\(host):\(port)"])
        notify(.up(engineID: id, snapshot: snapshot))
    }

    private func markDown(_ reason: String) {
        client = nil
        if state != .down {
            logger.warning("engine link down", metadata: ["engine": "\(id)", "reason": "\(reason)"])
            notify(.down(engineID: id, reason: reason))
        }
        lastError = reason
        setState(.down)
    }

    private func setState(_ new: State) {
        if new != state {
            published.withLock { $0.state = new }
            stateSinceUnixNanos = WallClock.nowUnixNanos()
        }
    }

    /// One call to the engine; UNAVAILABLE at once while the link is not up. Nonisolated: calls go
    /// straight to the client (which is safe from any thread), not through the actor's queue.
    public nonisolated func call<Reply: SwiftProtobuf.Message>(
        _ method: Fleet_V1_Method, _ request: some SwiftProtobuf.Message, timeout: Duration = .seconds(5),
        as: Reply.Type = Reply.self
    ) async throws -> Reply {
        try await readyClient().call(method, request, timeout: timeout)
    }

    /// As `call`, with the request encoded by the caller and the reply's bytes returned: an async
    /// caller then keeps two `Data`s across the await, not two messages (`SignalService`).
    public nonisolated func call(
        _ method: Fleet_V1_Method, payload: Data, timeout: Duration = .seconds(5)
    ) async throws -> Data {
        try await readyClient().call(method, payload: payload, deadlineUnixNanos: FleetClient.deadline(after: timeout))
    }

    private nonisolated func readyClient() throws(RPCStatus) -> FleetClient {
        let (state, client) = published.withLock { ($0.state, $0.client) }
        guard state == .up, let client, client.isActive else {
            throw RPCStatus.unavailable(
                "engine '\(id)' is \(state == .up ? "reconnecting" : state.rawValue.lowercased())")
        }
        return client
    }
}
