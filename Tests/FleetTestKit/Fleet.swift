import CurlHTTP
import Foundation

/// A running fleet for one test: engine-paper processes and an OPS, on free ports in a scratch directory.
public final class LocalFleet: @unchecked Sendable {
    public static let secret = "integration-test-fleet-secret-0123456789"
    public static let token = "integration-test-token"

    public struct EngineSpec: Sendable {
        public var id: String
        public var rpcPort: Int
        public var metricsPort: Int
    }

    public let directory = TemporaryDirectory("fleet")
    public private(set) var engines: [String: FleetProcess] = [:]
    public private(set) var specs: [EngineSpec] = []
    public private(set) var ops: FleetProcess?
    public let opsPort = freePort()

    public init(engineIDs: [String] = ["paper-1"]) {
        specs = engineIDs.map { EngineSpec(id: $0, rpcPort: freePort(), metricsPort: freePort()) }
    }

    deinit {
        ops?.kill9()
        for engine in engines.values { engine.kill9() }
    }

    public var opsURL: String { "http://127.0.0.1:\(opsPort)" }

    public func spec(_ id: String) -> EngineSpec { specs.first { $0.id == id }! }

    public func metricsURL(_ id: String) -> String { "http://127.0.0.1:\(spec(id).metricsPort)" }

    /// Starts (or restarts) one engine and waits for /readyz.
    @discardableResult
    public func startEngine(
        _ id: String, secret: String = LocalFleet.secret, extra: [String] = []
    ) throws -> FleetProcess {
        let spec = spec(id)
        let process = try FleetProcess(
            name: id, executable: FleetProcess.binary("engine-paper"),
            arguments: [
                "--id", id, "--listen", "127.0.0.1:\(spec.rpcPort)", "--metrics-listen",
                "127.0.0.1:\(spec.metricsPort)",
                "--data-dir", "\(directory.path)/\(id)", "--durability", "normal",
            ] + extra,
            environment: ["FLEET_SECRET": secret], logPath: "\(directory.path)/\(id).log")
        engines[id] = process
        guard eventually({ http("GET", metricsURL(id) + "/readyz")?.status == 200 || !process.isRunning }),
            process.isRunning
        else {
            throw FleetTestError("engine \(id) did not become ready:\n\(process.log)")
        }
        return process
    }

    public func startOPS(
        weights: String = #"{"demo":{"m-alpha":3,"m-beta":1}}"#, models: [String: [String]] = [:],
        waitForEngines: Bool = true, extra: [String] = []
    ) throws {
        var yaml = "engines:\n"
        for spec in specs {
            yaml += "  - id: \(spec.id)\n    venue: PAPER\n    address: 127.0.0.1:\(spec.rpcPort)\n"
            if let assigned = models[spec.id] { yaml += "    models: [\(assigned.joined(separator: ", "))]\n" }
        }
        directory.write("fleet.yaml", yaml)
        directory.write("strategy_weights.json", weights)
        let process = try FleetProcess(
            name: "ops", executable: FleetProcess.binary("ops"),
            arguments: [
                "serve", "--config", "\(directory.path)/fleet.yaml", "--listen", "127.0.0.1:\(opsPort)", "--state-dir",
                "\(directory.path)/ops",
            ] + extra,
            environment: ["FLEET_SECRET": LocalFleet.secret, "OPS_API_TOKEN": LocalFleet.token],
            logPath: "\(directory.path)/ops.log")
        ops = process
        guard eventually({ http("GET", opsURL + "/healthz")?.status == 200 || !process.isRunning }), process.isRunning
        else {
            throw FleetTestError("ops did not start:\n\(process.log)")
        }
        if waitForEngines {
            guard waitUntil("ops connected to every engine", { self.enginesUp() == self.engines.count }) else {
                throw FleetTestError("ops did not connect to the engines:\n\(process.log)")
            }
        }
    }

    /// `eventually`, and when `condition` never holds, the end of every process's log goes to
    /// standard error (the test's output): the fleet's directory, logs included, is deleted with it,
    /// so a wait that timed out would otherwise leave nothing to read.
    public func waitUntil(_ what: String, timeout: Double = 30, _ condition: () -> Bool) -> Bool {
        if eventually(timeout: timeout, condition) { return true }
        var report = "LocalFleet: \(what) did not happen within \(Int(timeout)) s\n"
        let processes = engines.sorted { $0.key < $1.key }.map(\.value) + (ops.map { [$0] } ?? [])
        for process in processes {
            let tail = process.log.split(separator: "\n", omittingEmptySubsequences: false).suffix(40)
            report += "--- \(process.name) (running: \(process.isRunning)), last lines of its log:\n"
            report += tail.joined(separator: "\n") + "\n"
        }
        FileHandle.standardError.write(Data(report.utf8))
        return false
    }

    public func enginesUp() -> Int {
        (json(http("GET", opsURL + "/status"))?["engines_up"] as? Int) ?? 0
    }

    public func signal(_ body: String, key: String? = nil, token: String? = LocalFleet.token) -> HTTPResponse? {
        var headers = [("Content-Type", "application/json")]
        if let token { headers.append(("X-OPS-TOKEN", token)) }
        if let key { headers.append(("X-Idempotency-Key", key)) }
        return http("POST", opsURL + "/strategy/signal", headers: headers, body: body)
    }

    /// The engine's /metrics value for a sample line prefix such as `orders_submitted_total{venue="PAPER",model="m"}`.
    public func metric(_ id: String, _ sample: String) -> Double? {
        guard let text = http("GET", metricsURL(id) + "/metrics")?.text else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Double(line.dropFirst(sample.count + 1))
        }
        return nil
    }
}

public struct FleetTestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
