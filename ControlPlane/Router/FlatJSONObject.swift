/// A JSON object read straight from its bytes, for bodies whose fields are scalars (a signal).
///
/// The whole document is checked against RFC 8259; nested objects and arrays are checked and
/// kept only as their kind, for the caller to refuse. Numbers stay text, as plain decimals
/// (`1.5e3` becomes `1500`), so money never passes through binary floating point.
/// `JSONDecoder` did the same job at ~6% of OPS's event loop per signal.
struct FlatJSONObject {
    enum Value: Equatable {
        case string(String)
        /// A JSON number as plain decimal text: an optional `-`, digits, an optional fraction.
        case number(String)
        case null
        /// `true`, `false`, an object or an array.
        case other(String)
    }

    enum Problem: Error, Equatable {
        /// Not JSON at all; the offset is where reading stopped.
        case notJSON(offset: Int)
        /// Valid JSON, but not an object.
        case notAnObject
    }

    /// Members in document order; a repeated key appears twice (the caller decides).
    private(set) var members: [(key: String, value: Value)] = []

    /// Deeper nesting than this is refused as not JSON: nothing the API accepts nests at all.
    static let maximumDepth = 32
    /// Exponents beyond this are refused: no quantity or price needs one, and `1e999999` must not
    /// become a million digits.
    static let maximumExponent = 64

    init(parsing bytes: [UInt8]) throws(Problem) {
        var reader = Reader(bytes: bytes)
        members.reserveCapacity(8)  // a signal's fields, in one allocation instead of four
        reader.skipWhitespace()
        guard reader.peek() == UInt8(ascii: "{") else {
            // Tell "valid JSON, wrong shape" from "not JSON" as the API's errors do.
            _ = try reader.value(depth: 0)
            reader.skipWhitespace()
            guard reader.isAtEnd else { throw .notJSON(offset: reader.offset) }
            throw .notAnObject
        }
        reader.offset += 1
        reader.skipWhitespace()
        if reader.peek() == UInt8(ascii: "}") {
            reader.offset += 1
        } else {
            while true {
                reader.skipWhitespace()
                let key = try reader.string()
                reader.skipWhitespace()
                try reader.expect(UInt8(ascii: ":"))
                reader.skipWhitespace()
                members.append((key, try reader.value(depth: 1)))
                reader.skipWhitespace()
                if reader.peek() == UInt8(ascii: ",") {
                    reader.offset += 1
                    continue
                }
                try reader.expect(UInt8(ascii: "}"))
                break
            }
        }
        reader.skipWhitespace()
        guard reader.isAtEnd else { throw .notJSON(offset: reader.offset) }
    }
}

extension FlatJSONObject {
    fileprivate struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var isAtEnd: Bool { offset >= bytes.count }

