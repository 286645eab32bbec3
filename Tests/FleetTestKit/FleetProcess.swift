import CurlHTTP
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the fleet's real binaries for multi-process tests: the same executables the README starts.
public final class FleetProcess: @unchecked Sendable {
    public let name: String
    public let process: Process
    public let logPath: String

    /// Where `swift build` put the executables (beside the test bundle), or `FLEET_BIN_DIR`.
    public static var binDirectory: String {
        if let override = ProcessInfo.processInfo.environment["FLEET_BIN_DIR"] { return override }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        // swift-testing may run from inside the .xctest bundle on some layouts
        if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
        return directory.path
    }

    public static func binary(_ name: String) -> String { "\(binDirectory)/\(name)" }

    public init(
        name: String, executable: String, arguments: [String], environment: [String: String], logPath: String
    ) throws {
        self.name = name
        self.logPath = logPath
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        log?.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    public var isRunning: Bool { process.isRunning }
    public var pid: Int32 { process.processIdentifier }

    /// SIGKILL: no chance to flush or clean up.
    public func kill9() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGTERM, then wait; returns the exit status.
    @discardableResult
    public func terminate() -> Int32 {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    public func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// A scratch directory removed when the test is done.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ prefix: String = "fleet-test") {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { buffer in
            guard let result = mkdtemp(buffer.baseAddress!) else {
                return "\(base)/\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            }
            return String(cString: result)
        }
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func write(_ name: String, _ contents: String) {
        _ = FileManager.default.createFile(atPath: "\(path)/\(name)", contents: Data(contents.utf8))
    }
}

/// A port no other test in this process was given, and free when handed out.
///
/// Ports come from below the kernel's ephemeral range, and each is handed out once per test run.
/// `bind(0)` took them from the ephemeral range: between a probe and the engine's own bind, and
/// while a test restarts an engine on its port, another test could be given the same port or an
/// outgoing connection take it, and every test's fleet shares one secret, so an OPS could link to
/// another test's engine.
public func freePort() -> Int {
    let lowestEphemeral = ephemeralPortRangeStart()
    let candidates = lowestEphemeral > 20_000 ? 10_000..<lowestEphemeral : 0..<0
    for _ in 0..<1_000 {
        let port = candidates.isEmpty ? 0 : Int.random(in: candidates)
        guard let bound = bindProbe(port: port) else { continue }
        if handedOutPorts.withLock({ $0.insert(bound).inserted }) { return bound }
    }
    while true {  // the range below is full: any free port, as bind(0) gives it
        if let bound = bindProbe(port: 0), handedOutPorts.withLock({ $0.insert(bound).inserted }) { return bound }
    }
}

private let handedOutPorts = Mutex<Set<Int>>([])

/// The first port of `net.ipv4.ip_local_port_range` (32768 unless changed).
private func ephemeralPortRangeStart() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
        let first = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first
    else { return 32_768 }
    return Int(first) ?? 32_768
}

/// Binds 127.0.0.1:`port` (0: any) and closes; the port bound, or nil when it is taken.
private func bindProbe(port: Int) -> Int? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { return nil }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Polls `condition` until it holds or `timeout` passes. Returns whether it held. Tests use it to
/// wait for a process to come up, never to assert on speed.
public func eventually(timeout: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

/// HTTP GET/POST through libcurl; nil when no response came.
public func http(
    _ method: String, _ url: String, headers: [(String, String)] = [], body: String? = nil
) -> HTTPResponse? {
    guard let client = try? CurlHTTPClient(timeout: .seconds(10)) else { return nil }
    return try? client.request(method, url, headers: headers, body: body.map { Array($0.utf8) })
}

/// Parses a JSON object response.
public func json(_ response: HTTPResponse?) -> [String: Any]? {
    guard let response else { return nil }
    return (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
}
