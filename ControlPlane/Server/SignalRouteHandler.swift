import FleetWire
import HTTPTypes
import NIOCore
import NIOHTTP1

/// Serves `POST /strategy/signal` from the HTTP connection's pipeline; passes every other request
/// on to Hummingbird's router.
///
/// Why: on OPS's one event loop, Hummingbird's per-request machinery (the connection's async
/// sequences of request and response parts, the router and middleware chain, a response object)
/// cost more CPU per signal than the routing itself. Here a signal is one task: read the parts,
/// route, write the answer. It works on NIO's own HTTP/1 parts, before `HTTP1ToHTTPServerCodec`:
/// converting every head to and from swift-http-types cost ~8% of OPS's CPU per signal.
///
/// It relies on `HTTPServerPipelineHandler` (pipelining assistance) before it in the pipeline,
/// which hands on one request at a time and holds the next until the answer's end is written, so
/// answers leave in the order requests came, whichever side serves them; that handler also does
/// the graceful close. `HTTPIdleTimeoutHandler`, also before it, counts its requests for the idle
/// timeout.
final class SignalRouteHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// A request for the router: its parts go on.
        case passing
        /// A signal: its body is collected (up to `SignalRoute.maxBodyBytes`).
        case collecting(head: HTTPRequestHead, body: ByteBuffer, tooLarge: Bool)
        /// A signal is being routed; the next request waits in the pipelining handler.
        case answering
    }

    private var state = State.idle
    private let route: SignalRoute
    private let executor: EventLoopTaskExecutor
    private let dates = HTTPDateCache()

    init(route: SignalRoute, executor: EventLoopTaskExecutor) {
        self.route = route
        self.executor = executor
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.idle, .head(let head)):
            if SignalRoute.serves(head) {
                state = .collecting(head: head, body: context.channel.allocator.buffer(capacity: 256), tooLarge: false)
            } else {
                state = .passing
                context.fireChannelRead(data)
            }
        case (.passing, .end):
            state = .idle
            context.fireChannelRead(data)
        case (.passing, _):
            context.fireChannelRead(data)
        case (.collecting(let head, var body, let tooLarge), .body(var chunk)):
            state = .answering  // drop the buffer's reference while it grows
            let fits = !tooLarge && body.readableBytes + chunk.readableBytes <= SignalRoute.maxBodyBytes
            if fits { body.writeBuffer(&chunk) }
            state = .collecting(head: head, body: body, tooLarge: !fits)
        case (.collecting(let head, let body, let tooLarge), .end):
            state = .answering
            answer(context: context, head: head, body: body, tooLarge: tooLarge)
        case (.collecting, .head), (.answering, _), (.idle, _):
            // The pipelining handler never hands on such a sequence; a parser error would have
            // come as an error instead. Refuse the connection rather than guess.
            context.close(promise: nil)
        }
    }

    private func answer(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer, tooLarge: Bool) {
        let route = self.route
        let eventLoop = context.eventLoop
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: eventLoop)
        let closeAfter = !head.isKeepAlive
        let token = Self.field(SignalRoute.tokenField, in: head.headers)
        let idempotencyKey = Self.field(SignalRoute.idempotencyKey, in: head.headers)
        Task(executorPreference: executor) {
            let (status, json) = await route.answer(
                token: token, idempotencyKey: idempotencyKey, body: body, tooLarge: tooLarge)
            @Sendable func write() {
                let (handler, context) = loopBound.value
                handler.state = .idle
                guard context.channel.isActive else { return }
                var headers = HTTPHeaders([
                    ("content-type", "application/json"), ("content-length", String(json.count)),
                    ("date", handler.dates.now()), ("server", "ops"),
                ])
                if closeAfter { headers.add(name: "connection", value: "close") }
                let responseHead = HTTPResponseHead(
                    version: .http1_1,
                    status: HTTPResponseStatus(statusCode: status.code, reasonPhrase: status.reasonPhrase),
                    headers: headers)
                context.write(handler.wrapOutboundOut(.head(responseHead)), promise: nil)
                var body = context.channel.allocator.buffer(capacity: json.count)
                body.writeBytes(json)
                context.write(handler.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
                if closeAfter {
                    // After the answer has left: a close now would drop what is still queued.
                    context.writeAndFlush(handler.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                        context.close(promise: nil)
                    }
                } else {
                    context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil)
                }
            }
            if eventLoop.inEventLoop { write() } else { eventLoop.execute(write) }
        }
    }

    /// A header's value as swift-http-types gives it to the router: repeated fields joined by ", ".
    /// A walk over the fields: `headers[name]` made an array per lookup, two per signal.
    static func field(_ name: HTTPField.Name, in headers: HTTPHeaders) -> String? {
        let wanted = name.canonicalName.utf8  // lower case
        var found: String?
        for (fieldName, value) in headers where fieldName.utf8.count == wanted.count {
            let same = zip(fieldName.utf8, wanted).allSatisfy { byte, lower in
                (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte) == lower
            }
            if same { found = found.map { $0 + ", " + value } ?? value }
        }
        return found
    }
}
