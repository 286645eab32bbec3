import FleetCrypto
import FleetProto
import FoundationEssentials
import NIOCore
import TradingDomain

/// A call the client writes into the pipeline; the handler assigns the stream id.
struct OutboundCall {
    var method: Fleet_V1_Method
    var deadlineUnixNanos: Int64
    var payload: Data
    /// Resumed exactly once, on the link's event loop, by whoever holds the call: the handler
    /// once it has it, the caller before that.
    var reply: CheckedContinuation<Fleet_V1_Response, any Error>
    /// For SUBSCRIBE: where the stream's events go.
    var events: (@Sendable (Fleet_V1_Event) -> Void)?
}

/// The OPS side of one link: answers hello with auth, checks the server's proof, then matches
/// responses to calls by stream id with any number in flight.
final class ClientConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = Fleet_V1_Frame
    typealias OutboundIn = OutboundCall
    typealias OutboundOut = OutboundFrame

    private enum State {
        case awaitingHello
        case awaitingAuthResult(serverNonce: [UInt8], clientNonce: [UInt8], serverID: String)
        case ready
        case goingAway(lastStreamID: UInt64)
        case closed
    }

    struct ServerIdentity: Sendable {
        var serverID: String
        var venue: String
    }

    private let secret: FleetSecret
    private let clientID: String
    private let handshake: EventLoopPromise<ServerIdentity>
    private let onGoAway: @Sendable (Fleet_V1_GoAway) -> Void
    private var state: State = .awaitingHello
    private var handshakeDone = false
    private var identity = ServerIdentity(serverID: "", venue: "")
    private var nextStreamID: UInt64 = 1
    private var pending: [UInt64: CheckedContinuation<Fleet_V1_Response, any Error>] = [:]
    /// Deadlines of the calls in flight, behind one timer (`deadlineTimer`).
    private var deadlines = CallDeadlines()
    private var deadlineTimer: Scheduled<Void>?
    private var subscriptions: [UInt64: @Sendable (Fleet_V1_Event) -> Void] = [:]

    init(
        secret: FleetSecret, clientID: String, handshake: EventLoopPromise<ServerIdentity>,
        onGoAway: @escaping @Sendable (Fleet_V1_GoAway) -> Void
    ) {
        self.secret = secret
        self.clientID = clientID
        self.handshake = handshake
        self.onGoAway = onGoAway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch (state, frame.kind) {
        case (.awaitingHello, .hello(let hello)):
            let clientNonce = Digest.randomBytes(LinkAuthentication.nonceLength)
            let serverNonce = [UInt8](hello.serverNonce)
            identity = ServerIdentity(serverID: hello.serverID, venue: hello.venue)
            state = .awaitingAuthResult(serverNonce: serverNonce, clientNonce: clientNonce, serverID: hello.serverID)
            var auth = Fleet_V1_Frame()
            auth.auth.clientID = clientID
            auth.auth.clientNonce = Data(clientNonce)
            auth.auth.mac = Data(
                LinkAuthentication.clientMAC(
                    secret: secret, serverNonce: serverNonce, clientNonce: clientNonce, clientID: clientID))
            context.writeAndFlush(wrapOutboundOut(.frame(auth)), promise: nil)
        case (.awaitingAuthResult(let serverNonce, let clientNonce, let serverID), .authResult(let result)):
            guard result.code == .ok else {
                fail(
                    context: context,
                    RPCStatus(result.code, result.message.isEmpty ? "authentication refused" : result.message))
                return
            }
            let expected = LinkAuthentication.serverMAC(
                secret: secret, clientNonce: clientNonce, serverNonce: serverNonce, serverID: serverID)
            guard Digest.constantTimeEqual(expected, [UInt8](result.mac)) else {
                fail(context: context, RPCStatus(.unauthenticated, "the engine could not prove the fleet secret"))
                return
            }
            state = .ready
            handshakeDone = true
            handshake.succeed(identity)
        case (.awaitingHello, .response(let response)), (.awaitingAuthResult, .response(let response)):
            fail(context: context, RPCStatus(response.code, response.message))
        case (_, .response(let response)):
            pending.removeValue(forKey: frame.streamID)?.resume(returning: response)
            deadlines.dropAnswered { pending[$0] != nil }
        case (_, .event(let event)):
            subscriptions[frame.streamID]?(event)
        case (_, .ping(let ping)):
            var pong = Fleet_V1_Frame()
            pong.pong.payload = ping.payload
            context.writeAndFlush(wrapOutboundOut(.frame(pong)), promise: nil)
        case (_, .pong):
            context.fireChannelRead(data)  // the keepalive handler watches for it
        case (_, .goaway(let goaway)):
            state = .goingAway(lastStreamID: goaway.lastStreamID)
            onGoAway(goaway)
            if goaway.code != .ok && goaway.code != .unavailable {
                fail(context: context, RPCStatus(goaway.code, "engine closed the link: \(goaway.reason)"))
            }
        default:
            fail(context: context, RPCStatus(.internal, "unexpected frame from engine"))
        }
    }

    /// Calls from many tasks arrive as separate event-loop jobs, each with its own flush: the flush
    /// is deferred behind the jobs already queued, so a burst of calls leaves in one `write(2)`.
    private let coalescedFlush = CoalescedFlush()

    func flush(context: ChannelHandlerContext) {
        coalescedFlush.schedule(context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let call = unwrapOutboundIn(data)
        switch state {
        case .ready:
            break
        case .goingAway:
            call.reply.resume(throwing: RPCStatus.unavailable("the engine is going away"))
            promise?.fail(RPCStatus.unavailable("the engine is going away"))
            return
        default:
            call.reply.resume(throwing: RPCStatus.unavailable("the link is not ready"))
            promise?.fail(RPCStatus.unavailable("the link is not ready"))
            return
        }
        let streamID = nextStreamID
        nextStreamID += 1
        pending[streamID] = call.reply
        if let events = call.events { subscriptions[streamID] = events }
        var frame = Fleet_V1_Frame()
        frame.streamID = streamID
        frame.request.method = call.method
        frame.request.deadlineUnixNs = call.deadlineUnixNanos
        frame.request.payload = call.payload
        context.write(wrapOutboundOut(.frame(frame)), promise: promise)
        if call.deadlineUnixNanos != 0 {
            // The caller stops waiting at the deadline; a late response is dropped.
            let wait = max(0, call.deadlineUnixNanos - WallClock.nowUnixNanos())
            if let fireAt = deadlines.add(streamID: streamID, deadline: .now() + .nanoseconds(wait + 1_000_000)) {
                setDeadlineTimer(at: fireAt, eventLoop: context.eventLoop)
            }
        }
    }

    private func setDeadlineTimer(at deadline: NIODeadline, eventLoop: any EventLoop) {
        deadlineTimer?.cancel()
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        deadlineTimer = eventLoop.scheduleTask(deadline: deadline) {
            loopBound.value.deadlinesDue(eventLoop: eventLoop)
        }
    }

    private func deadlinesDue(eventLoop: any EventLoop) {
        deadlineTimer = nil
        let (expired, next) = deadlines.expire(now: .now()) { pending[$0] != nil }
        for streamID in expired {
            pending.removeValue(forKey: streamID)?.resume(
                throwing: RPCStatus.deadlineExceeded("no response before the deadline"))
        }
        if let next { setDeadlineTimer(at: next, eventLoop: eventLoop) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context: context, RPCStatus.unavailable("the link to the engine closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, RPCStatus.unavailable("link error: \(error)"))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch idle {
        case .write:
            // Keepalive: the engine answers with a pong, so a healthy link always has reads.
            var frame = Fleet_V1_Frame()
            frame.ping.payload = Data()
            context.writeAndFlush(wrapOutboundOut(.frame(frame)), promise: nil)
        case .read:
            fail(context: context, RPCStatus.unavailable("keepalive timeout: the engine stopped answering"))
        case .all:
            break
        }
    }

    private func fail(context: ChannelHandlerContext, _ status: RPCStatus) {
        if case .closed = state { return }
        state = .closed
        if !handshakeDone {
            handshakeDone = true
            handshake.fail(status)
        }
        let waiting = pending
        pending.removeAll()
        deadlineTimer?.cancel()
        deadlineTimer = nil
        deadlines.removeAll()
        subscriptions.removeAll()
        for call in waiting.values { call.resume(throwing: status) }
        context.close(promise: nil)
    }
}
