#if canImport(Glibc)
    import Glibc
#endif

/// An out-of-band stop an operator can pull without OPS: a file (checked at least once a second,
/// no restart) or an environment variable (read at start).
///
/// The file or variable holds one word: `close_only` (exits allowed, entries refused), `halt`
/// (no new orders; cancels still go out), `hard_kill` (nothing leaves, not even cancels or exits).
/// An empty or unreadable file counts as `halt`: a stop that cannot be read is still a stop.
public struct KillSwitch: Sendable {
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case off = 0
        case closeOnly = 1
        case halt = 2
        case hardKill = 3

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }

        public init?(word: String) {
            switch word.lowercased().filter({ !$0.isWhitespace }) {
            case "", "halt", "halt_all": self = .halt
            case "close_only", "closeonly": self = .closeOnly
            case "hard_kill", "hardkill", "kill": self = .hardKill
            case "off", "none": self = .off
            default: return nil
            }
        }

        public var name: String {
            switch self {
            case .off: "OFF"
            case .closeOnly: "CLOSE_ONLY"
            case .halt: "HALT"
            case .hardKill: "HARD_KILL"
            }
        }
    }

    /// Path of the kill-switch file; nil disables the file check.
    public let filePath: String?
    /// The level from the environment at start.
    public let environmentLevel: Level

    public init(filePath: String?, environmentValue: String?) {
        self.filePath = filePath
        // An unrecognised word in the variable is a stop too.
        self.environmentLevel = environmentValue.map { Level(word: $0) ?? .halt } ?? .off
    }

    /// The stricter of the file's and the environment's level.
    public func current() -> Level {
        max(environmentLevel, fileLevel())
    }

    private func fileLevel() -> Level {
        guard let filePath, access(filePath, F_OK) == 0 else { return .off }
        guard let file = fopen(filePath, "r") else { return .halt }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return .halt }
        let word = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Level(word: word) ?? .halt
    }
}
