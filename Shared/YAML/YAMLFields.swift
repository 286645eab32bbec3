/// A mapping read field by field, as configuration files are: every key must be one the reader
/// knows (a misspelt key is an error, not a silently ignored setting), and every error names the
/// field's full path (`risk.rate_limit.burst`) and its line.
public struct YAMLFields: Sendable {
    private let entries: [String: YAMLNode]
    /// The dotted path of this mapping; empty at the root.
    public let path: String
    /// Where the mapping starts.
    public let line: Int

    /// `node` must be a mapping (a null reads as an empty one) whose keys are all in `keys`.
    public init(_ node: YAMLNode, path: String = "", keys: [String]) throws(YAMLError) {
        self.path = path
        line = node.line
        if node.isNull {
            entries = [:]
            return
        }
        guard case .mapping(let pairs) = node.value else {
            throw YAMLError(
                line: node.line, message: "\(path.isEmpty ? "the file" : path): expected a mapping (key: value)")
        }
        for pair in pairs where !keys.contains(pair.key) {
            throw YAMLError(
                line: pair.value.line,
                message: "\(Self.join(path, pair.key)): unknown key (known here: \(keys.joined(separator: ", ")))")
        }
        entries = Dictionary(uniqueKeysWithValues: pairs.map { ($0.key, $0.value) })
    }

    /// The full path of `key` in this mapping.
    public func path(_ key: String) -> String { Self.join(path, key) }

    /// An error about `key`, at its line (or the mapping's, when the key is absent).
    public func error(_ key: String, _ message: String) -> YAMLError {
        YAMLError(line: entries[key]?.line ?? line, message: "\(path(key)): \(message)")
    }

    /// The node under `key`; nil when absent or null.
    public func node(_ key: String) -> YAMLNode? {
        guard let node = entries[key], !node.isNull else { return nil }
        return node
    }

    /// A scalar's text, quoted or not; nil when absent or null.
    public func string(_ key: String) throws(YAMLError) -> String? {
        guard let node = node(key) else { return nil }
        guard case .scalar(let text, _) = node.value else { throw error(key, "expected a single value") }
        return text
    }

    /// A whole number; nil when absent or null.
    public func int64(_ key: String) throws(YAMLError) -> Int64? {
        guard let text = try string(key) else { return nil }
        guard let value = Int64(text) else { throw error(key, "expected a whole number, found '\(text)'") }
        return value
    }

    public func int(_ key: String) throws(YAMLError) -> Int? {
        guard let value = try int64(key) else { return nil }
        guard let narrowed = Int(exactly: value) else { throw error(key, "\(value) is out of range") }
        return narrowed
    }

    /// Like the optional readers, but an absent key is an error.
    public func required<T>(_ key: String, _ read: (String) throws(YAMLError) -> T?) throws(YAMLError) -> T {
        guard let value = try read(key) else { throw error(key, "required") }
        return value
    }

    /// A nested mapping; nil when absent or null.
    public func fields(_ key: String, keys: [String]) throws(YAMLError) -> YAMLFields? {
        guard let node = node(key) else { return nil }
        return try YAMLFields(node, path: path(key), keys: keys)
    }

    /// A list of mappings, each checked against `keys`; nil when absent or null.
    public func list(_ key: String, keys: [String]) throws(YAMLError) -> [YAMLFields]? {
        guard let node = node(key) else { return nil }
        guard case .sequence(let items) = node.value else { throw error(key, "expected a list") }
        var out: [YAMLFields] = []
        for (index, item) in items.enumerated() {
            out.append(try YAMLFields(item, path: "\(path(key))[\(index)]", keys: keys))
        }
        return out
    }

    /// A list of single values (`[a, b]` or one `- a` per line); nil when absent or null.
    public func strings(_ key: String) throws(YAMLError) -> [String]? {
        guard let node = node(key) else { return nil }
        guard case .sequence(let items) = node.value else { throw error(key, "expected a list") }
        var out: [String] = []
        for item in items {
            guard case .scalar(let text, _) = item.value else { throw error(key, "expected a list of single values") }
            out.append(text)
        }
        return out
    }

    private static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}
