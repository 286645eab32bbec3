import FleetTestKit
import Foundation
import Testing

/// OPS's HTTP API holds at most --max-connections connections and closes idle keep-alive ones;
/// both servers refuse at start a bound the process's open-file limit cannot hold.
@Suite(.serialized)
struct ConnectionLimitTests {
    @Test func opsStopsAcceptingAtItsLimitAndServesTheWaitingClientOnceAnIdleConnectionCloses() throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        try fleet.startOPS(extra: ["--max-connections", "2", "--idle-timeout", "5"])

        // Two keep-alive connections take both slots (a connection the start-up checks left
        // open times out first, so these may wait up to one idle timeout for their answer).
        let first = try RawTCPConnection(port: fleet.opsPort)
        let second = try RawTCPConnection(port: fleet.opsPort)
        #expect(first.get("/healthz").text?.hasPrefix("HTTP/1.1 200") == true)
        #expect(second.get("/healthz").text?.hasPrefix("HTTP/1.1 200") == true)

        // A third client connects (the kernel's backlog holds it) but is not served while both are open.
        let third = try RawTCPConnection(port: fleet.opsPort)
        #expect(third.get("/healthz", waitingUpTo: 1) == .nothing)

        // Idle for the timeout, the first two are closed, and the third is answered.
        #expect(third.read(waitingUpTo: 30).text?.hasPrefix("HTTP/1.1 200") == true)
        #expect(first.read(waitingUpTo: 30) == .closed)
        #expect(second.read(waitingUpTo: 30) == .closed)
        #expect(fleet.ops?.isRunning == true)
    }

    @Test func aConnectionBoundBeyondTheOpenFileLimitIsRefusedAtStart() throws {
        let directory = TemporaryDirectory()
        directory.write("fleet.yaml", "engines:\n  - id: p\n    venue: PAPER\n    address: 127.0.0.1:1\n")
        directory.write("strategy_weights.json", "{}")
        let ops = try FleetProcess(
            name: "ops", executable: FleetProcess.binary("ops"),
            arguments: [
                "serve", "--config", "\(directory.path)/fleet.yaml", "--listen", "127.0.0.1:\(freePort())",
                "--state-dir", "\(directory.path)/ops", "--max-connections", "2000000000",
            ],
            environment: ["FLEET_SECRET": LocalFleet.secret, "OPS_API_TOKEN": LocalFleet.token],
            logPath: "\(directory.path)/ops.log")
        #expect(ops.waitForExit(timeout: 30) == 2)
        #expect(ops.log.contains("--max-connections: 2000000000 connections need about"))
        #expect(ops.log.contains("LimitNOFILE"))

        let engine = try FleetProcess(
            name: "engine", executable: FleetProcess.binary("engine-paper"),
            arguments: [
                "--id", "p", "--listen", "127.0.0.1:\(freePort())", "--metrics-listen", "127.0.0.1:\(freePort())",
                "--data-dir", "\(directory.path)/p", "--max-connections", "2000000000",
            ],
            environment: ["FLEET_SECRET": LocalFleet.secret], logPath: "\(directory.path)/engine.log")
        #expect(engine.waitForExit(timeout: 30) == 2)
        #expect(engine.log.contains("2000000000 links need about"))
    }
}
