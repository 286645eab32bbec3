import NIOCore

/// One `flush()` per event-loop turn: writes that arrive as separate jobs (replies completing,
/// calls from many tasks) are flushed after the jobs already queued, so a burst leaves in one
/// `write(2)`. Used only on its channel's event loop.
final class CoalescedFlush {
    private var scheduled = false

    func schedule(_ context: ChannelHandlerContext) {
        guard !scheduled else { return }
        scheduled = true
        let loopBound = NIOLoopBound((flush: self, context: context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (flush, context) = loopBound.value
            flush.scheduled = false
            context.flush()
        }
    }
}
