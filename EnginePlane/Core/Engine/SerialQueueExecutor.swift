import Dispatch

/// A serial executor on a Dispatch queue: the engine's executor when its host gives none (tests,
/// tools). The runtime gives the engine its link's event loop instead, so requests, engine work
/// and replies run on one thread without a hop between them.
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
