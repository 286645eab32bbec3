import FleetWire
import NIOCore
import NIOEmbedded
import Testing

/// Writes what it is given and asks `CoalescedFlush` for the flush, as the link handlers do.
private final class WriteThenSchedule: ChannelOutboundHandler {
    typealias OutboundIn = Int
    typealias OutboundOut = Int
    let coalescedFlush: CoalescedFlush

    init(_ coalescedFlush: CoalescedFlush) { self.coalescedFlush = coalescedFlush }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        coalescedFlush.schedule(context)
    }
}

@Suite struct CoalescedFlushTests {
    /// Everything the channel has flushed so far.
    private func flushed(_ channel: EmbeddedChannel) throws -> [Int] {
        var values: [Int] = []
        while let value = try channel.readOutbound(as: Int.self) { values.append(value) }
        return values
    }

    @Test func writesOfOneTurnLeaveInOneFlushAfterTheJobsAlreadyQueued() throws {
        let channel = EmbeddedChannel(handler: WriteThenSchedule(CoalescedFlush(maxWritesPerFlush: 16)))
        for value in 0..<5 { channel.write(value, promise: nil) }
        #expect(try flushed(channel) == [])
        channel.embeddedEventLoop.run()
        #expect(try flushed(channel) == Array(0..<5))
        _ = try channel.finish()
    }

    @Test func aBurstIsFlushedEveryMaxWritesSoThePeerCanStartOnIt() throws {
        let channel = EmbeddedChannel(handler: WriteThenSchedule(CoalescedFlush(maxWritesPerFlush: 16)))
        for value in 0..<15 { channel.write(value, promise: nil) }
        #expect(try flushed(channel) == [])
        channel.write(15, promise: nil)
        #expect(try flushed(channel) == Array(0..<16))  // at the cap, without waiting for the turn to end
        for value in 16..<40 { channel.write(value, promise: nil) }
        #expect(try flushed(channel) == Array(16..<32))
        channel.embeddedEventLoop.run()
        #expect(try flushed(channel) == Array(32..<40))  // the rest at the end of the turn
        _ = try channel.finish()
    }
}
