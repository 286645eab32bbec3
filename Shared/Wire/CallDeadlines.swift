import HeapModule
import NIOCore

/// The deadlines of one link's calls in flight, kept for a single timer per link.
///
/// A NIO timer per call, cancelled when its response came, cost a client at 256 calls in flight
/// ~14% of its CPU: each `scheduleTask` allocates a task and a promise, and each cancel searches
/// the event loop's timer queue under its lock. Calls of one link mostly share a timeout, so the
/// earliest deadline rarely moves back and the one timer is rarely re-armed.
///
/// Answered calls leave the heap lazily: from its front as responses come (in order, the front
/// is the oldest call in flight, so the heap holds about the calls in flight), the rest when
/// the timer fires.
package struct CallDeadlines {
    private struct Entry: Comparable {
        let deadline: NIODeadline
        let streamID: UInt64
        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.deadline, lhs.streamID) < (rhs.deadline, rhs.streamID)
        }
    }

    private var heap = Heap<Entry>()
    /// When the link's timer is set to fire; nil when none is set.
    package private(set) var armedAt: NIODeadline?

    package init() {}

    /// Deadlines kept, answered calls not yet dropped among them.
    package var count: Int { heap.count }

    /// Adds a call's deadline. Returns when to set the timer for, if it must be set or moved
    /// earlier (the caller cancels the one it had).
    package mutating func add(streamID: UInt64, deadline: NIODeadline) -> NIODeadline? {
        heap.insert(Entry(deadline: deadline, streamID: streamID))
        if let armedAt, armedAt <= deadline { return nil }
        armedAt = deadline
        return deadline
    }

    /// Drops answered calls (`isPending` false) from the front.
    package mutating func dropAnswered(isPending: (UInt64) -> Bool) {
        while let first = heap.min, !isPending(first.streamID) { _ = heap.removeMin() }
    }

    /// The timer fired at `now`: returns the calls still pending whose deadline has passed (in
    /// deadline order, removed from here) and when to set the timer next, if any call is left.
    package mutating func expire(
        now: NIODeadline, isPending: (UInt64) -> Bool
    ) -> (expired: [UInt64], next: NIODeadline?) {
        var expired: [UInt64] = []
        while let first = heap.min, first.deadline <= now {
            _ = heap.removeMin()
            if isPending(first.streamID) { expired.append(first.streamID) }
        }
        dropAnswered(isPending: isPending)
        armedAt = heap.min?.deadline
        return (expired, armedAt)
    }

    package mutating func removeAll() {
        heap = Heap()
        armedAt = nil
    }
}
