import CurlHTTP
import FleetTestKit
import Foundation
import Storage
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Link authentication with the real binaries, and interoperability with a second implementation
/// of the wire format (a C client on libprotobuf-c).
@Suite(.serialized)
struct AuthenticationTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Builds the C client with its Makefile and returns its path.
    static func cClient() throws -> String {
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        make.arguments = ["-s", "-C", "\(repositoryRoot)/Tests/CClient"]
        try make.run()
        make.waitUntilExit()
        guard make.terminationStatus == 0 else { throw FleetTestError("make -C Tests/CClient failed") }
        return "\(repositoryRoot)/Tests/CClient/fleet-c-client"
    }

    static func run(
        _ executable: String, _ arguments: [String], secret: String
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ["FLEET_SECRET": secret]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func cClientSubmitsAnOrderOverTheWire() throws {
        let client = try Self.cClient()
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        let port = String(fleet.spec("paper-1").rpcPort)
        let arguments = [
            "--port", port, "--client-order-id", "c-interop-1", "--symbol", "BTCUSDT.PAPER", "--side", "BUY",
            "--quantity-e8",
            "1000000", "--model", "c-model",
        ]
        let first = try Self.run(client, arguments, secret: LocalFleet.secret)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("code=OK status=FILLED client_order_id=c-interop-1"))
        #expect(first.output.contains("filled_quantity_e8=1000000"))
        #expect(first.output.contains("duplicate=0"))

        let again = try Self.run(client, arguments, secret: LocalFleet.secret)
        #expect(again.output.contains("duplicate=1"), "\(again.output)")
    }

    @Test func wrongFleetSecretIsRejectedAndNothingExecutes() throws {
        let client = try Self.cClient()
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1", secret: "a-completely-different-fleet-secret")
        let refused = try Self.run(
            client,
            [
                "--port", String(fleet.spec("paper-1").rpcPort), "--client-order-id", "c-bad-1", "--symbol",
                "BTCUSDT.PAPER",
                "--side", "BUY", "--quantity-e8", "1000000",
            ], secret: LocalFleet.secret)
        #expect(refused.status == 3)
        #expect(refused.output.contains("code=UNAUTHENTICATED"))

        // OPS with the fleet's secret cannot link to this engine either.
        try fleet.startOPS(waitForEngines: false)
        usleep(1_500_000)
        #expect(fleet.enginesUp() == 0)
        #expect(fleet.signal(#"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"0.01","model":"m"}"#)?.status == 503)

        let ledger = try SQLiteDatabase(path: "\(fleet.directory.path)/paper-1/paper-1.ledger.sqlite")
        let count = try ledger.statement("SELECT count(*) FROM orders")
        _ = try count.step()
        #expect(count.int64(0) == 0, "nothing was executed")
        #expect(fleet.engines["paper-1"]?.log.contains("link authentication failed") == true)
    }

    @Test func badArgumentsExitWithCodeTwo() throws {
        let bad = try FleetProcess(
            name: "bad", executable: FleetProcess.binary("engine-paper"),
            arguments: ["--id", "x", "--listen", "nonsense"],
            environment: ["FLEET_SECRET": LocalFleet.secret], logPath: "\(TemporaryDirectory().path)-bad.log")
        #expect(bad.waitForExit(timeout: 30) == 2)
        let missing = try FleetProcess(
            name: "bad", executable: FleetProcess.binary("ops"),
            arguments: ["serve", "--config", "/nonexistent/fleet.yaml"],
            environment: ["FLEET_SECRET": LocalFleet.secret, "OPS_API_TOKEN": LocalFleet.token],
            logPath: "\(TemporaryDirectory().path)-bad2.log")
        #expect(missing.waitForExit(timeout: 30) == 2)
        #expect(missing.log.contains("/nonexistent/fleet.yaml"))
    }
}
