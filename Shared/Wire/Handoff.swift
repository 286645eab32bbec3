import Synchronization

/// Work posted from anywhere for one job that takes it all.
///
/// The first `post` after a `take` returns true: that caller schedules the job (one loop or actor
/// job), and everything posted until it runs goes with it. The engine uses it twice: replies that
/// finish on its sync thread reach the link's loop by one job per batch, and requests decoded in
/// one read start on the engine by one job.
public final class Handoff<Element: Sendable>: Sendable {
    private let pending = Mutex<(elements: [Element], jobScheduled: Bool)>(([], false))

    public init() {}

    /// Queues `element`; true when the caller must schedule the job that calls `take`.
    public func post(_ element: Element) -> Bool {
        pending.withLock { pending in
            pending.elements.append(element)
            defer { pending.jobScheduled = true }
            return !pending.jobScheduled
        }
    }

    /// Everything posted so far, in order; the next `post` asks for a new job.
    public func take() -> [Element] {
        pending.withLock { pending in
            pending.jobScheduled = false
            var elements: [Element] = []
            swap(&elements, &pending.elements)
            return elements
        }
    }
}
