import ArgumentParser

/// Flags every `engine-<venue>` executable takes (DESIGN.md §5).
public struct EngineOptions: ParsableArguments, Sendable {
    @Option(help: "Engine id, unique in the fleet (e.g. paper-1). Names its data files and metrics.")
    public var id: String

    @Option(help: "RPC listen address for the OPS link, HOST:PORT.")
    public var listen: String = "127.0.0.1:7100"

    @Option(help: "HTTP listen address for /metrics, /healthz, /readyz, /version, HOST:PORT.")
    public var metricsListen: String = "127.0.0.1:9100"

    @Option(help: "Directory for the ledger (SQLite), the audit (JSONL) and venue state. Created if missing.")
    public var dataDir: String = "./data"

    @Option(help: "YAML file with risk limits and symbols. Without it, built-in defaults apply.")
    public var config: String?

    @Option(help: "Venue REST base or gateway address. Not used by the paper venue.")
    public var venueURL: String?

    @Option(help: "File holding the fleet secret (else the FLEET_SECRET environment variable).")
    public var fleetSecretFile: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: String = "info"

    @Option(help: "SQLite durability: full (fsync every commit, survives power loss) or normal (survives kill -9).")
    public var durability: String = "full"

    @Option(
        help: """
            paper (the simulated venue), or for real venues dry-live (orders never sent) or live (real orders: needs \
            FLEET_LIVE_CONFIRM=\(RunMode.liveConfirmation) and an `account:` in --config). Only paper exists yet.
            """)
    public var mode: String = "paper"

    @Option(
        help:
            "Kill-switch file (close_only, halt or hard_kill inside; checked every second). Default: DATA-DIR/KILL_SWITCH."
    )
    public var killSwitchFile: String?

    @Option(
        help: """
            RPC links open at once (OPS instances and operators' tools); one more is refused with \
            RESOURCE_EXHAUSTED.
            """)
    public var maxConnections: Int = 64

    public init() {}
}

/// Splits `HOST:PORT` (IPv6 as `[::1]:7100`).
func parseAddress(_ text: String, flag: String) throws(ConfigError) -> (host: String, port: Int) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
        (0...65535).contains(port)
    else {
        throw ConfigError(file: flag, message: "'\(text)' is not HOST:PORT")
    }
    var host = String(text[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard !host.isEmpty else { throw ConfigError(file: flag, message: "'\(text)' has no host") }
    return (host, port)
}
