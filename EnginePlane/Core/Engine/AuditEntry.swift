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
        // The writer borrows the storage while it writes (a swap, not a copy: appends stay in place).
        var writer = LineWriter()
        swap(&writer.buffer, &buffer)
        for entry in entries { writer.write(entry) }
        swap(&writer.buffer, &buffer)
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

    /// Writes a line field by field straight into the buffer: no array of pairs and no
    /// intermediate String per line (numbers, decimals and instruments are written as bytes).
    struct LineWriter {
        var buffer: [UInt8] = []

        mutating func write(_ entry: AuditEntry) {
            switch entry {
            case .order(let kind, let unixNanos, let order, let extra):
                begin(kind, unixNanos)
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
            case .fill(let unixNanos, let fill):
                begin("fill", unixNanos)
                field("trade_id", fill.tradeID)
                field("client_order_id", fill.clientOrderID)
                field("symbol", fill.instrument)
                field("side", fill.side.rawValue)
                field("quantity", fill.quantity)
                field("price", fill.price)
                field("fee", fill.fee)
                field("realized_pnl", fill.realizedPnL)
                field("model", fill.model)
            case .note(let kind, let unixNanos, let fields):
                begin(kind, unixNanos)
                for (key, value) in fields { field(key, value) }
            }
            buffer.append(contentsOf: "\"}\n".utf8)
        }

        private mutating func begin(_ kind: String, _ unixNanos: Int64) {
            buffer.append(contentsOf: #"{"ts_ns":"#.utf8)
            Fixed.writeDigits(UInt64(max(0, unixNanos)), to: &buffer)
            buffer.append(contentsOf: #","event":""#.utf8)
            AuditLines.appendEscaped(kind, to: &buffer)
        }

        private mutating func key(_ key: String) {
            buffer.append(contentsOf: #"",""#.utf8)
            AuditLines.appendEscaped(key, to: &buffer)
            buffer.append(contentsOf: #"":""#.utf8)
        }

        private mutating func field(_ name: String, _ value: String) {
            key(name)
            AuditLines.appendEscaped(value, to: &buffer)
        }

        private mutating func field(_ name: String, _ value: Fixed) {
            key(name)
            value.write(to: &buffer)
        }

        private mutating func field(_ name: String, _ value: InstrumentID) {
            key(name)
            AuditLines.appendEscaped(value.symbol, to: &buffer)  // validated when parsed; escaped all the same
            buffer.append(UInt8(ascii: "."))
            buffer.append(contentsOf: value.venue.rawValue.utf8)
        }
    }
}
