import Storage
import TradingDomain

/// The engine's durable memory: orders (the write-ahead intent first), fills deduplicated by
/// venue trade id, positions, account and settings, in one SQLite file in WAL mode.
///
/// Writes open a transaction lazily and stay in it until `commit()`: one operation (or, later, a
/// batch of them) becomes durable with one fsync, and nothing is acknowledged before that.
public final class Ledger {
    let database: SQLiteDatabase

    public init(path: String, durability: SQLiteDatabase.Durability = .full) throws(StorageError) {
        database = try SQLiteDatabase(path: path, durability: durability)
        try database.execute(Self.schema)
        try migrate()
    }

    /// Columns added after the first release: added in place to older ledgers.
    static let addedOrderColumns: [(name: String, definition: String)] = [
        ("stop_price", "INTEGER NOT NULL DEFAULT 0"), ("trailing_offset", "INTEGER NOT NULL DEFAULT 0"),
        ("trailing_bps", "INTEGER NOT NULL DEFAULT 0"), ("water_mark", "INTEGER NOT NULL DEFAULT 0"),
        ("parent_id", "TEXT NOT NULL DEFAULT ''"), ("oco_group", "TEXT NOT NULL DEFAULT ''"),
    ]

    private func migrate() throws(StorageError) {
        let columns = try database.statement("PRAGMA table_info(orders)")
        var names = Set<String>()
        while try columns.step() { names.insert(columns.string(1)) }
        for column in Self.addedOrderColumns where !names.contains(column.name) {
            try database.execute("ALTER TABLE orders ADD COLUMN \(column.name) \(column.definition)")
        }
        try database.execute("CREATE INDEX IF NOT EXISTS orders_oco ON orders(oco_group) WHERE oco_group != ''")
        // Superseded by orders_open3: orders_open left out HELD; orders_open2's `status IN (five
        // values)` made SQLite build a temporary B-tree of the list on every statement that wrote a
        // row (a list of more than two constants is coded as an ephemeral index, not comparisons).
        try database.execute("DROP INDEX IF EXISTS orders_open")
        try database.execute("DROP INDEX IF EXISTS orders_open2")
        try database.execute("CREATE INDEX IF NOT EXISTS orders_open3 ON orders(status) WHERE \(Self.isOpen)")
    }

    static let schema = """
        CREATE TABLE IF NOT EXISTS orders (
            client_order_id TEXT PRIMARY KEY,
            venue_order_id TEXT NOT NULL DEFAULT '',
            symbol TEXT NOT NULL,
            side TEXT NOT NULL,
            type TEXT NOT NULL,
            time_in_force TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            quote_quantity INTEGER NOT NULL,
            limit_price INTEGER NOT NULL,
            status TEXT NOT NULL,
            filled_quantity INTEGER NOT NULL,
            average_fill_price INTEGER NOT NULL,
            reject_reason TEXT NOT NULL DEFAULT '',
            reject_message TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL,
            strategy TEXT NOT NULL,
            created_ns INTEGER NOT NULL,
            updated_ns INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS fills (
            trade_id TEXT PRIMARY KEY,
            client_order_id TEXT NOT NULL,
            venue_order_id TEXT NOT NULL,
            symbol TEXT NOT NULL,
            side TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            price INTEGER NOT NULL,
            fee INTEGER NOT NULL,
            model TEXT NOT NULL,
            realized_pnl INTEGER NOT NULL,
            ts_ns INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS positions (
            model TEXT NOT NULL,  -- '' is the account-level position
            symbol TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            average_price INTEGER NOT NULL,
            realized_pnl INTEGER NOT NULL,
            PRIMARY KEY (model, symbol)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS model_stats (
            model TEXT PRIMARY KEY,
            realized_pnl INTEGER NOT NULL,
            fills INTEGER NOT NULL,
            winning_closes INTEGER NOT NULL,
            losing_closes INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS external_orders (
            client_order_id TEXT PRIMARY KEY,
            venue_order_id TEXT NOT NULL,
            state TEXT NOT NULL,
            first_seen_ns INTEGER NOT NULL
        ) WITHOUT ROWID;
        """

