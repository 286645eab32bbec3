import FleetWire
import NIOCore
import NIOPosix
import Testing

/// An actor on `EventLoopSerialExecutor`: records whether a job queued before an await ran before it.
private actor Probe {
    let executor: EventLoopSerialExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    var queuedJobRan = false

    init(_ executor: EventLoopSerialExecutor) { self.executor = executor }

    /// Queues a job on the actor, then calls another of its async methods: true if that call
    /// suspended (the queued job ran in between), false if it ran straight through.
    func callHops() async -> Bool {
        queuedJobRan = false
        Task { self.markQueuedJob() }
        return await inner()
    }

    private func markQueuedJob() { queuedJobRan = true }
    private func inner() async -> Bool { queuedJobRan }
}

@Suite struct EventLoopSerialExecutorTests {
    @Test func callsWithinTheActorRunStraightThroughForTasksPreferringItsLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let executor = EventLoopSerialExecutor(EventLoopTaskExecutor(group.next()))
        let probe = Probe(executor)
        // As a request task of a link on that loop (FleetServer's taskExecutor) calls the engine.
        let hopped = await Task(executorPreference: executor.taskExecutor) { await probe.callHops() }.value
        #expect(!hopped, "a call between the actor's own methods went through the loop's queue")
        // Work still runs on the loop, one job at a time.
        let onLoop = await Task(executorPreference: executor.taskExecutor) {
            await probe.runsOnLoop()
        }.value
        #expect(onLoop)
        try await group.shutdownGracefully()
    }
}

extension Probe {
    func runsOnLoop() -> Bool { executor.eventLoop.inEventLoop }
}
