#if canImport(Glibc)
    import Glibc
#endif

/// The process's limit on open files. It bounds the connections a server can hold: each is a
/// descriptor, as are the engine links, the databases and their WALs. A server that runs out
/// fails at `accept` and at reconnecting its links, so servers check it against their connection
/// bound at start instead.
public enum FileDescriptorLimit {
    /// Raises the soft limit to `needed` when the hard limit allows it (systemd's default is soft
    /// 1,024, hard 524,288). Returns the soft limit in force afterwards.
    @discardableResult
    public static func raise(toAtLeast needed: Int) -> Int {
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        let current = Int(clamping: limit.rlim_cur)
        guard current < needed else { return current }
        limit.rlim_cur = min(rlim_t(needed), limit.rlim_max)
        guard setrlimit(resource, &limit) == 0 else { return current }
        return Int(clamping: limit.rlim_cur)
    }
}
