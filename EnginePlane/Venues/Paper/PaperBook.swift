import EngineCore
import Storage
import TradingDomain

#if canImport(Glibc)
    import Glibc
#endif

/// The paper venue's state: prices, orders and fills, in SQLite tables of their own.
///
/// On its own, every change commits before the venue answers, as a real venue's matching engine
/// would persist it. Joined to an engine (`staged`), orders and cancels stay in the open
/// transaction until the engine's next flush commits them. Kept in the engine's ledger file (the
/// default of engine-paper), the book adopts the ledger's connection (`sharesLedger`): its writes
/// are part of the engine's own transaction, committed and synced with the ledger's as one.
struct PaperBook {
    private var database: SQLiteDatabase
    private let path: PricePath
    private let configuration: PaperVenue.Configuration
    private var mids: [InstrumentID: Fixed]
    private(set) var quotes: [InstrumentID: Quote] = [:]
    private var tickCount: UInt64 = 0
    private var nextOrderNumber: Int64 = 1
    private var nextTradeNumber: Int64 = 1
    /// Live limit orders by client order id.
    private var resting: [String: RestingOrder] = [:]
    /// Net position per instrument implied by every fill (kept as fills happen, so reconciliation
    /// never scans the fill history).
    private var netPositions: [InstrumentID: Fixed] = [:]
    private var dirtyPositions: Set<InstrumentID> = []
    /// Writes wait for `commitStaged()` instead of committing per order.
    var staged = false
    /// Staged in a file of its own: the engine's group commit, which syncs it and asks it to
    /// restart its WAL now and then.
    var groupCommit: GroupCommit?
    /// The book writes in the engine's ledger transaction; the ledger's commit is the book's.
    private(set) var sharesLedger = false
    /// A write failed inside a staged transaction: the book refuses to commit it (the engine stops).
    private var failure: StorageError?

    struct RestingOrder {
        var request: VenueOrderRequest
        var venueOrderID: String
    }

