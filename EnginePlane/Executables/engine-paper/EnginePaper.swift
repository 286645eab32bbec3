import ArgumentParser
import CommandLineSupport
import EngineCore
import EngineRuntime
import PaperVenue
import TradingDomain

@main
struct EnginePaper: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine-paper",
        abstract: "Execution engine for the paper venue: a simulated, durable venue inside the process.",
        discussion: """
            Serves the fleet's framed-protobuf RPC to OPS on --listen and Prometheus metrics on --metrics-listen.
            The fleet secret comes from FLEET_SECRET or --fleet-secret-file. State lives in --data-dir and survives
            kill -9. Exit codes: 0 clean stop, 2 bad configuration or arguments, 1 other failure.
            """)

    @OptionGroup var options: EngineOptions

    @Option(help: "Seed of the deterministic price process.")
    var seed: UInt64 = 42

    @Option(help: "Fee per fill in basis points of notional.")
    var feeBps: Int64 = 0

    @Option(help: "Milliseconds between price ticks.")
    var tickMs: Int64 = 100

    func run() async throws {
        let seed = self.seed
        let feeBps = self.feeBps
        let tick = Duration.milliseconds(max(1, tickMs))
        do {
            try await EngineApp.run(venue: .paper, options: options) { context in
                try PaperVenue(
                    configuration: .init(
                        databasePath: context.ledgerPath, seed: seed,
                        initialPrices: Dictionary(
                            uniqueKeysWithValues: context.config.symbols.map { ($0.instrument, $0.initialPrice) }),
                        feeBps: feeBps, tickInterval: tick, durability: context.durability,
                        legacyDatabasePath: "\(context.dataDirectory)/\(context.options.id).paper-venue.sqlite"))
            }
        } catch let error as ConfigError {
            print("engine-paper: configuration error: \(error)")
            throw ExitCode(2)
        }
    }

    static func main() async { await runMappingUsageErrors() }
}
