/// A YAML text that cannot be used: what is wrong and, where known, the 1-based line.
public struct YAMLError: Error, Sendable, CustomStringConvertible {
    public let line: Int?
    public let message: String

    public init(line: Int?, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}
