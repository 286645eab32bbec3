import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An append-only file of lines (the JSONL audit). Each `append` is one `write(2)` on an
/// `O_APPEND` descriptor: once it returns, the line is in the kernel and survives `kill -9`;
/// `sync()` adds an fsync for power loss, and callers do it at their commit points.
///
/// Every `writebackChunk` bytes the kernel is asked to start writing the new bytes out at once
/// (`posix_fadvise(DONTNEED)`: asynchronous writeback of the range, then the range before it,
/// written by now, dropped from the page cache). Left alone, an engine's audit (~800 bytes an
/// order) sat dirty in memory until the kernel's flusher wrote each 30-second-old slice in one
/// burst of hundreds of megabytes, and the ledger's `fdatasync`s waited behind it: one stall of
/// ~100 ms per benchmark run at 2,000 signals/s.
public final class AppendLog: Sendable {
    public let path: String
    private let descriptor: Int32
    private let writebackChunk: Int64
    /// The file's end as this log has written it, and where the last writeback request ended.
    private let writeback: Mutex<(end: Int64, requested: Int64)>

    public init(path: String, writebackChunk: Int64 = 1 << 20) throws(StorageError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw StorageError(path: path, operation: "open for append", message: String(cString: strerror(errno)))
        }
        self.path = path
        self.descriptor = fd
        self.writebackChunk = max(4096, writebackChunk)
        let end = Int64(lseek(fd, 0, SEEK_END))
        self.writeback = Mutex((max(0, end), max(0, end)))
    }

    deinit { close(descriptor) }

    /// Appends `line` and a newline.
    public func append(_ line: String) throws(StorageError) {
        var bytes = Array(line.utf8)
        bytes.append(10)
        try writeAll(bytes)
    }

    /// Appends many lines in one write.
    public func append(lines: [String]) throws(StorageError) {
        guard !lines.isEmpty else { return }
        var bytes = [UInt8]()
        for line in lines {
            bytes.append(contentsOf: line.utf8)
            bytes.append(10)
        }
        try writeAll(bytes)
    }

    /// Appends bytes that already hold whole lines, in one write.
    public func append(bytes: [UInt8]) throws(StorageError) {
        try writeAll(bytes)
    }

    public func sync() throws(StorageError) {
        guard fsync(descriptor) == 0 else {
            throw StorageError(path: path, operation: "fsync", message: String(cString: strerror(errno)))
        }
    }

    private func writeAll(_ bytes: [UInt8]) throws(StorageError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw StorageError(path: path, operation: "append", message: String(cString: strerror(errno)))
            }
            offset += written
        }
        requestWriteback(afterAppending: Int64(bytes.count))
    }

    /// Starts the writeback of the last chunk once one is complete (see the type's comment).
    private func requestWriteback(afterAppending count: Int64) {
        let range: (from: Int64, to: Int64)? = writeback.withLock { state in
            state.end += count
            guard state.end - state.requested >= writebackChunk else { return nil }
            // From the chunk before the new bytes: its pages are clean by now and are dropped.
            let from = max(0, state.requested - writebackChunk)
            state.requested = state.end
            return (from, state.end)
        }
        // Advice only: a failure changes nothing the log promises.
        if let range {
            _ = posix_fadvise(descriptor, off_t(range.from), off_t(range.to - range.from), POSIX_FADV_DONTNEED)
        }
    }
}
