#if canImport(Glibc)
    import Glibc
#endif

/// An append-only file of lines (the JSONL audit). Each `append` is one `write(2)` on an
/// `O_APPEND` descriptor: once it returns, the line is in the kernel and survives `kill -9`;
/// `sync()` adds an fsync for power loss, and callers do it at their commit points.
public final class AppendLog: Sendable {
    public let path: String
    private let descriptor: Int32

    public init(path: String) throws(StorageError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw StorageError(path: path, operation: "open for append", message: String(cString: strerror(errno)))
        }
        self.path = path
        self.descriptor = fd
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
    }
}
