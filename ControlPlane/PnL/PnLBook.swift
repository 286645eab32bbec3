import FleetProto
import Synchronization
import TradingDomain

/// Per-model, per-venue PnL built from the engines' event streams, re-based on each engine's
/// snapshot whenever its link (re)connects. Fills carry the realized PnL the engine computed, and
/// lots use the same average-cost `PositionLot`, so OPS and the engines agree to the unit.
public final class PnLBook: Sendable {
    public struct Row: Sendable, Hashable, Codable {
        public var model: String
        public var venue: String
        public var realizedPnL: Fixed
        public var unrealizedPnL: Fixed
        public var fills: Int64
        public var winningCloses: Int64
        public var losingCloses: Int64
        /// Winning closes ÷ all closes, as a decimal; nil before the first close.
        public var winRate: Fixed?

        enum CodingKeys: String, CodingKey {
            case model, venue, fills
            case realizedPnL = "realized_pnl"
            case unrealizedPnL = "unrealized_pnl"
            case winningCloses = "winning_closes"
            case losingCloses = "losing_closes"
            case winRate = "win_rate"
        }
    }

    public struct EngineRow: Sendable, Hashable, Codable {
        public var engine: String
        public var venue: String
        public var cash: Fixed
        public var equity: Fixed
        public var tradingMode: String

        enum CodingKeys: String, CodingKey {
            case engine, venue, cash, equity
            case tradingMode = "trading_mode"
        }
    }

    public struct Report: Sendable, Codable {
        public var models: [Row]
        public var engines: [EngineRow]
        public var totalRealizedPnL: Fixed
        public var totalUnrealizedPnL: Fixed

        enum CodingKeys: String, CodingKey {
            case models, engines
            case totalRealizedPnL = "total_realized_pnl"
            case totalUnrealizedPnL = "total_unrealized_pnl"
        }
    }

    struct ModelBook {
        var realized = Fixed.zero
        var fills: Int64 = 0
        var wins: Int64 = 0
        var losses: Int64 = 0
        var lots: [String: PositionLot] = [:]

        /// One fill, in place: its lot, the realized PnL, and a win or loss when it closed some.
        mutating func record(symbol: String, side: Side, quantity: Fixed, price: Fixed, realized: Fixed) {
            let gross = lots[symbol, default: PositionLot()].apply(side: side, quantity: quantity, price: price)
            self.realized += realized
            fills += 1
            if !gross.isZero {
                if realized.isPositive { wins += 1 } else { losses += 1 }
            }
        }
    }

    struct EngineBook {
        var venue: String
        var lastSeq: UInt64 = 0
        var syncing = false
        var buffer: [Fleet_V1_Event] = []
        var models: [String: ModelBook] = [:]
        var marks: [String: Fixed] = [:]
        var cash = Fixed.zero
        var equity = Fixed.zero
        var mode = "UNKNOWN"
    }

    private let engines = Mutex<[String: EngineBook]>([:])

    public init() {}

    /// The engine's subscription started: hold its events until its snapshot arrives.
    public func beginSync(engineID: String, venue: String) {
        engines.withLock { books in
            var book = books[engineID] ?? EngineBook(venue: venue)
            book.syncing = true
            book.buffer.removeAll()
            books[engineID] = book
        }
    }

    /// Replaces what OPS knows of the engine with its snapshot, then applies buffered events newer than it.
    public func resync(engineID: String, snapshot: Fleet_V1_Snapshot) {
        engines.withLock { books in
            var book = EngineBook(venue: snapshot.venue)
            book.lastSeq = snapshot.lastEventSeq
            for model in snapshot.models {
                var entry = ModelBook(
                    realized: Fixed(units: model.realizedPnlE8), fills: Int64(model.fills),
                    wins: Int64(model.winningCloses),
                    losses: Int64(model.losingCloses))
                for position in model.positions {
                    entry.lots[position.symbol] = PositionLot(
                        quantity: Fixed(units: position.quantityE8),
                        averagePrice: Fixed(units: position.averagePriceE8),
                        realizedPnL: Fixed(units: position.realizedPnlE8))
                }
                book.models[model.model] = entry
            }
            for mark in snapshot.marks { book.marks[mark.symbol] = Fixed(units: (mark.bidE8 + mark.askE8) / 2) }
            book.cash = Fixed(units: snapshot.account.cashE8)
            book.equity = Fixed(units: snapshot.account.equityE8)
            book.mode = Self.modeName(snapshot.tradingMode)
            let buffered = books[engineID]?.buffer ?? []
            for event in buffered { Self.apply(event, to: &book) }
            books[engineID] = book
        }
    }

