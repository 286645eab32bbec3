import ArgumentParser
import EngineRuntime
import PaperVenue
import TradingDomain

/// engine-paper (EnginePlane/Executables/engine-paper) with one addition: once the engine is ready,
/// its own FleetService is also served over grpc-swift-2 (HTTP/2, plaintext) on --grpc-listen. The
/// framed link on --listen is unchanged, so the benchmark compares two transports of one service.
@main
struct GRPCEnginePaper: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpc-engine-paper",
        abstract: "engine-paper plus the same engine service over gRPC (benchmark comparison only).",
        discussion: """
            Everything engine-paper does (framed-protobuf RPC on --listen, metrics on --metrics-listen, state in
            --data-dir), and the engine's NOOP and SUBMIT_ORDER methods as the gRPC service fleet.bench.v1.BenchEngine
            on --grpc-listen (plaintext HTTP/2, no authentication: loopback benchmarks only).
            """)

    @OptionGroup var options: EngineOptions

    @Option(help: "Seed of the deterministic price process.")
    var seed: UInt64 = 42

    @Option(help: "Fee per fill in basis points of notional.")
    var feeBps: Int64 = 0

    @Option(help: "Milliseconds between price ticks.")
    var tickMs: Int64 = 100

    @Option(help: "gRPC listen address, IP:PORT (IPv6 as [::1]:7200).")
    var grpcListen: String = "127.0.0.1:7200"

    func validate() throws {
        guard GRPCListenAddress(grpcListen) != nil else {
            throw ValidationError("--grpc-listen: '\(grpcListen)' is not IP:PORT")
        }
    }

    func run() async throws {
        guard let address = GRPCListenAddress(grpcListen) else {
            throw ValidationError("--grpc-listen: '\(grpcListen)' is not IP:PORT")
        }
        let seed = self.seed
        let feeBps = self.feeBps
        let tick = Duration.milliseconds(max(1, tickMs))
        do {
            try await EngineApp.run(
                venue: .paper, options: options,
                alsoServe: { service in try await GRPCTwin.start(service: service, address: address) }
            ) { context in
                try PaperVenue(
                    configuration: .init(
                        databasePath: context.ledgerPath, seed: seed,
                        initialPrices: Dictionary(
                            uniqueKeysWithValues: context.config.symbols.map { ($0.instrument, $0.initialPrice) }),
                        feeBps: feeBps, tickInterval: tick, durability: context.durability))
            }
        } catch let error as ConfigError {
            print("grpc-engine-paper: configuration error: \(error)")
            throw ExitCode(2)
        }
    }
}
