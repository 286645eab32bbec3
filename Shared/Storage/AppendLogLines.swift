/// Whole lines for an `AppendLog` that a group commit carries, rendered when they are written:
/// on the group-commit thread, so the committing thread hands over values and never formats text.
public protocol AppendLogLines: Sendable {
    /// Appends the lines (each ending in a newline) to `buffer`.
    func render(into buffer: inout [UInt8])
}

/// Bytes that already are whole lines.
extension Array: AppendLogLines where Element == UInt8 {
    public func render(into buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
}
