import JSONWriter
import Storage
import TradingDomain

/// One audit line, kept as values (with the time of the decision) until the group-commit thread
/// renders it: formatting JSON on the engine's event loop cost ~8% of it at ×256.
enum AuditEntry: Sendable {
    case order(kind: String, unixNanos: Int64, order: OrderRecord, extra: [(String, String)])
    case fill(unixNanos: Int64, fill: FillRecord)
    case note(kind: String, unixNanos: Int64, fields: [(String, String)])
}

/// A batch's audit entries, rendered as JSONL on the thread that writes them.
struct AuditLines: AppendLogLines {
    let entries: [AuditEntry]

    func render(into buffer: inout [UInt8]) {
        for entry in entries {
            // The writer takes the buffer and hands it back (moves: appends stay in place).
            var taken: [UInt8] = []
            swap(&taken, &buffer)
            var line = JSONObjectWriter(appendingTo: consume taken)
            Self.write(entry, to: &line)
            buffer = line.finish()
            buffer.append(UInt8(ascii: "\n"))
        }
    }

    /// One line's fields: when and what first, then the record.
    static func write(_ entry: AuditEntry, to line: inout JSONObjectWriter) {
        switch entry {
        case .order(let kind, let unixNanos, let order, let extra):
            line.field("ts_ns", max(0, unixNanos))
            line.field("event", kind)
            line.field("client_order_id", order.clientOrderID)
            line.field("venue_order_id", order.venueOrderID)
            line.field("symbol", order.instrument)
            line.field("side", order.side.rawValue)
            line.field("type", order.type.rawValue)
            line.field("quantity", order.quantity)
            line.field("limit_price", order.limitPrice)
            line.field("status", order.status.rawValue)
            line.field("filled", order.filledQuantity)
            line.field("model", order.model)
            if !order.rejectReason.isEmpty {
                line.field("reason", order.rejectReason)
                line.field("message", order.rejectMessage)
            }
            for (key, value) in extra { line.field(key, value) }
        case .fill(let unixNanos, let fill):
            line.field("ts_ns", max(0, unixNanos))
            line.field("event", "fill")
            line.field("trade_id", fill.tradeID)
            line.field("client_order_id", fill.clientOrderID)
            line.field("symbol", fill.instrument)
            line.field("side", fill.side.rawValue)
            line.field("quantity", fill.quantity)
            line.field("price", fill.price)
            line.field("fee", fill.fee)
            line.field("realized_pnl", fill.realizedPnL)
            line.field("model", fill.model)
        case .note(let kind, let unixNanos, let fields):
            line.field("ts_ns", max(0, unixNanos))
            line.field("event", kind)
            for (key, value) in fields { line.field(key, value) }
        }
    }
}
