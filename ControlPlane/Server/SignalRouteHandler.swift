import FleetWire
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Serves `POST /strategy/signal` from the HTTP connection's pipeline; passes every other request
/// on to Hummingbird's router.
///
/// Why: on OPS's one event loop, Hummingbird's per-request machinery (the connection's async
/// sequences of request and response parts, the router and middleware chain, a response object)
/// cost more CPU per signal than the routing itself. Here a signal is one task: read the parts,
/// route, write the answer.
///
/// It relies on `HTTPServerPipelineHandler` (pipelining assistance) before it in the pipeline,
/// which hands on one request at a time and holds the next until the answer's end is written, so
/// answers leave in the order requests came, whichever side serves them. It sits after
/// Hummingbird's `HTTPConnectionStateHandler`, so the idle timeout and graceful close count its
/// requests too.
final class SignalRouteHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        /// A request for the router: its parts go on.
        case passing
        /// A signal: its body is collected (up to `SignalRoute.maxBodyBytes`).
        case collecting(head: HTTPRequest, body: ByteBuffer, tooLarge: Bool)
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

    private func answer(context: ChannelHandlerContext, head: HTTPRequest, body: ByteBuffer, tooLarge: Bool) {
        let route = self.route
        let eventLoop = context.eventLoop
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: eventLoop)
        let closeAfter = head.headerFields[.connection]?.lowercased().contains("close") ?? false
        Task(executorPreference: executor) {
            let (status, json) = await route.answer(head: head, body: body, tooLarge: tooLarge)
            @Sendable func write() {
                let (handler, context) = loopBound.value
                handler.state = .idle
                guard context.channel.isActive else { return }
                var fields: HTTPFields = [
                    .contentType: "application/json", .contentLength: String(json.count),
                    .date: handler.dates.now(), .server: "ops",
                ]
                if closeAfter { fields[.connection] = "close" }
                context.write(
                    handler.wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
                context.write(handler.wrapOutboundOut(.body(ByteBuffer(bytes: json))), promise: nil)
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
}
