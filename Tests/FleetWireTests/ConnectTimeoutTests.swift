import NIOCore
import NIOEmbedded
import Testing

@testable import FleetWire

/// The connect timeout of `FleetClient.connect` covers the handshake only: once it completed, the
/// link stays up however late the connecting task resumes.
struct ConnectTimeoutTests {
    @Test func aHandshakeThatCompletedIsNeverCutByTheTimeout() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let handshake = channel.embeddedEventLoop.makePromise(of: Int.self)
        FleetClient.closeUnlessDone(channel, when: handshake.futureResult, within: .seconds(3))
        handshake.succeed(1)
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))  // nobody else cancels the timer
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test func aHandshakeThatDoesNotCompleteIsClosedAtTheTimeout() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let handshake = channel.embeddedEventLoop.makePromise(of: Int.self)
        FleetClient.closeUnlessDone(channel, when: handshake.futureResult, within: .seconds(3))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(2_999))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
        handshake.fail(ChannelError.ioOnClosedChannel)
    }
}