    init(configuration: PaperVenue.Configuration, path: PricePath) throws(StorageError) {
        self.configuration = configuration
        self.path = path
        self.database = try SQLiteDatabase(path: configuration.databasePath, durability: configuration.durability)
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS venue_orders (
                client_order_id TEXT PRIMARY KEY, venue_order_id TEXT NOT NULL, symbol TEXT NOT NULL,
                side TEXT NOT NULL, type TEXT NOT NULL, time_in_force TEXT NOT NULL, quantity INTEGER NOT NULL,
                limit_price INTEGER NOT NULL, state TEXT NOT NULL, filled INTEGER NOT NULL, reject_reason TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS venue_fills (
                trade_id TEXT NOT NULL, client_order_id TEXT NOT NULL, venue_order_id TEXT NOT NULL,
                symbol TEXT NOT NULL, side TEXT NOT NULL, quantity INTEGER NOT NULL, price INTEGER NOT NULL,
                fee INTEGER NOT NULL, ts_ns INTEGER NOT NULL,
                PRIMARY KEY (client_order_id, trade_id)
            ) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS venue_orders_live ON venue_orders(state) WHERE state IN ('accepted','partiallyFilled');
            CREATE TABLE IF NOT EXISTS venue_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS venue_positions (symbol TEXT PRIMARY KEY, quantity INTEGER NOT NULL) WITHOUT ROWID;
            """)
        // Fills are clustered by order (the only way they are looked up), so a fill is one B-tree
        // insert, not a row and an index entry. Books made before keep `trade_id` as their key and
        // need the index by order.
        let key = try database.statement(
            "SELECT pk FROM pragma_table_info('venue_fills') WHERE name = 'client_order_id'")
        var keyedByTrade = false
        while try key.step() { keyedByTrade = key.int64(0) == 0 }  // stepped to the end: no statement left open
        if keyedByTrade {
            try database.execute("CREATE INDEX IF NOT EXISTS venue_fills_order ON venue_fills(client_order_id)")
        }
        if let legacy = configuration.legacyDatabasePath { try Self.importBook(from: legacy, into: database) }
        mids = configuration.initialPrices
        let state = try database.statement("SELECT key, value FROM venue_state")
        var savedTick: UInt64 = 0
        while try state.step() {
            switch state.string(0) {
            case "tick": savedTick = UInt64(state.int64(1))
            case "next_order": nextOrderNumber = state.int64(1)
            case "next_trade": nextTradeNumber = state.int64(1)
            default: break
            }
        }
        let positions = try database.statement("SELECT symbol, quantity FROM venue_positions")
        while try positions.step() {
            if let instrument = try? InstrumentID(parsing: positions.string(0)) {
                netPositions[instrument] = Fixed(units: positions.int64(1))
            }
        }
        if netPositions.isEmpty {
            // A book from before venue_positions: derive it from the fills once.
            let rows = try database.statement(
                "SELECT symbol, side, sum(quantity) FROM venue_fills GROUP BY symbol, side")
            while try rows.step() {
                guard let instrument = try? InstrumentID(parsing: rows.string(0)) else { continue }
                let quantity = Fixed(units: rows.int64(2))
                netPositions[instrument, default: .zero] += rows.string(1) == Side.buy.rawValue ? quantity : -quantity
            }
            dirtyPositions = Set(netPositions.keys)
        }
        // Replay the walk to where it stopped: prices resume exactly, deterministically.
        while tickCount < savedTick { advancePrices() }
        refreshQuotes()
        let live = try database.statement(
            "SELECT client_order_id, venue_order_id, symbol, side, type, time_in_force, quantity, limit_price, filled FROM venue_orders WHERE state IN ('accepted','partiallyFilled')"
        )
        while try live.step() {
            guard let instrument = try? InstrumentID(parsing: live.string(2)),
                let side = Side(rawValue: live.string(3)),
                let type = OrderType(rawValue: live.string(4)), let tif = TimeInForce(rawValue: live.string(5))
            else { continue }
            let request = VenueOrderRequest(
                clientOrderID: live.string(0), instrument: instrument, side: side, type: type, timeInForce: tif,
                quantity: Fixed(units: live.int64(6) - live.int64(8)), limitPrice: Fixed(units: live.int64(7)))
            resting[request.clientOrderID] = RestingOrder(request: request, venueOrderID: live.string(1))
        }
    }

    /// `prefix` and `number` zero-padded to 12 digits: ids that sort in the order they are made, so
    /// each new row lands at the end of its B-tree (one page per batch, not one page per order).
    static func sequentialID(_ prefix: String, _ number: Int64) -> String {
        let digits = String(number)
        return prefix + String(repeating: "0", count: max(0, 12 - digits.utf8.count)) + digits
    }

    /// Moves a book kept in a file of its own (engine-paper before the book moved into the ledger)
    /// into `database`, once: only into an empty book, and the old file is renamed, not deleted.
    private static func importBook(from legacy: String, into database: SQLiteDatabase) throws(StorageError) {
        guard access(legacy, F_OK) == 0 else { return }
        let count = try database.statement("SELECT count(*) FROM venue_orders")
        _ = try count.step()
        let empty = count.int64(0) == 0
        while try count.step() {}  // run to its end: an open read would block the DETACH below
        guard empty else { return }
        try database.statement("ATTACH DATABASE ? AS legacy").bind(1, legacy).run()
        var names: [String] = []
        let tables = try database.statement("SELECT name FROM legacy.sqlite_master WHERE type = 'table'")
        while try tables.step() { names.append(tables.string(0)) }
        do {
            try database.begin()
            for name in ["venue_orders", "venue_fills", "venue_state", "venue_positions"] where names.contains(name) {
                try database.execute("INSERT OR REPLACE INTO main.\(name) SELECT * FROM legacy.\(name)")
            }
            try database.commit()
        } catch {
            try? database.execute("ROLLBACK")
            try? database.execute("DETACH DATABASE legacy")
            throw error
        }
        try database.execute("DETACH DATABASE legacy")
        for suffix in ["", "-wal", "-shm"] where access(legacy + suffix, F_OK) == 0 {
            rename(legacy + suffix, legacy + ".imported" + suffix)
        }
    }

    /// Joins the engine's ledger: `ledger` is a connection to this book's own file (the ledger's),
    /// so the state loaded at start is the state under it.
    mutating func adopt(_ ledger: SQLiteDatabase) {
        database = ledger
        staged = true
        sharesLedger = true
    }

    // MARK: prices

    private mutating func advancePrices() {
        tickCount += 1
        for (instrument, mid) in mids {
            mids[instrument] = path.next(mid: mid, instrument: instrument, tick: tickCount)
        }
    }

    private mutating func refreshQuotes() {
        for (instrument, mid) in mids { quotes[instrument] = path.quote(mid: mid, spreadBps: configuration.spreadBps) }
    }

    mutating func tick() throws(StorageError) -> [VenueOrderReport] {
        advancePrices()
        refreshQuotes()
        var crossed: [RestingOrder] = []
        for order in resting.values {
            guard let quote = quotes[order.request.instrument] else { continue }
            let request = order.request
            if request.side == .buy ? quote.ask <= request.limitPrice : quote.bid >= request.limitPrice {
                crossed.append(order)
            }
        }
        guard !crossed.isEmpty else { return [] }
        try begin()
        var reports: [VenueOrderReport] = []
        do {
            for order in crossed.sorted(by: { $0.venueOrderID < $1.venueOrderID }) {
                // A resting limit order fills at its own price, in full (the paper venue has depth).
                let fill = try recordFill(
                    order: order.request, venueOrderID: order.venueOrderID, quantity: order.request.quantity,
                    price: order.request.limitPrice)
                try setState(
                    clientOrderID: order.request.clientOrderID, state: .filled, filledDelta: order.request.quantity)
                resting.removeValue(forKey: order.request.clientOrderID)
                reports.append(
                    VenueOrderReport(
                        clientOrderID: order.request.clientOrderID, venueOrderID: order.venueOrderID, state: .filled,
                        fills: [fill]))
            }
            // Fills the venue made on its own are committed at once, whatever the engine does next
            // (in the ledger's transaction, with the engine's record of them, at its next flush).
            if !sharesLedger { try commit() }
        } catch {
            abandon(error)
            for order in crossed { resting[order.request.clientOrderID] = order }
            throw error
        }
        return reports
    }

    mutating func persistTick() throws(StorageError) {
        // In the ledger's file the counters go out with every engine flush; the engine owns its
        // transaction, and this runs at shutdown, off the engine's executor.
        if sharesLedger { return }
        try begin()
        try commit()
    }

    // MARK: transactions

    private func begin() throws(StorageError) {
        if let failure { throw failure }
        if !database.isInTransaction { try database.begin() }
    }

    /// Commits what is staged (counters and positions first, once per batch). Sharing the ledger,
    /// it writes those only: the ledger's commit, right after, covers the book's writes too.
    mutating func commit() throws(StorageError) {
        if let failure { throw failure }
        guard database.isInTransaction else { return }
        try saveCounters()
        for instrument in dirtyPositions {
            try database.statement("INSERT OR REPLACE INTO venue_positions VALUES (?,?)")
                .bind(1, instrument.description).bind(2, netPositions[instrument, default: .zero].units).run()
        }
        dirtyPositions.removeAll()
        if !sharesLedger {
            try database.commit()
            groupCommit?.restartIfDue(database)
        }
    }

    /// Ends an operation: commits unless the engine's flush will.
    private mutating func finish() throws(StorageError) {
        if !staged { try commit() }
    }

    /// A write failed. Alone, the book rolls back; staged, the transaction holds earlier orders the
    /// venue already answered, so it is never committed and the engine stops on its next flush.
    private mutating func abandon(_ error: StorageError) {
        if staged {
            failure = error
        } else {
            try? database.execute("ROLLBACK")
        }
    }

    /// The book's database, for the engine's group commit to sync and checkpoint.
    var storage: SQLiteDatabase { database }

    // MARK: orders

    mutating func submit(_ request: VenueOrderRequest) throws(VenueError) -> VenueOrderReport {
        guard let quote = quotes[request.instrument] else {
            throw VenueError(.rejected, "unknown symbol \(request.instrument)")
        }
        guard request.quantity.isPositive else { throw VenueError(.rejected, "quantity must be positive") }
        if request.type == .limit, !request.limitPrice.isPositive {
            throw VenueError(.rejected, "limit price must be positive")
        }
        let venueOrderID = Self.sequentialID("P", nextOrderNumber)
        nextOrderNumber += 1
        let touch = quote.touch(for: request.side)
        let marketable =
            request.type == .market
            || (request.side == .buy ? touch <= request.limitPrice : touch >= request.limitPrice)
        let state: VenueOrderReport.State =
            marketable ? .filled : (request.timeInForce == .gtc ? .accepted : .expired)
        var fills: [VenueFill] = []
        var duplicate = false
        do {
            try begin()
            // OR IGNORE: a known client order id inserts nothing, and the venue answers with the
            // first order (ids are unique at a venue: never a second order). One statement, not a
            // lookup and an insert.
            try database.statement("INSERT OR IGNORE INTO venue_orders VALUES (?,?,?,?,?,?,?,?,?,?,?)")
                .bind(1, request.clientOrderID).bind(2, venueOrderID).bind(3, request.instrument.description)
                .bind(4, request.side.rawValue).bind(5, request.type.rawValue).bind(6, request.timeInForce.rawValue)
                .bind(7, request.quantity.units).bind(8, request.limitPrice.units).bind(9, state.rawValue)
                .bind(10, marketable ? request.quantity.units : 0).bind(11, "")
                .run()
            duplicate = database.changes == 0
            if marketable && !duplicate {
                fills.append(
                    try recordFill(order: request, venueOrderID: venueOrderID, quantity: request.quantity, price: touch)
                )
            }
            try finish()
        } catch {
            abandon(error)
            nextOrderNumber -= 1
            throw VenueError(.unavailable, "paper venue storage: \(error)")
        }
        if duplicate {
            nextOrderNumber -= 1
            guard let existing = try report(clientOrderID: request.clientOrderID) else {
                throw VenueError(.unavailable, "paper venue lost order \(request.clientOrderID)")
            }
            return existing
        }
        if state == .accepted {
            resting[request.clientOrderID] = RestingOrder(request: request, venueOrderID: venueOrderID)
        }
        return VenueOrderReport(
            clientOrderID: request.clientOrderID, venueOrderID: venueOrderID, state: state, fills: fills)
    }

    mutating func cancel(clientOrderID: String) throws(VenueError) -> VenueOrderReport {
        guard let current = try report(clientOrderID: clientOrderID) else {
            throw VenueError(.notFound, "unknown order \(clientOrderID)")
        }
        guard resting[clientOrderID] != nil else { return current }  // already closed: report as is
        do {
            try begin()
            try setState(clientOrderID: clientOrderID, state: .canceled, filledDelta: .zero)
            try finish()
        } catch {
            abandon(error)
            throw VenueError(.unavailable, "paper venue storage: \(error)")
        }
        resting.removeValue(forKey: clientOrderID)
        return try report(clientOrderID: clientOrderID) ?? current
    }

    func report(clientOrderID: String) throws(VenueError) -> VenueOrderReport? {
        do {
            let order = try database.statement(
                "SELECT venue_order_id, state, reject_reason, symbol FROM venue_orders WHERE client_order_id = ?")
            order.bind(1, clientOrderID)
            guard try order.step() else { return nil }
            let venueOrderID = order.string(0)
            let state = VenueOrderReport.State(rawValue: order.string(1)) ?? .accepted
            let rejectReason = order.string(2)
            let fills = try database.statement(
                "SELECT trade_id, symbol, side, quantity, price, fee, ts_ns FROM venue_fills WHERE client_order_id = ? ORDER BY ts_ns, trade_id"
            )
            fills.bind(1, clientOrderID)
            var out: [VenueFill] = []
            while try fills.step() {
                guard let instrument = try? InstrumentID(parsing: fills.string(1)),
                    let side = Side(rawValue: fills.string(2))
                else { continue }
                out.append(
                    VenueFill(
                        tradeID: fills.string(0), clientOrderID: clientOrderID, venueOrderID: venueOrderID,
                        instrument: instrument, side: side, quantity: Fixed(units: fills.int64(3)),
                        price: Fixed(units: fills.int64(4)), fee: Fixed(units: fills.int64(5)),
                        unixNanos: fills.int64(6)))
            }
            return VenueOrderReport(
                clientOrderID: clientOrderID, venueOrderID: venueOrderID, state: state, fills: out,
                rejectReason: rejectReason)
        } catch {
            throw VenueError(.unavailable, "paper venue storage: \(error)")
        }
    }

    func openOrders() throws(VenueError) -> [VenueOrderReport] {
        var out: [VenueOrderReport] = []
        for id in resting.keys.sorted() {
            if let report = try report(clientOrderID: id) { out.append(report) }
        }
        return out
    }

    func positions() -> [InstrumentID: Fixed] { netPositions }

    // MARK: storage

    private mutating func recordFill(
        order: VenueOrderRequest, venueOrderID: String, quantity: Fixed, price: Fixed
    ) throws(StorageError) -> VenueFill {
        let tradeID = Self.sequentialID("PT", nextTradeNumber)
        let notional = quantity.multiplied(by: price) ?? .zero
        let fee = notional.multiplied(byRatio: configuration.feeBps, over: 10_000, rounding: .up)
        let now = WallClock.nowUnixNanos()
        try database.statement("INSERT INTO venue_fills VALUES (?,?,?,?,?,?,?,?,?)")
            .bind(1, tradeID).bind(2, order.clientOrderID).bind(3, venueOrderID).bind(4, order.instrument.description)
            .bind(5, order.side.rawValue).bind(6, quantity.units).bind(7, price.units).bind(8, fee.units)
            .bind(9, now)
            .run()
        nextTradeNumber += 1
        netPositions[order.instrument, default: .zero] += order.side == .buy ? quantity : -quantity
        dirtyPositions.insert(order.instrument)
        return VenueFill(
            tradeID: tradeID, clientOrderID: order.clientOrderID, venueOrderID: venueOrderID,
            instrument: order.instrument, side: order.side, quantity: quantity, price: price, fee: fee, unixNanos: now)
    }

    private func setState(clientOrderID: String, state: VenueOrderReport.State, filledDelta: Fixed) throws(StorageError)
    {
        try database.statement("UPDATE venue_orders SET state = ?, filled = filled + ? WHERE client_order_id = ?")
            .bind(1, state.rawValue).bind(2, filledDelta.units).bind(3, clientOrderID)
            .run()
    }

    private func saveCounters() throws(StorageError) {
        let statement = "INSERT OR REPLACE INTO venue_state VALUES (?,?)"
        try database.statement(statement).bind(1, "tick").bind(2, Int64(tickCount)).run()
        try database.statement(statement).bind(1, "next_order").bind(2, nextOrderNumber).run()
        try database.statement(statement).bind(1, "next_trade").bind(2, nextTradeNumber).run()
    }
}
