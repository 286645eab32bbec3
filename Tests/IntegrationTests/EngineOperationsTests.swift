import CurlHTTP
import FleetTestKit
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Operating an engine: config reload without restart, live-trading gates, metrics that promtool accepts.
@Suite(.serialized)
struct EngineOperationsTests {
    static func config(maxNotional: String) -> String {
        """
        risk:
          min_notional: "10"
          max_notional: "\(maxNotional)"
        symbols:
          - symbol: BTCUSDT.PAPER
            max_position: "5"
            lot_size: "0.00001"
            initial_price: "65000"
        """
    }

    @Test func configReloadsOnSIGHUPAndABadFileKeepsTheOldLimits() throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        let path = "\(fleet.directory.path)/engine.yaml"
        fleet.directory.write("engine.yaml", Self.config(maxNotional: "250000"))
        let engine = try fleet.startEngine("paper-1", extra: ["--config", path])
        try fleet.startOPS()
        let order = #"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"0.01","model":"m"}"#
        #expect(json(fleet.signal(order))?["status"] as? String == "FILLED")

        fleet.directory.write("engine.yaml", Self.config(maxNotional: "100"))
        kill(engine.pid, SIGHUP)
        #expect(eventually { json(fleet.signal(order))?["reject_reason"] as? String == "NOTIONAL_ABOVE_MAX" })

        fleet.directory.write("engine.yaml", "risk: [this is not a mapping")
        kill(engine.pid, SIGHUP)
        #expect(eventually { engine.log.contains("config reload refused") })
        #expect(json(fleet.signal(order))?["reject_reason"] as? String == "NOTIONAL_ABOVE_MAX", "the old limits stay")
        #expect(engine.isRunning)
    }

    @Test func liveModeNeedsConfirmationAndAnAccount() throws {
        for mode in ["live", "dry-live", "nonsense"] {
            let process = try FleetProcess(
                name: "gate", executable: FleetProcess.binary("engine-paper"),
                arguments: ["--id", "gate", "--mode", mode, "--data-dir", "\(TemporaryDirectory().path)-gate"],
                environment: ["FLEET_SECRET": LocalFleet.secret, "FLEET_LIVE_CONFIRM": "yes-trade-real-money"],
                logPath: "\(TemporaryDirectory().path)-gate.log")
            #expect(process.waitForExit(timeout: 30) == 2, "--mode \(mode) on the paper venue must be refused")
            #expect(process.log.contains("--mode"))
        }
    }

    @Test func versionAndMetricsReportModeAndPassPromtool() throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        try fleet.startOPS()
        _ = fleet.signal(#"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"0.01","model":"m"}"#)
        _ = fleet.signal(#"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"100","model":"m"}"#)
        let version = try #require(json(http("GET", fleet.metricsURL("paper-1") + "/version")))
        #expect(version["mode"] as? String == "paper")
        #expect(version["kill_switch"] as? String == "OFF")
        #expect(fleet.metric("paper-1", #"engine_run_mode{venue="PAPER",mode="paper"}"#) == 1)

        let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        let tool = try #require(
            promtool, "promtool is needed (deploy/install-deps.sh --test installs Debian's prometheus)")
        for url in [fleet.metricsURL("paper-1") + "/metrics", fleet.opsURL + "/metrics"] {
            let metrics = try #require(http("GET", url)?.body)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = ["check", "metrics"]
            let input = Pipe()
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = output
            try process.run()
            input.fileHandleForWriting.write(Data(metrics))
            try input.fileHandleForWriting.close()
            let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(url): \(report)")
            #expect(report.isEmpty, "promtool reports nothing on \(url): \(report)")
        }
    }
}
