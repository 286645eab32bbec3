import Foundation

/// CPU time of the processes (or threads) under test over the measured window only (not the
/// warm-up), per completed request: on this noisy VM a rate moves ±40% between runs, while the CPU
/// an order costs each process moves far less, so it is what side-by-side comparisons rest on.
struct CPUSampler {
    /// `NAME=PID` (a process, all its threads) or `NAME=PID/TID` (one thread); `client` is this process.
    struct Target {
        let name: String
        let statPath: String
    }

    let targets: [Target]

    /// Parses the `--cpu-of` values; throws on a malformed one so a typo does not go unnoticed.
    init(specs: [String]) throws {
        var targets = [Target(name: "client", statPath: "/proc/self/stat")]
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            let ids = parts.count == 2 ? parts[1].split(separator: "/").map(String.init) : []
            guard parts.count == 2, !parts[0].isEmpty, (1...2).contains(ids.count), ids.allSatisfy({ Int($0) != nil })
            else { throw CPUSamplerError(message: "--cpu-of wants NAME=PID or NAME=PID/TID, got '\(spec)'") }
            let path = ids.count == 1 ? "/proc/\(ids[0])/stat" : "/proc/\(ids[0])/task/\(ids[1])/stat"
            targets.append(Target(name: parts[0], statPath: path))
        }
        self.targets = targets
    }

    /// utime + stime in clock ticks for each target; nil for one that is gone.
    func sample() -> [Int64?] {
        targets.map { target in
            guard let text = try? String(contentsOfFile: target.statPath, encoding: .utf8),
                let close = text.lastIndex(of: ")")
            else { return nil }
            // Fields after "(comm)": state is field 3, utime 14, stime 15 (1-based, as in proc(5)).
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return nil }
            return user + system
        }
    }

    /// Microseconds of CPU per request for each target between two samples.
    func perRequest(from start: [Int64?], to end: [Int64?], requests: UInt64) -> [(String, Double)] {
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard requests > 0, ticksPerSecond > 0 else { return [] }
        return zip(targets, zip(start, end)).compactMap { target, pair in
            guard let first = pair.0, let last = pair.1 else { return nil }
            return (target.name, Double(last - first) / ticksPerSecond * 1e6 / Double(requests))
        }
    }
}

struct CPUSamplerError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
