import NIOCore
import NIOPosix
import Synchronization

/// Keep-alive HTTP/1.1 connections on one event loop, one request in flight on each (no
/// pipelining), handed out to callers as they free up: the signal benchmark's client.
///
/// The load generator shares the 2 cores with the OPS and engine under test, so it is kept lean.
/// It replaced a pool of blocking libcurl clients, one thread each, which cost about 130 µs of CPU
/// per request in thread hand-offs. Each connection then had NIO's HTTP/1 client codec, whose
/// parser and per-part pipeline trips were ~40% of the client's CPU; requests are now written as
/// bytes and answers read by `HTTP1Exchange`, which takes only what a load generator needs (the
/// status, and `Content-Length` to find the answer's end).
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
                    try channel.pipeline.syncOperations.addHandler(HTTP1Exchange())
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
        var bytes = channel.allocator.buffer(capacity: 256 + body.count)
        bytes.writeString("POST \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Length: \(body.count)\r\n")
        for (name, value) in headers { bytes.writeString("\(name): \(value)\r\n") }
        bytes.writeString("\r\n")
        bytes.writeBytes(body)
        let promise = channel.eventLoop.makePromise(of: UInt.self)
        let request = HTTP1Exchange.Request(bytes: bytes, reply: promise)
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

/// Writes one request's bytes and completes its promise with the answer's status once the whole
/// answer (head, then `Content-Length` bytes of body) has been read. An answer it cannot delimit
/// (no `Content-Length`, or a chunked body: OPS sends neither) fails the request and closes the
/// connection.
private final class HTTP1Exchange: ChannelDuplexHandler {
    struct Request {
        var bytes: ByteBuffer
        var reply: EventLoopPromise<UInt>
    }
    struct Malformed: Error { let reason: String }
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    private var pending: EventLoopPromise<UInt>?
    private var received: ByteBuffer?
    private static let maxHeadBytes = 16 * 1024

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        pending = request.reply
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        if received == nil {
            received = chunk
        } else {
            received!.writeBuffer(&chunk)
        }
        do {
            while let status = try Self.takeAnswer(from: &received!) {
                pending?.succeed(status)
                pending = nil
            }
        } catch {
            fail(context: context, error: error)
            return
        }
        if received!.readableBytes == 0 { received = nil }
    }

    /// The status of the first complete answer in `buffer`, which it then drops; nil until one is.
    /// Read as bytes: a load generator that spent its CPU on strings would take it from the servers.
    private static func takeAnswer(from buffer: inout ByteBuffer) throws -> UInt? {
        let view = buffer.readableBytesView
        guard let headEnd = endOfHead(view) else {
            if view.count > maxHeadBytes { throw Malformed(reason: "answer head over \(maxHeadBytes) bytes") }
            return nil
        }
        let start = view.startIndex
        // "HTTP/1.x NNN"
        guard headEnd - start >= 12, view[start..<start + 7].elementsEqual("HTTP/1.".utf8),
            let status = number(view, from: start + 9, to: start + 12)
        else { throw Malformed(reason: "no status line") }
        var length: Int?
        var line = start
        while let lineEnd = nextCRLF(view, from: line, before: headEnd + 2) {
            let field = lineEnd + 2
            if hasPrefix(view, at: field, lowercased: "content-length:") {
                var digits = field + 15
                while digits < headEnd && (view[digits] == 32 || view[digits] == 9) { digits += 1 }
                var end = digits
                while end < headEnd && view[end] != 13 { end += 1 }
                while end > digits && (view[end - 1] == 32 || view[end - 1] == 9) { end -= 1 }
                length = number(view, from: digits, to: end).map { Int($0) }
            } else if hasPrefix(view, at: field, lowercased: "transfer-encoding:") {
                throw Malformed(reason: "a Transfer-Encoding answer")
            }
            line = field
        }
        guard let length else { throw Malformed(reason: "no Content-Length") }
        let total = headEnd - start + 4 + length
        guard view.count >= total else { return nil }
        buffer.moveReaderIndex(forwardBy: total)
        return status
    }

    private static func number(_ view: ByteBufferView, from: Int, to: Int) -> UInt? {
        guard from < to, to - from <= 18 else { return nil }
        var value: UInt = 0
        for index in from..<to {
            let byte = view[index]
            guard byte >= 48 && byte <= 57 else { return nil }
            value = value * 10 + UInt(byte - 48)
        }
        return value
    }

    private static func hasPrefix(_ view: ByteBufferView, at index: Int, lowercased prefix: String) -> Bool {
        var at = index
        for byte in prefix.utf8 {
            guard at < view.endIndex, view[at] | 0x20 == byte | 0x20 else { return false }
            at += 1
        }
        return true
    }

    /// The next CRLF at or after `from`, ending before `before`.
    private static func nextCRLF(_ view: ByteBufferView, from: Int, before: Int) -> Int? {
        var index = from
        while index + 1 < before {
            if view[index] == 13 && view[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }

    /// Where the blank line ending the head starts, if it has arrived.
    private static func endOfHead(_ view: ByteBufferView) -> Int? {
        var index = view.startIndex
        while index + 3 < view.endIndex {
            if view[index] == 13 && view[index + 1] == 10 && view[index + 2] == 13 && view[index + 3] == 10 {
                return index
            }
            index += 1
        }
        return nil
    }

    private func fail(context: ChannelHandlerContext, error: any Error) {
        pending?.fail(error)
        pending = nil
        received = nil
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, error: error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.fail(ChannelError.ioOnClosedChannel)
        pending = nil
        context.fireChannelInactive()
    }
}
