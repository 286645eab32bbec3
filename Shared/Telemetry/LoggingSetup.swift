import Logging

/// Logs go to stderr as one `key=value` line each (journald and humans both read them).
/// Secrets never appear: nothing logs a header, an environment variable or a config value named
/// as secret.
public enum LoggingSetup {
    public static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
