import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A plain loopback TCP connection for tests that need to hold connections open or see exactly
/// when a server answers or closes (an HTTP client library would pool, retry or time out for them).
public final class RawTCPConnection {
    public enum ReadResult: Equatable {
        case data([UInt8])
        /// The server closed the connection.
        case closed
        /// Nothing arrived within the wait.
        case nothing
    }

    private let fd: Int32

    /// Connects to 127.0.0.1:`port`. The kernel completes the handshake even when the server is
    /// not accepting (the connection waits in its listen backlog).
    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FleetTestError("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw FleetTestError("connect to port \(port) failed: errno \(errno)")
        }
    }

    deinit { close(fd) }

    public func send(_ text: String) { send(bytes: Array(text.utf8)) }

    public func send(bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Waits up to `seconds` for the first bytes (then takes whatever else is already there).
    public func read(waitingUpTo seconds: Double) -> ReadResult {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(seconds * 1000)) > 0 else { return .nothing }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = Glibc.read(fd, &buffer, buffer.count)
        return count > 0 ? .data(Array(buffer[0..<count])) : .closed
    }

    /// Sends a keep-alive `GET path` and returns the response's first bytes (or why there are none).
    public func get(_ path: String, waitingUpTo seconds: Double = 30) -> ReadResult {
        send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        return read(waitingUpTo: seconds)
    }
}

extension RawTCPConnection.ReadResult {
    /// The bytes as text, when there are any.
    public var text: String? {
        if case .data(let bytes) = self { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }
}
