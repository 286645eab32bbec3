import NIOCore

/// Runs Swift tasks on a NIO event loop (SE-0417 task executor preference).
///
/// A request handler or a caller that prefers its channel's event loop starts, writes and resumes
/// on the thread that owns the socket: no thread wake-up between the task and the channel, which
/// is most of the cost of a small RPC on a loaded 2-core machine.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