    // MARK: transactions

    /// Opens the write transaction if none is open.
    func beginIfNeeded() throws(StorageError) {
        if !database.isInTransaction { try database.begin() }
    }

    /// Makes every write since the last commit durable; false when there was nothing to commit.
    @discardableResult
    public func commit() throws(StorageError) -> Bool {
        guard database.isInTransaction else { return false }
        try database.commit()
        return true
    }

    /// True while writes wait for the next commit.
    var hasPendingWrites: Bool { database.isInTransaction }

    func rollback() {
        if database.isInTransaction { try? database.execute("ROLLBACK") }
    }

    // MARK: orders

    /// Writes a new order (`isNew`: the first write of this id) or what can change in a known one.
    /// Separate statements rather than one UPSERT: cheaper per row (no conflict path).
    func save(_ order: OrderRecord, isNew: Bool) throws(StorageError) {
        try beginIfNeeded()
        if !isNew {
            try database.statement(
                """
                UPDATE orders SET venue_order_id=?, status=?, filled_quantity=?, average_fill_price=?,
                  reject_reason=?, reject_message=?, updated_ns=?, stop_price=?, water_mark=?
                WHERE client_order_id=?
                """
            )
            .bind(1, order.venueOrderID).bind(2, order.status.rawValue).bind(3, order.filledQuantity.units)
            .bind(4, order.averageFillPrice.units).bind(5, order.rejectReason).bind(6, order.rejectMessage)
            .bind(7, order.updatedUnixNanos).bind(8, order.stopPrice.units).bind(9, order.waterMark.units)
            .bind(10, order.clientOrderID)
            .run()
            if database.changes > 0 { return }
        }
        try database.statement(Self.insertOrder)
            .bind(1, order.clientOrderID).bind(2, order.venueOrderID).bind(3, order.instrument.description)
            .bind(4, order.side.rawValue).bind(5, order.type.rawValue).bind(6, order.timeInForce.rawValue)
            .bind(7, order.quantity.units).bind(8, order.quoteQuantity.units).bind(9, order.limitPrice.units)
            .bind(10, order.status.rawValue).bind(11, order.filledQuantity.units).bind(12, order.averageFillPrice.units)
            .bind(13, order.rejectReason).bind(14, order.rejectMessage).bind(15, order.model).bind(16, order.strategy)
            .bind(17, order.createdUnixNanos).bind(18, order.updatedUnixNanos)
            .bind(19, order.stopPrice.units).bind(20, order.trailingOffset.units).bind(21, order.trailingBps)
            .bind(22, order.waterMark.units).bind(23, order.parentID).bind(24, order.ocoGroup)
            .run()
    }

    /// An open order's statuses, as comparisons (see `migrate`); orders_open3 indexes these rows.
    static let isOpen =
        "(status='PENDING_SUBMIT' OR status='ACCEPTED' OR status='PARTIALLY_FILLED' OR status='PENDING_CANCEL' OR status='HELD')"

    static let orderColumns = """
        client_order_id, venue_order_id, symbol, side, type, time_in_force, quantity, quote_quantity,
        limit_price, status, filled_quantity, average_fill_price, reject_reason, reject_message, model, strategy,
        created_ns, updated_ns, stop_price, trailing_offset, trailing_bps, water_mark, parent_id, oco_group
        """

    // Made once: these two run for every new order, and interpolating them per call allocated and
    // copied ~350 bytes each time before the statement cache could even look them up.
    static let insertOrder =
        "INSERT INTO orders (\(orderColumns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    static let selectOrderByID = "SELECT \(orderColumns) FROM orders WHERE client_order_id = ?"