    public func apply(engineID: String, event: Fleet_V1_Event) {
        engines.withLock { books in
            // Mutated where it is stored: a copy taken out of the dictionary and put back made
            // every fill copy the engine's model table and the model's lots (copy-on-write).
            guard let index = books.index(forKey: engineID) else { return }
            if books.values[index].syncing {
                books.values[index].buffer.append(event)
            } else {
                Self.apply(event, to: &books.values[index])
            }
        }
    }

    private static func apply(_ event: Fleet_V1_Event, to book: inout EngineBook) {
        switch event.body {
        case .heartbeat(let heartbeat):
            for mark in heartbeat.marks { book.marks[mark.symbol] = Fixed(units: (mark.bidE8 + mark.askE8) / 2) }
            book.cash = Fixed(units: heartbeat.account.cashE8)
            book.equity = Fixed(units: heartbeat.account.equityE8)
            book.mode = modeName(heartbeat.tradingMode)
        case .fill(let fill):
            guard event.seq > book.lastSeq else { return }
            book.lastSeq = event.seq
            guard let side: Side = fill.side == .buy ? .buy : fill.side == .sell ? .sell : nil else { return }
            let realized = Fixed(units: fill.realizedPnlE8)
            book.models[fill.model, default: ModelBook()].record(
                symbol: fill.symbol, side: side, quantity: Fixed(units: fill.quantityE8),
                price: Fixed(units: fill.priceE8), realized: realized)
        case .order, .risk:
            if event.seq > book.lastSeq { book.lastSeq = event.seq }
        case .none:
            break
        }
    }

    public func report() -> Report {
        let books = engines.withLock { $0 }
        var rows: [String: Row] = [:]
        var engineRows: [EngineRow] = []
        for (engineID, book) in books.sorted(by: { $0.key < $1.key }) {
            engineRows.append(
                EngineRow(
                    engine: engineID, venue: book.venue, cash: book.cash, equity: book.equity, tradingMode: book.mode))
            for (model, entry) in book.models {
                let key = "\(model)\u{0}\(book.venue)"
                var row =
                    rows[key]
                    ?? Row(
                        model: model, venue: book.venue, realizedPnL: .zero, unrealizedPnL: .zero, fills: 0,
                        winningCloses: 0,
                        losingCloses: 0, winRate: nil)
                row.realizedPnL += entry.realized
                row.fills += entry.fills
                row.winningCloses += entry.wins
                row.losingCloses += entry.losses
                for (symbol, lot) in entry.lots {
                    row.unrealizedPnL += lot.unrealizedPnL(mark: book.marks[symbol] ?? .zero)
                }
                rows[key] = row
            }
        }
        var models = rows.values.sorted { ($0.model, $0.venue) < ($1.model, $1.venue) }
        for index in models.indices {
            let closes = models[index].winningCloses + models[index].losingCloses
            if closes > 0 {
                models[index].winRate = Fixed(units: models[index].winningCloses * Fixed.unitsPerOne).divided(
                    by: Fixed(units: closes * Fixed.unitsPerOne), rounding: .toNearestOrEven)
            }
        }
        return Report(
            models: models, engines: engineRows, totalRealizedPnL: models.reduce(.zero) { $0 + $1.realizedPnL },
            totalUnrealizedPnL: models.reduce(.zero) { $0 + $1.unrealizedPnL })
    }

    public static func modeName(_ mode: Fleet_V1_TradingMode) -> String {
        switch mode {
        case .active: "ACTIVE"
        case .closeOnly: "CLOSE_ONLY"
        case .halted: "HALTED"
        default: "UNKNOWN"
        }
    }
}
