import ArgumentParser

/// The fleet's exit-code contract for every executable: 0 clean stop, 2 bad configuration or
/// arguments (with a message naming what), 1 other failure. ArgumentParser's own usage errors exit
/// with 64 by default; this maps them to 2.
extension AsyncParsableCommand {
    public static func runMappingUsageErrors() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                print(fullMessage(for: error))
                Self.exit(withError: ExitCode(2))
            }
            Self.exit(withError: error)
        }
    }
}
