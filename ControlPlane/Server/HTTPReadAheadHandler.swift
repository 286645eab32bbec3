import NIOCore
import NIOHTTP1

/// Keeps reading a connection whose one outstanding request has fully arrived.
///
/// `HTTPServerPipelineHandler` holds back `read()` from when a request has arrived until its
/// answer's end is written. NIO then drops the socket's read interest after each request and adds
/// it back after each answer: two `epoll_ctl` calls a signal on a keep-alive connection. A client
/// that waits for each answer, as nearly all do, sends nothing meanwhile, so reading on costs
/// nothing; whatever does arrive, the pipeline handler buffers and delivers in order, as it already
/// does for requests that come in one read. With two or more requests outstanding (a client that
/// pipelines), this adds nothing and the pipeline handler's back-pressure holds as before, so at
/// most one read's worth of bytes more is buffered. While a request's body is still arriving it
/// adds nothing either: the body's consumer paces those reads.
///
/// It sits between NIO's HTTP/1 codec and `HTTPServerPipelineHandler`, so its `read()` reaches the
/// socket and it sees every request before the pipeline handler buffers it.
final class HTTPReadAheadHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var requests = HTTPRequestTally()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        requests.read(unwrapInboundIn(data))
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        if requests.outstanding == 1 && !requests.isRequestBeingRead && context.channel.isActive { context.read() }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        requests.wrote(unwrapOutboundIn(data))
        context.write(data, promise: promise)
    }
}
