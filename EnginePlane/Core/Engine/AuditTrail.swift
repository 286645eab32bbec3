import Storage
import TradingDomain

/// The append-only JSONL audit: one line per decision (intent, risk verdict, venue answer, fill,
/// mode change, recovery step), each with a timestamp and the ids a human needs to follow an order.
///
/// Decisions are kept as values and handed to the ledger batch they describe; the group-commit
/// thread renders them and writes them (one `write(2)` per batch) before the batch's sync. So a
/// decision is in the audit before anything waiting on it goes on, after a crash the audit holds
/// nothing the ledger lacks, and the engine's event loop never formats a line.
final class AuditTrail {
    private let log: AppendLog?
    private var entries: [AuditEntry] = []

    init(path: String?) throws(StorageError) {
        log = try path.map { (path) throws(StorageError) in try AppendLog(path: path) }
    }

    func record(_ kind: String, _ fields: [(String, String)]) {
        guard log != nil else { return }
        entries.append(.note(kind: kind, unixNanos: WallClock.nowUnixNanos(), fields: fields))
    }

    func order(_ kind: String, _ order: OrderRecord, extra: [(String, String)] = []) {
        guard log != nil else { return }
        entries.append(.order(kind: kind, unixNanos: WallClock.nowUnixNanos(), order: order, extra: extra))
    }

    func fill(_ fill: FillRecord) {
        guard log != nil else { return }
        entries.append(.fill(unixNanos: WallClock.nowUnixNanos(), fill: fill))
    }

    /// Hands the entries to the group commit of the ledger batch they describe (`database` just
    /// committed it): they are written before that batch's sync, and the ticket returned.
    func committed(_ database: SQLiteDatabase, on groupCommit: GroupCommit) -> UInt64 {
        guard let log, !entries.isEmpty else { return groupCommit.committed(database) }
        return groupCommit.committed(database, appending: takeLines(), to: log, onFailure: Self.reportFailure)
    }

    /// Queues the entries (ones no ledger commit carries) behind those already queued, so the file
    /// keeps the order the decisions were made in.
    func flush(on groupCommit: GroupCommit) {
        guard let log, !entries.isEmpty else { return }
        _ = groupCommit.append(takeLines(), to: log, onFailure: Self.reportFailure)
    }

    private func takeLines() -> AuditLines {
        let lines = AuditLines(entries: entries)
        entries.removeAll(keepingCapacity: true)
        return lines
    }

    // The ledger is the source of truth; an audit write failure is reported but never blocks trading.
    private static let reportFailure: @Sendable (StorageError) -> Void = { error in
        FileHandleStderr.write("audit write failed: \(error)\n")
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
