import EngineCore
import Foundation
import PaperVenue
import Storage
import Synchronization
import Testing
import TradingDomain

/// The paper venue's book in the ledger's file: one commit per order, and books kept in a file
/// of their own by earlier versions are carried over.
@Suite struct PaperBookInLedgerTests {
    /// Orders one at a time (no batching), counting ledger commits.
    func commitsPerOrder(venueInLedger: Bool) async throws -> Int {
        let harness = try EngineHarness(venueInLedger: venueInLedger)
        let counter = CommitCounter()
        harness.observer = counter
        try harness.restart()
        for index in 0..<5 {
            let outcome = try await harness.engine.submit(try harness.market("one-\(index)", .buy, "0.001"))
            #expect(outcome.order.status == .filled)
        }
        return counter.commits.load(ordering: .relaxed)
    }

    @Test func anOrderOnABookInTheLedgerIsOneCommit() async throws {
        #expect(try await commitsPerOrder(venueInLedger: true) == 5, "intent, venue record and fill in one commit")
        #expect(try await commitsPerOrder(venueInLedger: false) == 10, "a venue of its own: intent, then outcome")
    }

    @Test func aBookFromItsOwnFileIsImportedOnce() async throws {
        let directory = NSTemporaryDirectory() + "paper-import-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let btc = InstrumentID(symbol: "BTCUSDT", venue: .paper)
        let legacy = "\(directory)/e.paper-venue.sqlite"
        func configuration(_ path: String, legacy: String? = nil) -> PaperVenue.Configuration {
            .init(
                databasePath: path, seed: 1, initialPrices: [btc: Fixed(65_000)], durability: .normal,
                legacyDatabasePath: legacy)
        }
        do {
            let old = try PaperVenue(configuration: configuration(legacy))
            _ = try await old.placeExternal(
                VenueOrderRequest(
                    clientOrderID: "rest-1", instrument: btc, side: .buy, type: .limit, timeInForce: .gtc,
                    quantity: Fixed(1), limitPrice: Fixed(1000)))
            _ = try await old.placeExternal(
                VenueOrderRequest(
                    clientOrderID: "fill-1", instrument: btc, side: .buy, type: .market, timeInForce: .ioc,
                    quantity: Fixed(2), limitPrice: .zero))
        }
        let ledgerPath = "\(directory)/e.ledger.sqlite"
        let moved = try PaperVenue(configuration: configuration(ledgerPath, legacy: legacy))
        #expect(try await moved.openOrders().map(\.clientOrderID) == ["rest-1"])
        #expect(try await moved.order(clientOrderID: "fill-1", instrument: btc)?.fills.count == 1)
        #expect(try moved.positions()[btc] == Fixed(2))
        #expect(!FileManager.default.fileExists(atPath: legacy), "the old file is set aside")
        #expect(FileManager.default.fileExists(atPath: legacy + ".imported"))
    }

    /// A fill is one B-tree insert: new books cluster fills by order instead of keying them by trade
    /// id with an index by order; books made before keep their layout (and the index) and work on.
    @Test func fillsAreClusteredByOrderAndOldBooksKeepTheirIndex() async throws {
        let directory = NSTemporaryDirectory() + "paper-fills-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let btc = InstrumentID(symbol: "BTCUSDT", venue: .paper)
        func open(_ path: String) throws -> PaperVenue {
            try PaperVenue(
                configuration: .init(
                    databasePath: path, seed: 1, initialPrices: [btc: Fixed(65_000)], durability: .normal))
        }
        func market(_ id: String) -> VenueOrderRequest {
            VenueOrderRequest(
                clientOrderID: id, instrument: btc, side: .buy, type: .market, timeInForce: .ioc, quantity: Fixed(1),
                limitPrice: .zero)
        }
        func indexes(_ path: String) throws -> [String] {
            let database = try SQLiteDatabase(path: path)
            let rows = try database.statement(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'venue_fills' AND sql IS NOT NULL")
            var names: [String] = []
            while try rows.step() { names.append(rows.string(0)) }
            return names
        }

        let fresh = "\(directory)/new.sqlite"
        do {
            let venue = try open(fresh)
            _ = try await venue.placeExternal(market("new-1"))
            #expect(try await venue.order(clientOrderID: "new-1", instrument: btc)?.fills.count == 1)
        }
        #expect(try indexes(fresh).isEmpty, "no index beside the key")

        let old = "\(directory)/old.sqlite"
        do {
            let database = try SQLiteDatabase(path: old)
            try database.execute(
                """
                CREATE TABLE venue_fills (
                    trade_id TEXT PRIMARY KEY, client_order_id TEXT NOT NULL, venue_order_id TEXT NOT NULL,
                    symbol TEXT NOT NULL, side TEXT NOT NULL, quantity INTEGER NOT NULL, price INTEGER NOT NULL,
                    fee INTEGER NOT NULL, ts_ns INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        let venue = try open(old)
        _ = try await venue.placeExternal(market("old-1"))
        #expect(try await venue.order(clientOrderID: "old-1", instrument: btc)?.fills.count == 1)
        #expect(try indexes(old) == ["venue_fills_order"], "an old book is still looked up by order through its index")
    }
}
