/// Exact decimal text for `Fixed`: JSON, CSV, YAML and logs carry money as strings such as
/// "-12.5", never as binary floating point.
extension Fixed: CustomStringConvertible, LosslessStringConvertible, Codable {
    /// Parses "123", "-0.5", "1e-3" is refused; at most 8 decimals, no exponent, no separators.
    public init?(_ text: String) {
        guard let value = try? Fixed(parsing: text) else { return nil }
        self = value
    }

    /// Parses decimal text exactly, or throws an error that says what is wrong with it.
    public init(parsing text: String) throws(FixedParseError) {
        var bytes = Substring(text).utf8[...]
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var sawDigit = false
        var sawPoint = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard !sawPoint else { throw FixedParseError(text: text, problem: "more than one decimal point") }
                sawPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                throw FixedParseError(text: text, problem: "not a plain decimal number")
            }
            sawDigit = true
            let digit = Int64(byte - UInt8(ascii: "0"))
            if sawPoint {
                fractionDigits += 1
                guard fractionDigits <= Fixed.decimals else {
                    throw FixedParseError(text: text, problem: "more than \(Fixed.decimals) decimal places")
                }
                fraction = fraction * 10 + digit
            } else {
                let (times10, o1) = whole.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.addingReportingOverflow(digit)
                guard !o1, !o2 else { throw FixedParseError(text: text, problem: "out of range") }
                whole = next
            }
        }
        guard sawDigit else { throw FixedParseError(text: text, problem: "no digits") }
        for _ in fractionDigits..<Fixed.decimals { fraction *= 10 }
        let (scaled, o1) = whole.multipliedReportingOverflow(by: Fixed.unitsPerOne)
        let (magnitude, o2) = scaled.addingReportingOverflow(fraction)
        guard !o1, !o2 else { throw FixedParseError(text: text, problem: "out of range") }
        self.init(units: negative ? -magnitude : magnitude)
    }

    /// Shortest exact text: "12.5", "-0.00000001", "0".
    public var description: String {
        var text: [UInt8] = []
        text.reserveCapacity(24)
        write(to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends `description`'s UTF-8 to `text` without making a String (the audit writes several
    /// per order).
    public func write(to text: inout [UInt8]) {
        if units < 0 { text.append(UInt8(ascii: "-")) }
        let magnitude = units.magnitude
        Self.writeDigits(magnitude / UInt64(Fixed.unitsPerOne), to: &text)
        var fraction = magnitude % UInt64(Fixed.unitsPerOne)
        guard fraction != 0 else { return }
        var digits = Fixed.decimals
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        text.append(UInt8(ascii: "."))
        var width = 0
        var rest = fraction
        repeat {
            width += 1
            rest /= 10
        } while rest > 0
        text.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits - width))
        Self.writeDigits(fraction, to: &text)
    }

    /// Appends `value` in decimal.
    public static func writeDigits(_ value: UInt64, to text: inout [UInt8]) {
        // The digits go right to left into a buffer on the stack, then are appended in one go:
        // reversing `text[start...]` in place made a heap copy of the digits on every call (the
        // slice shares `text`'s buffer), ~5 mallocs per order in the engine's audit lines.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: UInt64.max has 20 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var start = buffer.count
            var rest = value
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            text.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = try Fixed(parsing: text)
        } else {
            // JSON numbers are accepted only when they are whole: a fractional JSON number has
            // already passed through binary floating point in the decoder and may not be exact.
            let whole = try container.decode(Int64.self)
            guard let value = Fixed(units: Fixed.unitsPerOne).multiplied(byInteger: whole) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "number out of range")
            }
            self = value
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Decimal text that is not an exact `Fixed`.
public struct FixedParseError: Error, CustomStringConvertible, Equatable {
    public let text: String
    public let problem: String
    public var description: String { "'\(text)' is not a valid decimal: \(problem)" }
}