        func peek() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }

        mutating func skipWhitespace() {
            while let byte = peek(),
                byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
                    || byte == UInt8(ascii: "\t")
            {
                offset += 1
            }
        }

        mutating func expect(_ byte: UInt8) throws(Problem) {
            guard peek() == byte else { throw .notJSON(offset: offset) }
            offset += 1
        }

        mutating func literal(_ text: StaticString) throws(Problem) {
            for byte in UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount) {
                try expect(byte)
            }
        }

        mutating func value(depth: Int) throws(Problem) -> Value {
            guard depth <= FlatJSONObject.maximumDepth, let byte = peek() else { throw .notJSON(offset: offset) }
            switch byte {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            case UInt8(ascii: "t"):
                try literal("true")
                return .other("true")
            case UInt8(ascii: "f"):
                try literal("false")
                return .other("false")
            case UInt8(ascii: "{"):
                try skipContainer(close: UInt8(ascii: "}"), depth: depth, keyed: true)
                return .other("an object")
            case UInt8(ascii: "["):
                try skipContainer(close: UInt8(ascii: "]"), depth: depth, keyed: false)
                return .other("an array")
            default: throw .notJSON(offset: offset)
            }
        }

        /// Checks a nested object or array and steps over it.
        mutating func skipContainer(close: UInt8, depth: Int, keyed: Bool) throws(Problem) {
            offset += 1
            skipWhitespace()
            if peek() == close {
                offset += 1
                return
            }
            while true {
                skipWhitespace()
                if keyed {
                    _ = try string()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"))
                    skipWhitespace()
                }
                _ = try value(depth: depth + 1)
                skipWhitespace()
                if peek() == UInt8(ascii: ",") {
                    offset += 1
                    continue
                }
                try expect(close)
                return
            }
        }

        mutating func string() throws(Problem) -> String {
            try expect(UInt8(ascii: "\""))
            let start = offset
            // The common case: no escapes, plain ASCII: one copy into the String.
            while let byte = peek(), byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte >= 0x20, byte < 0x80 {
                offset += 1
            }
            if peek() == UInt8(ascii: "\"") {
                defer { offset += 1 }
                return String(decoding: bytes[start..<offset], as: UTF8.self)
            }
            var unescaped = Array(bytes[start..<offset])
            while true {
                guard let byte = peek() else { throw .notJSON(offset: offset) }
                switch byte {
                case UInt8(ascii: "\""):
                    offset += 1
                    guard let text = String(validating: unescaped, as: UTF8.self) else {
                        throw .notJSON(offset: start)
                    }
                    return text
                case UInt8(ascii: "\\"):
                    offset += 1
                    try unescape(into: &unescaped)
                case 0..<0x20:
                    throw .notJSON(offset: offset)  // control characters must be escaped
                default:
                    unescaped.append(byte)
                    offset += 1
                }
            }
        }

        mutating func unescape(into output: inout [UInt8]) throws(Problem) {
            guard let byte = peek() else { throw .notJSON(offset: offset) }
            offset += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(byte)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    try literal("\\u")
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw .notJSON(offset: offset - 4) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw .notJSON(offset: offset - 4) }
                var encoded = ""
                encoded.unicodeScalars.append(unicode)
                output.append(contentsOf: encoded.utf8)
            default: throw .notJSON(offset: offset - 1)
            }
        }

        mutating func hex4() throws(Problem) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = peek() else { throw .notJSON(offset: offset) }
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                default: throw .notJSON(offset: offset)
                }
                value = value << 4 | digit
                offset += 1
            }
            return value
        }

        /// A JSON number (RFC 8259 grammar) as plain decimal text.
        mutating func number() throws(Problem) -> String {
            let negative = peek() == UInt8(ascii: "-")
            if negative { offset += 1 }
            let integerStart = offset
            if peek() == UInt8(ascii: "0") {
                offset += 1
            } else {
                try digits()
            }
            let integer = bytes[integerStart..<offset]
            var fraction: ArraySlice<UInt8> = []
            if peek() == UInt8(ascii: ".") {
                offset += 1
                let fractionStart = offset
                try digits()
                fraction = bytes[fractionStart..<offset]
            }
            var exponent = 0
            if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
                offset += 1
                var exponentNegative = false
                if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                    exponentNegative = sign == UInt8(ascii: "-")
                    offset += 1
                }
                let exponentStart = offset
                try digits()
                for byte in bytes[exponentStart..<offset] {
                    exponent = exponent * 10 + Int(byte - UInt8(ascii: "0"))
                    guard exponent <= FlatJSONObject.maximumExponent else { throw .notJSON(offset: exponentStart) }
                }
                if exponentNegative { exponent = -exponent }
            }
            return Self.plainDecimal(
                negative: negative, digits: Array(integer) + Array(fraction), point: integer.count + exponent)
        }

        /// `digits` with the decimal point after `point` of them (before the first if negative),
        /// without zeros that say nothing: `0.10`, `1e-1` and `0.001e2` all read `0.1`.
        static func plainDecimal(negative: Bool, digits: [UInt8], point: Int) -> String {
            var whole: [UInt8]
            var fraction: [UInt8]
            if point <= 0 {
                whole = [UInt8(ascii: "0")]
                fraction = Array(repeating: UInt8(ascii: "0"), count: -point) + digits
            } else if point >= digits.count {
                whole = digits + Array(repeating: UInt8(ascii: "0"), count: point - digits.count)
                fraction = []
            } else {
                whole = Array(digits[..<point])
                fraction = Array(digits[point...])
            }
            while fraction.last == UInt8(ascii: "0") { fraction.removeLast() }
            while whole.count > 1, whole.first == UInt8(ascii: "0") { whole.removeFirst() }
            var text: [UInt8] = negative ? [UInt8(ascii: "-")] : []
            text += whole
            if !fraction.isEmpty { text += [UInt8(ascii: ".")] + fraction }
            return String(decoding: text, as: UTF8.self)
        }

        /// One or more decimal digits.
        mutating func digits() throws(Problem) {
            let start = offset
            while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { offset += 1 }
            guard offset > start else { throw .notJSON(offset: offset) }
        }
    }
}
