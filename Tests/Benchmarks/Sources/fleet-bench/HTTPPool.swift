import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Keep-alive HTTP/1.1 connections on one event loop, one request in flight on each (no
/// pipelining), handed out to callers as they free up: the signal benchmark's client.
///
/// It replaced a pool of blocking libcurl clients, one thread each, which cost about 130 µs of CPU
/// per request in thread hand-offs: on 2 cores that was CPU taken from the OPS and engine under
/// test, and wake-up latency added to every measurement.
final class HTTPPool: Sendable {
    struct Failure: Error { let message: String }

    private let group: MultiThreadedEventLoopGroup
    /// A slot's connection is replaced only by the caller holding the slot (see `post`).
    private let channels: Mutex<[any Channel]>
    private let state = Mutex<(free: [Int], waiters: [CheckedContinuation<Int, Never>])>(([], []))
    private let host: String
    private let port: Int
    /// The one loop every connection is on.
    var eventLoop: any EventLoop { group.next() }

    /// Opens `size` connections to `url` (`http://HOST:PORT`).
    init(url: String, size: Int) async throws {
        guard url.hasPrefix("http://") else { throw Failure(message: "only http:// URLs: \(url)") }
        let authority = url.dropFirst("http://".count).prefix { $0 != "/" }
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...])
        else { throw Failure(message: "the URL needs HOST:PORT: \(url)") }
        host = String(authority[..<colon])
        self.port = port
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var channels: [any Channel] = []
        for _ in 0..<size { channels.append(try await Self.connect(group: group, host: host, port: port)) }
        self.channels = Mutex(channels)
        state.withLock { $0.free = Array(0..<size) }
    }

    private static func connect(group: MultiThreadedEventLoopGroup, host: String, port: Int) async throws -> any Channel
    {
        try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(OneRequestAtATime())
                }
            }
            .connect(host: host, port: port).get()
    }

    /// POSTs `body`; returns the response status, or nil when the connection failed. A connection
    /// the server closed (idle timeout, restart) is opened again before the request goes out; a
    /// request in flight when it closed fails and counts as an error.
    func post(path: String, headers: [(String, String)], body: [UInt8]) async -> UInt? {
        let index = await take()
        defer { give(index) }
        let current = channels.withLock { $0[index] }
        let channel: any Channel
        if current.isActive {
            channel = current
        } else {
            guard let fresh = try? await Self.connect(group: group, host: host, port: port) else { return nil }
            channels.withLock { $0[index] = fresh }
            channel = fresh
        }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: host)
        head.headers.add(name: "Content-Length", value: String(body.count))
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        let promise = channel.eventLoop.makePromise(of: UInt.self)
        let request = OneRequestAtATime.Request(
            head: head, body: channel.allocator.buffer(bytes: body), reply: promise)
        // On the loop: an active channel's handler takes the promise at once and completes it
        // exactly once (response end, error or close); a closed one fails it here.
        channel.eventLoop.execute {
            if channel.isActive {
                channel.writeAndFlush(request, promise: nil)
            } else {
                promise.fail(ChannelError.ioOnClosedChannel)
            }
        }
        return try? await promise.futureResult.get()
    }

    func close() async {
        for channel in channels.withLock({ $0 }) { try? await channel.close() }
        try? await group.shutdownGracefully()
    }

    private func take() async -> Int {
        if let index = state.withLock({ $0.free.popLast() }) { return index }
        return await withCheckedContinuation { continuation in
            // Checked again under the lock: a connection freed since the first look goes to us.
            let index: Int? = state.withLock { state in
                if let index = state.free.popLast() { return index }
                state.waiters.append(continuation)
                return nil
            }
            if let index { continuation.resume(returning: index) }
        }
    }

    private func give(_ index: Int) {
        let waiter: CheckedContinuation<Int, Never>? = state.withLock { state in
            if state.waiters.isEmpty {
                state.free.append(index)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: index)
    }
}

/// Writes one request and completes its promise with the response status at the response's end.
private final class OneRequestAtATime: ChannelDuplexHandler {
    struct Request {
        var head: HTTPRequestHead
        var body: ByteBuffer
        var reply: EventLoopPromise<UInt>
    }
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Request
    typealias OutboundOut = HTTPClientRequestPart

    private var pending: EventLoopPromise<UInt>?
    private var status: UInt = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        pending = request.reply
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = head.status.code
        case .body: break
        case .end:
            pending?.succeed(status)
            pending = nil
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        pending?.fail(error)
        pending = nil
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.fail(ChannelError.ioOnClosedChannel)
        pending = nil
        context.fireChannelInactive()
    }
}
