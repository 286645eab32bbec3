import CYAML

/// One node of a YAML document as read by libyaml (Debian's `libyaml-dev`): the tree a
/// configuration file is checked against. Scalars stay text: the reader of a field decides what it
/// is (a decimal stays a string until it becomes `Fixed`, so YAML floats never touch money).
public struct YAMLNode: Sendable {
    public enum Value: Sendable {
        /// `plain`: written without quotes (only a plain `~`, `null` or nothing is a null).
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        /// In document order; keys are unique (a repeated key is an error, not a silent overwrite).
        case mapping([(key: String, value: YAMLNode)])
    }

    public let value: Value
    /// 1-based line where the node starts, for error messages.
    public let line: Int

    /// True for a plain `~`, `null`, `Null`, `NULL` or an empty value.
    public var isNull: Bool {
        guard case .scalar(let text, plain: true) = value else { return false }
        return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
    }

    /// Parses one YAML document; an empty text is a null node. Anchors and aliases are resolved.
    public static func parse(_ text: String) throws(YAMLError) -> YAMLNode {
        var reader = try EventReader(text)
        defer { reader.close() }
        return try reader.document()
    }
}

/// Pulls libyaml's events and builds nodes from them. The parser and its input live on the heap:
/// libyaml keeps pointers to both between calls.
private struct EventReader {
    enum Event {
        case streamStart, streamEnd, documentStart, documentEnd
        case alias(String)
        case scalar(String, plain: Bool, anchor: String?)
        case sequenceStart(anchor: String?), sequenceEnd
        case mappingStart(anchor: String?), mappingEnd
    }

    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    private var anchors: [String: YAMLNode] = [:]
    /// Bounds nesting (and so the recursion below) for a hostile or broken file.
    private var depth = 0
    private static let maxDepth = 64

    init(_ text: String) throws(YAMLError) {
        parser = .allocate(capacity: 1)
        input = .allocate(capacity: max(text.utf8.count, 1))
        _ = input.initialize(from: text.utf8)
        guard yaml_parser_initialize(parser) == 1 else {
            parser.deallocate()
            input.deallocate()
            throw YAMLError(line: nil, message: "the YAML parser could not start (out of memory)")
        }
        yaml_parser_set_input_string(parser, input.baseAddress, text.utf8.count)
    }

    func close() {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    mutating func document() throws(YAMLError) -> YAMLNode {
        guard case (.streamStart, _) = try next() else { throw unexpected(line: 1) }
        let (first, line) = try next()
        switch first {
        case .streamEnd: return YAMLNode(value: .scalar("", plain: true), line: 1)
        case .documentStart: break
        default: throw unexpected(line: line)
        }
        let (event, nodeLine) = try next()
        let root = try node(event, line: nodeLine)
        guard case (.documentEnd, _) = try next() else { throw unexpected(line: nodeLine) }
        let (end, endLine) = try next()
        guard case .streamEnd = end else {
            throw YAMLError(line: endLine, message: "one YAML document expected; found a second one (---)")
        }
        return root
    }

    private mutating func node(_ event: Event, line: Int) throws(YAMLError) -> YAMLNode {
        switch event {
        case .scalar(let text, let plain, let anchor):
            return remember(YAMLNode(value: .scalar(text, plain: plain), line: line), as: anchor)
        case .alias(let name):
            guard let node = anchors[name] else { throw YAMLError(line: line, message: "unknown alias *\(name)") }
            return node
        case .sequenceStart(let anchor):
            try enter(line: line)
            var items: [YAMLNode] = []
            while true {
                let (item, itemLine) = try next()
                if case .sequenceEnd = item { break }
                items.append(try node(item, line: itemLine))
            }
            depth -= 1
            return remember(YAMLNode(value: .sequence(items), line: line), as: anchor)
        case .mappingStart(let anchor):
            try enter(line: line)
            var entries: [(key: String, value: YAMLNode)] = []
            var seen = Set<String>()
            while true {
                let (keyEvent, keyLine) = try next()
                if case .mappingEnd = keyEvent { break }
                guard case .scalar(let key, _) = try node(keyEvent, line: keyLine).value else {
                    throw YAMLError(
                        line: keyLine, message: "a mapping key must be a plain value, not a list or mapping")
                }
                guard seen.insert(key).inserted else {
                    throw YAMLError(line: keyLine, message: "key '\(key)' appears twice in the same mapping")
                }
                let (valueEvent, valueLine) = try next()
                entries.append((key, try node(valueEvent, line: valueLine)))
            }
            depth -= 1
            return remember(YAMLNode(value: .mapping(entries), line: line), as: anchor)
        default:
            throw unexpected(line: line)
        }
    }

    private mutating func enter(line: Int) throws(YAMLError) {
        depth += 1
        guard depth <= Self.maxDepth else {
            throw YAMLError(line: line, message: "nested deeper than \(Self.maxDepth) levels")
        }
    }

    private mutating func remember(_ node: YAMLNode, as anchor: String?) -> YAMLNode {
        if let anchor { anchors[anchor] = node }
        return node
    }

    private func unexpected(line: Int) -> YAMLError {
        YAMLError(line: line, message: "unexpected YAML structure")
    }

    /// The next event, copied out of libyaml's buffers and freed.
    private mutating func next() throws(YAMLError) -> (Event, line: Int) {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else {
            let problem = parser.pointee.problem.map { String(cString: $0) } ?? "invalid YAML"
            let context = parser.pointee.context.map { " \(String(cString: $0))" } ?? ""
            throw YAMLError(line: Int(parser.pointee.problem_mark.line) + 1, message: problem + context)
        }
        defer { yaml_event_delete(&event) }
        let line = Int(event.start_mark.line) + 1
        func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: $0) }
        }
        switch event.type {
        case YAML_STREAM_START_EVENT: return (.streamStart, line)
        case YAML_STREAM_END_EVENT: return (.streamEnd, line)
        case YAML_DOCUMENT_START_EVENT: return (.documentStart, line)
        case YAML_DOCUMENT_END_EVENT: return (.documentEnd, line)
        case YAML_ALIAS_EVENT: return (.alias(text(event.data.alias.anchor) ?? ""), line)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let value = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            return (
                .scalar(value, plain: scalar.style == YAML_PLAIN_SCALAR_STYLE, anchor: text(scalar.anchor)), line
            )
        case YAML_SEQUENCE_START_EVENT: return (.sequenceStart(anchor: text(event.data.sequence_start.anchor)), line)
        case YAML_SEQUENCE_END_EVENT: return (.sequenceEnd, line)
        case YAML_MAPPING_START_EVENT: return (.mappingStart(anchor: text(event.data.mapping_start.anchor)), line)
        case YAML_MAPPING_END_EVENT: return (.mappingEnd, line)
        default: throw YAMLError(line: line, message: "unexpected YAML event")
        }
    }
}