    public func order(_ clientOrderID: String) throws(StorageError) -> OrderRecord? {
        // Read inside the batch's transaction: a read on its own is a read transaction of its own
        // (WAL-index locks and header checks, several fcntl calls), and the batch writes anyway.
        try beginIfNeeded()
        let statement = try database.statement(Self.selectOrderByID)
        statement.bind(1, clientOrderID)
        guard try statement.step() else { return nil }
        return try Self.decodeOrder(statement)
    }

    public func openOrders() throws(StorageError) -> [OrderRecord] {
        // The same expression as orders_open3's, so that SQLite can use the partial index.
        let statement = try database.statement("SELECT \(Self.orderColumns) FROM orders WHERE \(Self.isOpen)")
        var out: [OrderRecord] = []
        while try statement.step() { out.append(try Self.decodeOrder(statement)) }
        return out
    }

    /// The members of an OCO group.
    func orders(inGroup group: String) throws(StorageError) -> [OrderRecord] {
        let statement = try database.statement("SELECT \(Self.orderColumns) FROM orders WHERE oco_group = ?")
        statement.bind(1, group)
        var out: [OrderRecord] = []
        while try statement.step() { out.append(try Self.decodeOrder(statement)) }
        return out
    }

    public func orderCount() throws(StorageError) -> Int64 {
        let statement = try database.statement("SELECT count(*) FROM orders")
        _ = try statement.step()
        return statement.int64(0)
    }

    static func decodeOrder(_ row: SQLiteStatement) throws(StorageError) -> OrderRecord {
        func corrupt(_ what: String) -> StorageError {
            StorageError(path: "ledger", operation: "decode order \(row.string(0))", message: "bad \(what)")
        }
        guard let instrument = try? InstrumentID(parsing: row.string(2)) else { throw corrupt("symbol") }
        guard let side = Side(rawValue: row.string(3)) else { throw corrupt("side") }
        guard let type = OrderType(rawValue: row.string(4)) else { throw corrupt("type") }
        guard let tif = TimeInForce(rawValue: row.string(5)) else { throw corrupt("time in force") }
        guard let status = OrderStatus(rawValue: row.string(9)) else { throw corrupt("status") }
        var order = OrderRecord(
            clientOrderID: row.string(0), venueOrderID: row.string(1), instrument: instrument, side: side, type: type,
            timeInForce: tif, limitPrice: Fixed(units: row.int64(8)), quoteQuantity: Fixed(units: row.int64(7)),
            progress: OrderProgress(
                quantity: Fixed(units: row.int64(6)), status: status, filledQuantity: Fixed(units: row.int64(10))),
            averageFillPrice: Fixed(units: row.int64(11)), rejectReason: row.string(12), rejectMessage: row.string(13),
            model: row.string(14), strategy: row.string(15), createdUnixNanos: row.int64(16),
            updatedUnixNanos: row.int64(17))
        order.stopPrice = Fixed(units: row.int64(18))
        order.trailingOffset = Fixed(units: row.int64(19))
        order.trailingBps = row.int64(20)
        order.waterMark = Fixed(units: row.int64(21))
        order.parentID = row.string(22)
        order.ocoGroup = row.string(23)
        return order
    }

    // MARK: fills

    public func hasFill(tradeID: String) throws(StorageError) -> Bool {
        try beginIfNeeded()  // as in order(_:)
        let statement = try database.statement("SELECT 1 FROM fills WHERE trade_id = ?")
        statement.bind(1, tradeID)
        return try statement.step()
    }

    func insert(_ fill: FillRecord) throws(StorageError) {
        try beginIfNeeded()
        try database.statement("INSERT INTO fills VALUES (?,?,?,?,?,?,?,?,?,?,?)")
            .bind(1, fill.tradeID).bind(2, fill.clientOrderID).bind(3, fill.venueOrderID)
            .bind(4, fill.instrument.description).bind(5, fill.side.rawValue).bind(6, fill.quantity.units)
            .bind(7, fill.price.units).bind(8, fill.fee.units).bind(9, fill.model).bind(10, fill.realizedPnL.units)
            .bind(11, fill.unixNanos)
            .run()
    }

