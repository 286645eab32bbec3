import CSystemd

#if canImport(Glibc)
    import Glibc
#endif

/// systemd's notify protocol through libsystemd's `sd_notify`: READY=1 once recovery is done,
/// WATCHDOG=1 from the event loop, STATUS= for humans, STOPPING=1 on SIGTERM.
/// Outside systemd (no NOTIFY_SOCKET) every call is a cheap no-op.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// True when started by systemd with `Type=notify`.
    public var isEnabled: Bool { getenv("NOTIFY_SOCKET") != nil }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    public func status(_ text: String) { send("STATUS=\(text)") }
    public func stopping(status: String) { send("STOPPING=1\nSTATUS=\(status)") }
    public func watchdog() { send("WATCHDOG=1") }

    /// Half of `WATCHDOG_USEC` (systemd's advice), or nil when the watchdog is off.
    public var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec / 2))
    }

    private func send(_ state: String) {
        guard isEnabled else { return }
        _ = sd_notify(0, state)
    }
}
