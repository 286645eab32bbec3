import NIOCore
import NIOHTTP1

/// Closes a keep-alive connection that has been idle for `idleTimeout`: no request part read and
/// no answer finished in that time, unless an answer is being prepared. A request that is only
/// half read counts as idle, so a client that stalls mid-request is closed too.
///
/// The rules of Hummingbird's `HTTPConnectionStateHandler`, on NIO's HTTP/1 parts: it sits before
/// `HTTP1ToHTTPServerCodec`, so it sees the signals `SignalRouteHandler` answers there as well as
/// the router's requests. Graceful close (quiescing) is `HTTPServerPipelineHandler`'s.
final class HTTPIdleTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let idleTimeout: TimeAmount
    private var requests = HTTPRequestTally()
    private var lastActive = NIODeadline.now()
    private var timer: Scheduled<Void>?

    init(idleTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startTimer(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        startTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActive = context.eventLoop.now
        requests.read(unwrapInboundIn(data))
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if requests.wrote(unwrapOutboundIn(data)), requests.outstanding == 0 { lastActive = context.eventLoop.now }
        context.write(data, promise: promise)
    }

    private func startTimer(context: ChannelHandlerContext) {
        lastActive = context.eventLoop.now
        schedule(context: context, at: lastActive + idleTimeout)
    }

    private func schedule(context: ChannelHandlerContext, at deadline: NIODeadline) {
        guard timer == nil else { return }
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            handler.timeoutFired(context: context)
        }
    }

    private func timeoutFired(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if requests.outstanding > 0 && !requests.isRequestBeingRead {
            // An answer is being prepared: look again one timeout after it is written.
            schedule(context: context, at: context.eventLoop.now + idleTimeout)
        } else if context.eventLoop.now >= lastActive + idleTimeout {
            context.close(promise: nil)
        } else {
            schedule(context: context, at: lastActive + idleTimeout)
        }
    }
}
