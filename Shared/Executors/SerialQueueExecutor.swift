import Dispatch

/// A serial executor on a Dispatch queue: an actor's executor when its host gives none (tests,
/// tools). The runtimes give the engine and OPS's router an event loop instead
/// (`EventLoopSerialExecutor`), so a request, the actor's work and the reply run on one thread
/// without a hop between them.
public final class SerialQueueExecutor: SerialExecutor {
    private let queue: DispatchQueue

    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
