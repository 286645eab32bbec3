import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The floor under a lone call: 64 bytes there and back over loopback TCP between two processes,
/// with blocking sockets and nothing else (no framing, no event loop, no tasks). The framed no-op
/// at one in flight is measured against it: what the link adds is the difference.
struct TCPEcho: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tcp-echo",
        abstract: "Echo server for tcp-pingpong: sends back every 64-byte message, one connection at a time.")
    @Option(help: "Loopback port to listen on.") var port: Int

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1-65535, not \(port)") }
    }

    func run() throws {
        let listener = try TCPSocket.listen(port: port)
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { throw TCPSocket.Failure("accept: \(String(cString: strerror(errno)))") }
            var message = [UInt8](repeating: 0, count: TCPSocket.messageSize)
            while TCPSocket.readFully(connection, &message), TCPSocket.writeFully(connection, message) {}
            close(connection)
        }
    }
}

struct TCPPingPong: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tcp-pingpong",
        abstract: "Round trips of 64 bytes to tcp-echo over loopback TCP, one at a time: the kernel's floor.")
    @Option(help: "Port tcp-echo listens on.") var port: Int
    @Option(help: "Seconds of measured round trips.") var duration: Double = 5
    @Option(help: "Warm-up seconds, not measured.") var warmup: Double = 1
    @Option(
        name: .customLong("cpu-of"),
        help: "Report CPU µs per round trip of another process: NAME=PID or NAME=PID/TID (repeatable).")
    var cpuOf: [String] = []

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1-65535, not \(port)") }
        guard duration > 0, warmup >= 0 else {
            throw ValidationError("--duration must be above 0 and --warmup at least 0")
        }
        do { _ = try CPUSampler(specs: cpuOf) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        let socket = try TCPSocket.connect(port: port)
        defer { close(socket) }
        var message = [UInt8](repeating: 7, count: TCPSocket.messageSize)
        func roundTrip() throws {
            guard TCPSocket.writeFully(socket, message), TCPSocket.readFully(socket, &message) else {
                throw TCPSocket.Failure("the echo server closed the connection")
            }
        }
        let warmEnd = MonotonicClock.nanos() + Int64(warmup * 1e9)
        while MonotonicClock.nanos() < warmEnd { try roundTrip() }

        let recorder = LatencyRecorder()
        let sampler = try CPUSampler(specs: cpuOf)
        let cpuStart = sampler.sample()
        let start = MonotonicClock.nanos()
        let end = start + Int64(duration * 1e9)
        var sent = start
        while sent < end {
            try roundTrip()
            let now = MonotonicClock.nanos()
            recorder.record(nanos: now - sent)
            sent = now
        }
        let summary = recorder.summary()
        let report = RunReport(
            bench: "tcp-pingpong", mode: "closed", offeredRate: nil, concurrency: 1,
            seconds: Double(MonotonicClock.nanos() - start) / 1e9, summary: summary,
            cpuMicrosPerRequest: sampler.perRequest(from: cpuStart, to: sampler.sample(), requests: summary.count))
        print(report.json())
        print(report.row())
    }
}

/// Blocking loopback TCP with Nagle off, as the framed link runs.
enum TCPSocket {
    static let messageSize = 64

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func listen(port: Int) throws(Failure) -> Int32 {
        let descriptor = try make()
        var on: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(descriptor, 16) == 0 else {
            defer { close(descriptor) }
            throw Failure("cannot listen on 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        return descriptor
    }

    static func connect(port: Int) throws(Failure) -> Int32 {
        let descriptor = try make()
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            defer { close(descriptor) }
            throw Failure("cannot connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        var on: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        return descriptor
    }

    /// False once the peer has closed (or the socket failed).
    static func readFully(_ descriptor: Int32, _ buffer: inout [UInt8]) -> Bool {
        buffer.withUnsafeMutableBytes { bytes in
            whole(bytes.count) { done in bytes.baseAddress.map { read(descriptor, $0 + done, bytes.count - done) } }
        }
    }

    static func writeFully(_ descriptor: Int32, _ buffer: [UInt8]) -> Bool {
        buffer.withUnsafeBytes { bytes in
            whole(bytes.count) { done in bytes.baseAddress.map { write(descriptor, $0 + done, bytes.count - done) } }
        }
    }

    /// Repeats `step` (a `read` or `write` from offset `done`) until `count` bytes have moved,
    /// retrying on EINTR; false on end of stream or an error.
    private static func whole(_ count: Int, _ step: (_ done: Int) -> Int?) -> Bool {
        var done = 0
        while done < count {
            let moved = step(done) ?? -1
            if moved > 0 {
                done += moved
            } else if moved < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    private static func make() throws(Failure) -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure("socket: \(String(cString: strerror(errno)))") }
        return descriptor
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        return address
    }
}