    public func fillCount() throws(StorageError) -> Int64 {
        let statement = try database.statement("SELECT count(*) FROM fills")
        _ = try statement.step()
        return statement.int64(0)
    }

    // MARK: portfolio

    func save(lot: PositionLot, model: String, instrument: InstrumentID) throws(StorageError) {
        try beginIfNeeded()
        try database.statement("INSERT OR REPLACE INTO positions VALUES (?,?,?,?,?)")
            .bind(1, model).bind(2, instrument.description).bind(3, lot.quantity.units)
            .bind(4, lot.averagePrice.units).bind(5, lot.realizedPnL.units)
            .run()
    }

    func save(stats: Portfolio.ModelStats, model: String) throws(StorageError) {
        try beginIfNeeded()
        try database.statement("INSERT OR REPLACE INTO model_stats VALUES (?,?,?,?,?)")
            .bind(1, model).bind(2, stats.realizedPnL.units).bind(3, stats.fills).bind(4, stats.winningCloses)
            .bind(5, stats.losingCloses)
            .run()
    }

    func saveAccount(cash: Fixed, fees: Fixed) throws(StorageError) {
        try setSetting("cash", String(cash.units))
        try setSetting("fees", String(fees.units))
    }

    /// The portfolio as of the last commit; a new ledger starts with `startingCash`.
    func loadPortfolio(startingCash: Fixed) throws(StorageError) -> Portfolio {
        var portfolio = Portfolio(cash: setting("cash").flatMap(Int64.init).map(Fixed.init(units:)) ?? startingCash)
        portfolio.fees = setting("fees").flatMap(Int64.init).map(Fixed.init(units:)) ?? .zero
        let positions = try database.statement(
            "SELECT model, symbol, quantity, average_price, realized_pnl FROM positions")
        while try positions.step() {
            guard let instrument = try? InstrumentID(parsing: positions.string(1)) else { continue }
            let lot = PositionLot(
                quantity: Fixed(units: positions.int64(2)), averagePrice: Fixed(units: positions.int64(3)),
                realizedPnL: Fixed(units: positions.int64(4)))
            let model = positions.string(0)
            if model.isEmpty {
                portfolio.positions[instrument] = lot
            } else {
                portfolio.modelLots[Portfolio.ModelKey(model: model, instrument: instrument)] = lot
            }
        }
        let stats = try database.statement(
            "SELECT model, realized_pnl, fills, winning_closes, losing_closes FROM model_stats")
        while try stats.step() {
            portfolio.modelStats[stats.string(0)] = Portfolio.ModelStats(
                realizedPnL: Fixed(units: stats.int64(1)), fills: stats.int64(2), winningCloses: stats.int64(3),
                losingCloses: stats.int64(4))
        }
        return portfolio
    }

    // MARK: external orders

    /// Records an order the venue holds that this engine did not make; false if already known.
    func recordExternal(clientOrderID: String, venueOrderID: String, state: String) throws(StorageError) -> Bool {
        let known = try database.statement("SELECT 1 FROM external_orders WHERE client_order_id = ?")
        known.bind(1, clientOrderID)
        if try known.step() { return false }
        try beginIfNeeded()
        try database.statement("INSERT INTO external_orders VALUES (?,?,?,?)")
            .bind(1, clientOrderID).bind(2, venueOrderID).bind(3, state).bind(4, WallClock.nowUnixNanos())
            .run()
        return true
    }

    // MARK: settings

    func setSetting(_ key: String, _ value: String) throws(StorageError) {
        try beginIfNeeded()
        try database.statement("INSERT OR REPLACE INTO settings VALUES (?,?)").bind(1, key).bind(2, value).run()
    }

    func setting(_ key: String) -> String? {
        guard let statement = try? database.statement("SELECT value FROM settings WHERE key = ?") else { return nil }
        statement.bind(1, key)
        guard (try? statement.step()) == true else { return nil }
        return statement.string(0)
    }
}
