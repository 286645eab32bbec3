import NIOCore

/// An actor's serial executor on a NIO event loop that also serves request tasks as their task
/// executor (`taskExecutor`).
///
/// Why not NIO's own `EventLoop.executor`: it runs jobs with no task executor, so a task that
/// prefers the loop (every request task, see `ServerConnectionHandler`) and calls from one
/// actor-isolated method into another on the same actor hops through the loop's queue each time
/// (the runtime sees a task-executor mismatch and must switch). With that hop a paper order's
/// intent committed alone before the venue call, and each order paid two commits and two fsyncs.
/// Running the actor's jobs under the loop's task executor makes those calls direct.
public final class EventLoopSerialExecutor: SerialExecutor {
    public let taskExecutor: EventLoopTaskExecutor

    public init(_ taskExecutor: EventLoopTaskExecutor) {
        self.taskExecutor = taskExecutor
    }

    public var eventLoop: any EventLoop { taskExecutor.eventLoop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(
                isolatedTo: self.asUnownedSerialExecutor(), taskExecutor: self.taskExecutor.asUnownedTaskExecutor())
        }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func checkIsolated() {
        eventLoop.preconditionInEventLoop()
    }

    /// Lets the runtime's isolation checks (`assumeIsolated`) tell, without crashing when the
    /// answer is no, whether code on the loop outside one of this executor's jobs (a channel
    /// handler) is isolated: it is, the loop runs one thing at a time.
    public func isIsolatingCurrentContext() -> Bool? {
        eventLoop.inEventLoop
    }
}
