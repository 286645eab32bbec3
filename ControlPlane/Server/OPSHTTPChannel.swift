import FleetWire
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1 child channel with `SignalRouteHandler` in its pipeline: signals are
/// answered by the handler, everything else by the router, one request at a time per connection.
///
/// The pipeline of `HTTP1Channel.setup` (Hummingbird 2), with four changes: pipelining
/// assistance on (so answers from either side stay in request order, and `HTTPServerPipelineHandler`
/// does the graceful close), `HTTPReadAheadHandler` before it (no `epoll_ctl` per request), the
/// signal handler before `HTTP1ToHTTPServerCodec` (signals skip the
/// conversion to swift-http-types), and `HTTPIdleTimeoutHandler` in place of Hummingbird's
/// `HTTPConnectionStateHandler`, before the signal handler so that signals count as activity.
struct OPSHTTPChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let signalRoute: SignalRoute
    let executor: EventLoopTaskExecutor
    let idleTimeout: Duration

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Hummingbird's limits (NIO's own default allows 65,534 header fields).
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldCount = 1_000
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
            try channel.pipeline.syncOperations.addHandlers(
                HTTPReadAheadHandler(),
                HTTPServerPipelineHandler(),
                HTTPIdleTimeoutHandler(idleTimeout: TimeAmount(idleTimeout)),
                SignalRouteHandler(route: signalRoute, executor: executor),
                HTTP1ToHTTPServerCodec(secure: false))
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
