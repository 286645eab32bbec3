import TradingDomain

/// How an engine treats its venue. A paper config can never trade real money by accident: live
/// needs an explicit confirmation in the environment and an account named in the config.
public enum RunMode: String, Sendable, CaseIterable {
    case paper
    case dryLive = "dry-live"
    case live

    public static let liveConfirmation = "yes-trade-real-money"

    /// Checks the mode against the venue, the environment and the config; refuses with exit code 2.
    public static func validate(
        _ text: String, venue: Venue, environment: [String: String], account: String?
    ) throws(ConfigError) -> RunMode {
        guard let mode = RunMode(rawValue: text) else {
            throw ConfigError(file: "--mode", message: "'\(text)' is not paper, dry-live or live")
        }
        switch (mode, venue) {
        case (.paper, .paper):
            return mode
        case (_, .paper):
            throw ConfigError(file: "--mode", message: "the paper venue only runs in paper mode")
        case (.paper, _):
            throw ConfigError(
                file: "--mode", message: "\(venue.rawValue) is a real venue: use dry-live, or live with confirmation")
        case (.dryLive, _):
            return mode
        case (.live, _):
            guard environment["FLEET_LIVE_CONFIRM"] == liveConfirmation else {
                throw ConfigError(
                    file: "--mode",
                    message: "live trading needs FLEET_LIVE_CONFIRM=\(liveConfirmation) in the environment")
            }
            guard let account, !account.isEmpty else {
                throw ConfigError(file: "--config", message: "live trading needs `account:` naming the venue account")
            }
            return mode
        }
    }
}
