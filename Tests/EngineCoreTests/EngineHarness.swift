import EngineCore
import Foundation
import Logging
import PaperVenue
import Storage
import TradingDomain

/// An engine on the paper venue in a scratch directory; "restart" opens new instances on the same files.
final class EngineHarness: @unchecked Sendable {
    let directory: String
    let btc = InstrumentID(symbol: "BTCUSDT", venue: .paper)
    let eth = InstrumentID(symbol: "ETHUSDT", venue: .paper)
    var venue: PaperVenue!
    var engine: Engine!
    /// Used by engines opened from now on.
    var observer: any EngineObserver = NoEngineObserver()
    /// Engines opened from now on see the paper venue through this (a test double around it).
    var wrapVenue: (@Sendable (PaperVenue) -> any VenueClient)?

    /// `venueInLedger`: the paper book in the ledger's file, sharing its transactions (as engine-paper
    /// runs it); false gives the book a file of its own that commits on its own, like a remote venue.
    init(limits: RiskLimits? = nil, venueInLedger: Bool = true) throws {
        self.venueInLedger = venueInLedger
        directory = NSTemporaryDirectory() + "engine-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.limits =
            limits
            ?? RiskLimits(
                symbols: [
                    btc: .init(maxPosition: Fixed(5), lotSize: Fixed(units: 1000)),
                    eth: .init(maxPosition: Fixed(100), lotSize: Fixed(units: 10_000)),
                ], minNotional: Fixed(10), maxNotional: Fixed(250_000))
        try open()
    }

    let limits: RiskLimits
    let venueInLedger: Bool

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func open() throws {
        venue = try PaperVenue(
            configuration: .init(
                databasePath: venueInLedger ? "\(directory)/ledger.sqlite" : "\(directory)/venue.sqlite", seed: 1,
                initialPrices: [btc: Fixed(65_000), eth: Fixed(3_200)],
                durability: .normal))
        engine = try Engine(
            configuration: .init(
                engineID: "t", limits: limits, startingCash: Fixed(1_000_000), ledgerPath: "\(directory)/ledger.sqlite",
                auditPath: "\(directory)/audit.jsonl", durability: .normal,
                killSwitch: KillSwitch(filePath: killSwitchPath, environmentValue: nil)),
            venue: wrapVenue?(venue) ?? venue, observer: observer, logger: Logger(label: "test"))
    }

    /// A crash: drop both without any orderly shutdown, then open again.
    func restart() throws {
        engine = nil
        venue = nil
        try open()
    }

    func market(
        _ id: String, _ side: Side, _ quantity: String, instrument: InstrumentID? = nil, model: String = "m"
    ) throws -> SubmitCommand {
        SubmitCommand(
            clientOrderID: id, instrument: instrument ?? btc, side: side, type: .market,
            quantity: try Fixed(parsing: quantity), model: model)
    }

    func limit(_ id: String, _ side: Side, _ quantity: String, at price: String) throws -> SubmitCommand {
        SubmitCommand(
            clientOrderID: id, instrument: btc, side: side, type: .limit, quantity: try Fixed(parsing: quantity),
            limitPrice: try Fixed(parsing: price), model: "m")
    }

    var killSwitchPath: String { "\(directory)/KILL_SWITCH" }

    /// The audit file once every line queued so far is written (they go out on the group-commit thread).
    func audit() async -> String {
        await engine.drain()
        return (try? String(contentsOfFile: "\(directory)/audit.jsonl", encoding: .utf8)) ?? ""
    }
}
