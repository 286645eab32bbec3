import FleetCrypto
import FleetProto
import FoundationEssentials
import Logging
import NIOCore
import TradingDomain

/// One engine-side link: hello → auth → requests, with keepalive and goaway.
///
/// At most `maxConcurrentRequests` requests of a link run at once. Requests decoded beyond that
/// wait here in arrival order (a few hundred bytes each) and the link is not read until they have
/// all started: a client that sends faster than the engine answers is slowed by TCP's flow
/// control, not given memory. Each running request holds a task and its frames (20-30 KB):
/// with no bound, a client keeping 16,384 orders in flight grew an engine to 565 MB.
///
/// Runs on the channel's event loop. Until the client proves the fleet secret, every request is
/// answered UNAUTHENTICATED and the link is closed: nothing reaches the service. A codec error or an
/// unknown method gets an error frame and the link is closed at once; replies still in flight on it
/// are dropped (their operations complete, and a retry with the same client order id returns them).
final class ServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = Fleet_V1_Frame
    typealias OutboundIn = OutboundFrame
    typealias OutboundOut = OutboundFrame

    private enum State {
        case awaitingAuth(serverNonce: [UInt8])
        case ready(clientID: String)
        case draining(clientID: String, lastStreamID: UInt64)
        case closed
    }

    private let service: any FleetService
    private let secret: FleetSecret
    private let logger: Logger
    private var state: State = .closed
    private var inFlight = 0
    private let maxConcurrentRequests: Int
    /// Requests decoded while `maxConcurrentRequests` were running, in arrival order.
    private var waiting = CircularBuffer<ServerRequest>()
    /// A read the pipeline asked for while requests wait: issued once they have all started.
    private var readHeld = false
    private var highestStreamID: UInt64 = 0
    /// Replies are written as they complete and flushed once per event-loop turn: under load one
    /// `write(2)` carries many of them.
    private let coalescedFlush = CoalescedFlush()
    /// Replies finished on another thread, written by one loop job per batch of them.
    private let outbox = Handoff<(streamID: UInt64, result: Result<Data, RPCStatus>)>()
    /// Request tasks prefer this channel's event loop: they decode, encode and reply on it. When
    /// the server was given the task executor its service's actor runs under (the engine's, see
    /// `EventLoopSerialExecutor`), it is that one, so the actor's own calls need no hop either.
    private var executor: EventLoopTaskExecutor?

    /// Closes the link if it has not authenticated by then.
    private let authenticationTimeout: TimeAmount
    private var authenticationDeadline: Scheduled<Void>?
    /// Set when the server is at its link limit: the link is told why and closed at once.
    private let refusal: RPCStatus?

    init(
        service: any FleetService, secret: FleetSecret, executor: EventLoopTaskExecutor? = nil,
        maxConcurrentRequests: Int = FleetServer.Configuration.defaultMaxConcurrentRequests,
        authenticationTimeout: TimeAmount = .seconds(10), refusal: RPCStatus? = nil, logger: Logger
    ) {
        self.maxConcurrentRequests = max(1, maxConcurrentRequests)
        self.authenticationTimeout = authenticationTimeout
        self.refusal = refusal
        self.executor = executor
        self.service = service
        self.secret = secret
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        if let refusal {
            sendGoAway(context: context, status: refusal, close: true)
            context.fireChannelActive()
            return
        }
        if executor == nil { executor = EventLoopTaskExecutor(context.eventLoop) }
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let timeout = authenticationTimeout
        authenticationDeadline = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            guard case .awaitingAuth = handler.state else { return }
            handler.logger.warning("closing a link that did not authenticate in time")
            handler.sendGoAway(
                context: context,
                status: RPCStatus(.unauthenticated, "no authentication within \(timeout.nanoseconds / 1_000_000) ms"),
                close: true)
        }
        let nonce = Digest.randomBytes(LinkAuthentication.nonceLength)
        state = .awaitingAuth(serverNonce: nonce)
        var hello = Fleet_V1_Hello()
        hello.serverID = service.serverID
        hello.venue = service.venue
        hello.serverNonce = Data(nonce)
        hello.protocolVersion = LinkAuthentication.protocolVersion
        var frame = Fleet_V1_Frame()
        frame.hello = hello
        context.writeAndFlush(wrapOutboundOut(.frame(frame)), promise: nil)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        authenticationDeadline?.cancel()
        authenticationDeadline = nil
        waiting.removeAll()  // never started: a retry with the same client order id is safe
        context.fireChannelInactive()
    }

    /// Holds the pipeline's reads while requests wait for a slot (see the type's comment).
    func read(context: ChannelHandlerContext) {
        if waiting.isEmpty {
            context.read()
        } else {
            readHeld = true
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch (state, frame.kind) {
        case (.closed, _):
            return
        case (_, .ping(let ping)):
            var pong = Fleet_V1_Frame()
            pong.pong.payload = ping.payload
            context.writeAndFlush(wrapOutboundOut(.frame(pong)), promise: nil)
        case (_, .pong):
            return
        case (.awaitingAuth(let serverNonce), .auth(let auth)):
            authenticate(context: context, auth: auth, serverNonce: serverNonce)
        case (.awaitingAuth, .request):
            refuse(
                context: context, streamID: frame.streamID, status: RPCStatus(.unauthenticated, "authenticate first"))
        case (.awaitingAuth, _):
            refuse(context: context, streamID: 0, status: RPCStatus(.unauthenticated, "expected an auth frame"))
        case (.ready(let clientID), .request(let request)):
            dispatch(context: context, streamID: frame.streamID, request: request, clientID: clientID)
        case (.draining(let clientID, let lastStreamID), .request(let request)):
            if frame.streamID <= lastStreamID {
                dispatch(context: context, streamID: frame.streamID, request: request, clientID: clientID)
            } else {
                reply(
                    context: context, streamID: frame.streamID,
                    result: .failure(.unavailable("the engine is shutting down")))
            }
        case (.ready, .goaway), (.draining, .goaway):
            // The client is leaving: finish what is in flight, then close.
            beginDraining(context: context, sendGoAway: false)
        case (.ready, _), (.draining, _):
            protocolViolation(context: context, message: "unexpected frame from client")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let status: RPCStatus
        switch error {
        case FrameCodecError.frameTooLarge:
            status = RPCStatus(.resourceExhausted, "\(error)")
        case let codecError as FrameCodecError:
            status = RPCStatus(.invalidArgument, "\(codecError)")
        default:
            logger.debug("link error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        logger.warning("closing link after a bad frame", metadata: ["error": "\(status)"])
        sendGoAway(context: context, status: status, close: true)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            beginDraining(context: context, sendGoAway: true)
        } else if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            logger.info("closing idle link: no frame within the keepalive timeout")
            sendGoAway(context: context, status: RPCStatus(.unavailable, "keepalive timeout"), close: true)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    // MARK: auth

    private func authenticate(context: ChannelHandlerContext, auth: Fleet_V1_AuthRequest, serverNonce: [UInt8]) {
        let clientNonce = [UInt8](auth.clientNonce)
        let expected = LinkAuthentication.clientMAC(
            secret: secret, serverNonce: serverNonce, clientNonce: clientNonce, clientID: auth.clientID)
        guard clientNonce.count == LinkAuthentication.nonceLength, Digest.constantTimeEqual(expected, [UInt8](auth.mac))
        else {
            logger.warning("link authentication failed", metadata: ["client": "\(auth.clientID)"])
            var frame = Fleet_V1_Frame()
            frame.authResult.code = .unauthenticated
            frame.authResult.message = "authentication failed: wrong fleet secret"
            state = .closed
            writeThenClose(context: context, frame: frame)
            return
        }
        var frame = Fleet_V1_Frame()
        frame.authResult.code = .ok
        frame.authResult.mac = Data(
            LinkAuthentication.serverMAC(
                secret: secret, clientNonce: clientNonce, serverNonce: serverNonce, serverID: service.serverID))
        state = .ready(clientID: auth.clientID)
        authenticationDeadline?.cancel()
        authenticationDeadline = nil
        logger.info("link authenticated", metadata: ["client": "\(auth.clientID)"])
        context.writeAndFlush(wrapOutboundOut(.frame(frame)), promise: nil)
    }

    private func refuse(context: ChannelHandlerContext, streamID: UInt64, status: RPCStatus) {
        var frame = Fleet_V1_Frame()
        frame.streamID = streamID
        frame.response.code = status.code
        frame.response.message = status.message
        state = .closed
        writeThenClose(context: context, frame: frame)
    }

    // MARK: requests

    private func dispatch(context: ChannelHandlerContext, streamID: UInt64, request: Fleet_V1_Request, clientID: String)
    {
        guard streamID != 0 else {
            protocolViolation(context: context, message: "a request needs a non-zero stream id")
            return
        }
        if case .UNRECOGNIZED(let value) = request.method {
            reply(
                context: context, streamID: streamID,
                result: .failure(RPCStatus(.unimplemented, "unknown method \(value)")))
            protocolViolation(context: context, message: "unknown method \(value)")
            return
        }
        if request.method == .unspecified {
            reply(context: context, streamID: streamID, result: .failure(RPCStatus(.unimplemented, "no method given")))
            protocolViolation(context: context, message: "request without a method")
            return
        }
        highestStreamID = max(highestStreamID, streamID)
        let serverRequest = ServerRequest(
            streamID: streamID, method: request.method, deadlineUnixNanos: request.deadlineUnixNs,
            payload: request.payload, clientID: clientID)
        if serverRequest.isExpired(nowUnixNanos: WallClock.nowUnixNanos()) {
            reply(context: context, streamID: streamID, result: .failure(.deadlineExceeded()))
            return
        }
        if request.method == .noop {
            // A link-level method like ping: echoed here, without a hop to the service.
            reply(context: context, streamID: streamID, result: .success(request.payload))
            return
        }
        if inFlight < maxConcurrentRequests && waiting.isEmpty {
            start(context: context, request: serverRequest)
        } else {
            waiting.append(serverRequest)
        }
    }

    private func start(context: ChannelHandlerContext, request: ServerRequest) {
        let streamID = request.streamID
        let sink = request.method == .subscribe ? EventSink(channel: context.channel, streamID: streamID) : nil
        inFlight += 1
        let service = self.service
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let executor = self.executor ?? EventLoopTaskExecutor(eventLoop)
        let outbox = self.outbox
        service.start(request, events: sink, executor: executor) { result in
            if eventLoop.inEventLoop {
                let (handler, context) = loopBound.value
                handler.complete(context: context, replies: [(streamID, result)])
            } else if outbox.post((streamID, result)) {
                eventLoop.execute {
                    let (handler, context) = loopBound.value
                    handler.complete(context: context, replies: outbox.take())
                }
            }
        }
    }

    /// Writes finished requests' replies, then starts waiting requests with the freed slots.
    private func complete(
        context: ChannelHandlerContext, replies: [(streamID: UInt64, result: Result<Data, RPCStatus>)]
    ) {
        inFlight -= replies.count
        for (streamID, result) in replies { reply(context: context, streamID: streamID, result: result) }
        startWaiting(context: context)
        closeIfDrained(context: context)
    }

    /// Starts waiting requests while slots are free; reads the link again once none waits.
    private func startWaiting(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        while inFlight < maxConcurrentRequests, let request = waiting.popFirst() {
            if request.isExpired(nowUnixNanos: WallClock.nowUnixNanos()) {
                reply(context: context, streamID: request.streamID, result: .failure(.deadlineExceeded()))
            } else {
                start(context: context, request: request)
            }
        }
        if waiting.isEmpty && readHeld {
            readHeld = false
            context.read()
        }
    }

    private func reply(context: ChannelHandlerContext, streamID: UInt64, result: Result<Data, RPCStatus>) {
        guard context.channel.isActive else { return }
        var frame = Fleet_V1_Frame()
        frame.streamID = streamID
        switch result {
        case .success(let payload):
            frame.response.code = .ok
            frame.response.payload = payload
        case .failure(let status):
            frame.response.code = status.code
            frame.response.message = status.message
        }
        context.write(wrapOutboundOut(.frame(frame)), promise: nil)
        coalescedFlush.schedule(context)
    }

    // MARK: shutdown

    private func beginDraining(context: ChannelHandlerContext, sendGoAway: Bool) {
        switch state {
        case .ready(let clientID):
            state = .draining(clientID: clientID, lastStreamID: highestStreamID)
            if sendGoAway {
                var frame = Fleet_V1_Frame()
                frame.goaway.lastStreamID = highestStreamID
                frame.goaway.code = .unavailable
                frame.goaway.reason = "engine shutting down"
                context.writeAndFlush(wrapOutboundOut(.frame(frame)), promise: nil)
            }
            closeIfDrained(context: context)
        case .awaitingAuth:
            state = .closed
            context.close(promise: nil)
        case .draining, .closed:
            break
        }
    }

    private func closeIfDrained(context: ChannelHandlerContext) {
        if case .draining = state, inFlight == 0, waiting.isEmpty {
            state = .closed
            context.flush()  // replies written but waiting for the deferred flush go out first
            context.close(promise: nil)
        }
    }

    private func protocolViolation(context: ChannelHandlerContext, message: String) {
        logger.warning("closing link after a protocol violation", metadata: ["problem": "\(message)"])
        sendGoAway(context: context, status: RPCStatus(.invalidArgument, message), close: true)
    }

    private func sendGoAway(context: ChannelHandlerContext, status: RPCStatus, close: Bool) {
        guard context.channel.isActive else { return }
        var frame = Fleet_V1_Frame()
        frame.goaway.lastStreamID = highestStreamID
        frame.goaway.code = status.code
        frame.goaway.reason = status.message
        state = .closed
        if close {
            writeThenClose(context: context, frame: frame)
        } else {
            context.writeAndFlush(wrapOutboundOut(.frame(frame)), promise: nil)
        }
    }

    /// Writes a last frame, then closes once it is on the wire.
    private func writeThenClose(context: ChannelHandlerContext, frame: Fleet_V1_Frame) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.frame(frame))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }
}
