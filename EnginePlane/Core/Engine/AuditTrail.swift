import Storage
import TradingDomain

/// The append-only JSONL audit: one line per decision (intent, risk verdict, venue answer, fill,
/// mode change, recovery step), each with a timestamp and the ids a human needs to follow an order.
///
/// Lines are buffered and written with the ledger batch they describe (one `write(2)` per batch,
/// on the group-commit thread, before the batch's sync), so a decision is in the audit before
/// anything waiting on it goes on, and after a crash the audit holds nothing the ledger lacks.
final class AuditTrail {
    private let log: AppendLog?
    private var buffer: [UInt8] = []

    init(path: String?) throws(StorageError) {
        log = try path.map { (path) throws(StorageError) in try AppendLog(path: path) }
    }

    func record(_ kind: String, _ fields: [(String, String)]) {
        guard log != nil else { return }
        begin(kind)
        for (key, value) in fields { field(key, value) }
        end()
    }

    // A line is written field by field straight into the buffer: no array of pairs and no
    // intermediate String per line (numbers, decimals and instruments are written as bytes).
    private func begin(_ kind: String) {
        buffer.append(contentsOf: #"{"ts_ns":"#.utf8)
        Fixed.writeDigits(UInt64(max(0, WallClock.nowUnixNanos())), to: &buffer)
        buffer.append(contentsOf: #","event":""#.utf8)
        Self.appendEscaped(kind, to: &buffer)
    }

    private func key(_ key: String) {
        buffer.append(contentsOf: #"",""#.utf8)
        Self.appendEscaped(key, to: &buffer)
        buffer.append(contentsOf: #"":""#.utf8)
    }

    private func field(_ name: String, _ value: String) {
        key(name)
        Self.appendEscaped(value, to: &buffer)
    }

    private func field(_ name: String, _ value: Fixed) {
        key(name)
        value.write(to: &buffer)
    }

    private func field(_ name: String, _ value: InstrumentID) {
        key(name)
        Self.appendEscaped(value.symbol, to: &buffer)  // validated when parsed; escaped all the same
        buffer.append(UInt8(ascii: "."))
        buffer.append(contentsOf: value.venue.rawValue.utf8)
    }

    private func end() {
        buffer.append(contentsOf: "\"}\n".utf8)
    }

    /// Hands the buffered lines to the group commit of the ledger batch they describe (`database`
    /// just committed it): they are written before that batch's sync, and the ticket returned.
    func committed(_ database: SQLiteDatabase, on groupCommit: GroupCommit) -> UInt64 {
        guard let log, !buffer.isEmpty else { return groupCommit.committed(database) }
        return groupCommit.committed(database, appending: takeLines(), to: log, onFailure: Self.reportFailure)
    }

    /// Queues the buffered lines (ones no ledger commit carries) behind those already queued, so
    /// the file keeps the order the decisions were made in.
    func flush(on groupCommit: GroupCommit) {
        guard let log, !buffer.isEmpty else { return }
        _ = groupCommit.append(takeLines(), to: log, onFailure: Self.reportFailure)
    }

    private func takeLines() -> [UInt8] {
        let lines = buffer
        buffer.removeAll(keepingCapacity: true)
        return lines
    }

    // The ledger is the source of truth; an audit write failure is reported but never blocks trading.
    private static let reportFailure: @Sendable (StorageError) -> Void = { error in
        FileHandleStderr.write("audit write failed: \(error)\n")
    }

    /// JSON string escaping straight into the buffer; plain ASCII (ids, numbers) is copied as is.
    static func appendEscaped(_ text: String, to buffer: inout [UInt8]) {
        // Native strings are contiguous UTF-8: one scan and one copy, no per-byte iterator.
        let copied = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard bytes.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }) else { return false }
            buffer.append(contentsOf: bytes)
            return true
        }
        // Text that needs escaping, or is not contiguous: `escape` keeps plain characters as they are.
        if copied != true { buffer.append(contentsOf: escape(text).utf8) }
    }

    func order(_ kind: String, _ order: OrderRecord, extra: [(String, String)] = []) {
        guard log != nil else { return }
        begin(kind)
        field("client_order_id", order.clientOrderID)
        field("venue_order_id", order.venueOrderID)
        field("symbol", order.instrument)
        field("side", order.side.rawValue)
        field("type", order.type.rawValue)
        field("quantity", order.quantity)
        field("limit_price", order.limitPrice)
        field("status", order.status.rawValue)
        field("filled", order.filledQuantity)
        field("model", order.model)
        if !order.rejectReason.isEmpty {
            field("reason", order.rejectReason)
            field("message", order.rejectMessage)
        }
        for (key, value) in extra { field(key, value) }
        end()
    }

    func fill(_ fill: FillRecord) {
        guard log != nil else { return }
        begin("fill")
        field("trade_id", fill.tradeID)
        field("client_order_id", fill.clientOrderID)
        field("symbol", fill.instrument)
        field("side", fill.side.rawValue)
        field("quantity", fill.quantity)
        field("price", fill.price)
        field("fee", fill.fee)
        field("realized_pnl", fill.realizedPnL)
        field("model", fill.model)
        end()
    }

    /// `order_<status>`, the line an order's status change writes (no String built per line).
    static func statusKind(_ status: OrderStatus) -> String {
        switch status {
        case .pendingSubmit: "order_pending_submit"
        case .accepted: "order_accepted"
        case .partiallyFilled: "order_partially_filled"
        case .filled: "order_filled"
        case .pendingCancel: "order_pending_cancel"
        case .canceled: "order_canceled"
        case .rejected: "order_rejected"
        case .expired: "order_expired"
        case .held: "order_held"
        }
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

#if canImport(Glibc)
    import Glibc
#endif

enum FileHandleStderr {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { buffer in _ = Glibc.write(2, buffer.baseAddress, buffer.count) }
    }
}
