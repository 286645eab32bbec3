import ArgumentParser
import CommandLineSupport
import CurlHTTP
import Foundation
import OPSConfig
import OPSServer

#if canImport(Glibc)
    import Glibc
#endif

@main
struct OPSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "The fleet's control plane: routes strategy signals to venue engines and watches them.",
        discussion: """
            `ops serve` runs the control plane. The other subcommands talk to a running OPS over its HTTP API
            (--url, default http://127.0.0.1:8080) with the token in OPS_API_TOKEN.
            Exit codes: 0 success, 2 bad configuration or arguments, 1 other failure.
            """,
        subcommands: [Serve.self, Status.self, Engines.self, PnL.self, Kill.self, Resume.self, SendSignal.self])

    static func main() async { await runMappingUsageErrors() }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run OPS: supervise the engines in fleet.yaml and serve the HTTP API and dashboard.",
        discussion: "Needs OPS_API_TOKEN and FLEET_SECRET (or --fleet-secret-file) in the environment.")

    @Option(help: "fleet.yaml: the engines to supervise. strategy_weights.json is read from beside it.")
    var config: String

    @Option(help: "HTTP listen address, HOST:PORT.")
    var listen: String = "127.0.0.1:8080"

    @Option(help: "Directory for OPS's durable state (idempotency keys). Created if missing.")
    var stateDir: String = "./ops-state"

    @Option(help: "File holding the fleet secret (else FLEET_SECRET).")
    var fleetSecretFile: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(
        help: ArgumentHelp(
            "HTTP connections open at once; more wait in the listen backlog until one closes.",
            discussion: "OPS raises its open-file limit to fit them, or refuses to start if it cannot."))
    var maxConnections: Int = OPSApp.Options.defaultMaxConnections

    @Option(
        help:
            "Seconds before a keep-alive HTTP connection with no request is closed (a response being written is never cut)."
    )
    var idleTimeout: Int = Int(OPSApp.Options.defaultIdleTimeout.components.seconds)

    func run() async throws {
        do {
            try await OPSApp.run(
                .init(
                    config: config, listen: listen, stateDir: stateDir, fleetSecretFile: fleetSecretFile,
                    logLevel: logLevel, maxConnections: maxConnections, idleTimeout: .seconds(idleTimeout)))
        } catch let error as OPSConfigError {
            printError("ops: configuration error: \(error)")
            throw ExitCode(2)
        }
    }
}

struct ClientOptions: ParsableArguments {
    @Option(help: "Base URL of a running OPS.")
    var url: String = "http://127.0.0.1:8080"

    func send(_ method: String, _ path: String, body: String? = nil, headers: [(String, String)] = []) throws -> Never {
        var all = headers
        if let token = getenv("OPS_API_TOKEN") { all.append(("X-OPS-TOKEN", String(cString: token))) }
        if body != nil { all.append(("Content-Type", "application/json")) }
        do {
            let client = try CurlHTTPClient()
            let response = try client.request(method, url + path, headers: all, body: body.map { Array($0.utf8) })
            print(response.text)
            Glibc.exit((200..<300).contains(response.status) ? 0 : 1)
        } catch {
            printError("ops: \(error)")
            Glibc.exit(1)
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show OPS status: engines up/down, PnL totals.")
    @OptionGroup var client: ClientOptions
    func run() throws { try client.send("GET", "/status") }
}

struct Engines: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the engines and the state of their links.")
    @OptionGroup var client: ClientOptions
    func run() throws { try client.send("GET", "/engines") }
}

struct PnL: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pnl", abstract: "Show PnL per model and venue.")
    @OptionGroup var client: ClientOptions
    @Flag(help: "Print the raw JSON of GET /dash/pnl instead of a table.") var json = false

    func run() throws {
        if json { try client.send("GET", "/dash/pnl") }
        let response: HTTPResponse
        do { response = try CurlHTTPClient().request("GET", client.url + "/dash/pnl") } catch {
            printError("ops: \(error)")
            throw ExitCode(1)
        }
        guard response.status == 200,
            let report = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        else {
            printError("ops: unexpected answer (\(response.status)): \(response.text)")
            throw ExitCode(1)
        }
        func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
            let padding = String(repeating: " ", count: max(0, width - text.count))
            return right ? padding + text : text + padding
        }
        print(
            pad("model", 16) + pad("venue", 10) + pad("fills", 8, right: true) + pad("realized", 20, right: true)
                + pad("unrealized", 20, right: true) + pad("win rate", 10, right: true))
        for row in report["models"] as? [[String: Any]] ?? [] {
            print(
                pad(row["model"] as? String ?? "", 16) + pad(row["venue"] as? String ?? "", 10)
                    + pad(String(row["fills"] as? Int ?? 0), 8, right: true)
                    + pad(row["realized_pnl"] as? String ?? "", 20, right: true)
                    + pad(row["unrealized_pnl"] as? String ?? "", 20, right: true)
                    + pad((row["win_rate"] as? String).map { String($0.prefix(6)) } ?? "-", 10, right: true))
        }
        print(
            "total realized \(report["total_realized_pnl"] as? String ?? "?"), unrealized \(report["total_unrealized_pnl"] as? String ?? "?")"
        )
        for engine in report["engines"] as? [[String: Any]] ?? [] {
            print(
                "engine \(engine["engine"] as? String ?? ""): equity \(engine["equity"] as? String ?? ""), cash \(engine["cash"] as? String ?? ""), mode \(engine["trading_mode"] as? String ?? "")"
            )
        }
    }
}

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Halt trading on every engine (nothing leaves until resume).")
    @OptionGroup var client: ClientOptions
    func run() throws { try client.send("POST", "/kill", body: "{}") }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Set every engine back to active trading.")
    @OptionGroup var client: ClientOptions
    func run() throws { try client.send("POST", "/resume", body: "{}") }
}

struct SendSignal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal", abstract: "Post one trade signal, as a strategy would.",
        discussion: #"Example: ops signal --symbol BTCUSDT.PAPER --side BUY --quantity 0.01 --strategy demo"#)
    @OptionGroup var client: ClientOptions
    @Option(help: "SYMBOL.VENUE") var symbol: String
    @Option(help: "BUY or SELL") var side: String
    @Option(help: "Base quantity (exact decimal).") var quantity: String?
    @Option(help: "Notional in the quote currency instead of a quantity.") var quote: String?
    @Option(help: "Strategy name (selects model weights).") var strategy: String = "default"
    @Option(help: "Model, overriding the weights.") var model: String?
    @Option(help: "X-Idempotency-Key: a retry with the same key never makes a second order.") var idempotencyKey:
        String?

    func run() throws {
        var fields = [#""symbol":"\#(symbol)""#, #""side":"\#(side)""#, #""strategy":"\#(strategy)""#]
        if let quantity { fields.append(#""quantity":"\#(quantity)""#) }
        if let quote { fields.append(#""quote":"\#(quote)""#) }
        if let model { fields.append(#""model":"\#(model)""#) }
        try client.send(
            "POST", "/strategy/signal", body: "{" + fields.joined(separator: ",") + "}",
            headers: idempotencyKey.map { [("X-Idempotency-Key", $0)] } ?? [])
    }
}

func printError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { buffer in _ = Glibc.write(2, buffer.baseAddress, buffer.count) }
}
