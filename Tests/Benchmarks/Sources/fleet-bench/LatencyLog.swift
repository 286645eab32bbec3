import Foundation
import Synchronization

/// Every measured request of a run, in send order: when it was due and how long it took. The
/// percentiles say how long the tail is; this says when it happens (a stall every checkpoint
/// interval, one long pause, or spread evenly), which is what tells a cause apart from noise.
final class LatencyLog: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let path: String
    /// (due, latency) in nanoseconds; due is counted from the start of the measured window.
    private let entries = Mutex<[(due: Int64, latency: Int64)]>([])

    /// Creates (or empties) the file now, so a path that cannot be written fails before the run.
    init(path: String) throws(Failure) {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw Failure(description: "cannot create the latency log '\(path)'")
        }
        self.path = path
        entries.withLock { $0.reserveCapacity(1 << 16) }
    }

    func record(due: Int64, latency: Int64) {
        entries.withLock { $0.append((due, latency)) }
    }

    /// Writes `<due ns> <latency ns>` per line, sorted by due time.
    func write() throws(Failure) {
        var text = "# due_ns latency_ns (due: from the start of the measured window)\n"
        for entry in entries.withLock({ $0 }).sorted(by: { $0.due < $1.due }) {
            text += "\(entry.due) \(entry.latency)\n"
        }
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw Failure(description: "cannot write the latency log '\(path)': \(error.localizedDescription)")
        }
    }
}
