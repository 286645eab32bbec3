import TradingDomain

/// Writes one flat JSON object straight into bytes, for the hot paths that answer or record every
/// order: the engine's audit lines and OPS's answer to a signal. Foundation's `JSONEncoder` took a
/// tenth of OPS's event loop per signal (reflection through `Encodable`, an intermediate tree, a
/// `Data`); this appends each field as it is given.
///
/// Keys are written in the order given (callers that promise sorted keys give them sorted); a
/// key is written once. Strings are escaped as RFC 8259 requires; decimals are JSON strings, as
/// `Fixed`'s `Encodable` writes them, so no value passes through binary floating point.
///
/// Not copyable: a copy would share the byte buffer, and the next append would then copy all of
/// it. The engine's audit lines share one buffer per batch; as a copyable struct, handing the
/// writer to `finish()` copied it, so every line copied the batch's bytes so far (a third of the
/// group-commit thread's time at ×256, in `memcpy`).
public struct JSONObjectWriter: ~Copyable {
    public private(set) var bytes: [UInt8]
    private var isEmpty = true

    /// Starts an object; `capacity` bytes are reserved for it.
    public init(capacity: Int = 256) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(capacity)
        self.init(appendingTo: consume bytes)
    }

    /// Starts an object at the end of `bytes` (many audit lines share one buffer; `finish` hands
    /// it back, moved, not copied).
    public init(appendingTo bytes: consuming [UInt8]) {
        // `consume`: a consuming parameter otherwise lives (and holds the buffer) to the end of the
        // init, so the append below found the buffer shared and copied it.
        self.bytes = consume bytes
        self.bytes.append(UInt8(ascii: "{"))
    }

    public mutating func field(_ key: String, _ value: String) {
        self.key(key)
        bytes.append(UInt8(ascii: "\""))
        Self.appendEscaped(value, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A decimal, as a string (`"0.001"`).
    public mutating func field(_ key: String, _ value: Fixed) {
        self.key(key)
        bytes.append(UInt8(ascii: "\""))
        value.write(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func field(_ key: String, _ value: Bool) {
        self.key(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func field(_ key: String, _ value: Int64) {
        self.key(key)
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        Fixed.writeDigits(value.magnitude, to: &bytes)
    }

    /// An instrument as `SYMBOL.VENUE`, without making a String.
    public mutating func field(_ key: String, _ value: InstrumentID) {
        self.key(key)
        bytes.append(UInt8(ascii: "\""))
        Self.appendEscaped(value.symbol, to: &bytes)  // validated when parsed; escaped all the same
        bytes.append(UInt8(ascii: "."))
        Self.appendEscaped(value.venue.rawValue, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes the field only when there is a value: an absent optional is left out, as
    /// `Encodable`'s synthesized conformances do.
    public mutating func field(_ key: String, ifPresent value: String?) {
        if let value { field(key, value) }
    }

    public mutating func field(_ key: String, ifPresent value: Fixed?) {
        if let value { field(key, value) }
    }

    /// Closes the object and returns its bytes.
    public consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private mutating func key(_ key: String) {
        if isEmpty { isEmpty = false } else { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        Self.appendEscaped(key, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// Appends `text` escaped for the inside of a JSON string. Text with nothing to escape (ids,
    /// symbols, numbers: nearly all of it) is copied in one piece.
    public static func appendEscaped(_ text: String, to buffer: inout [UInt8]) {
        // Native strings are contiguous UTF-8: one scan and one copy, no per-byte iterator.
        let copied = text.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            guard utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }) else { return false }
            buffer.append(contentsOf: utf8)
            return true
        }
        if copied == true { return }
        for byte in text.utf8 {
            switch byte {
            case 0x22: buffer.append(contentsOf: #"\""#.utf8)
            case 0x5C: buffer.append(contentsOf: #"\\"#.utf8)
            case 0x0A: buffer.append(contentsOf: #"\n"#.utf8)
            case 0x0D: buffer.append(contentsOf: #"\r"#.utf8)
            case 0x09: buffer.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                // Other control characters as \u00XX; bytes of multi-byte characters (>= 0x80)
                // pass through unchanged, which keeps the UTF-8 valid.
                let hex = Array("0123456789abcdef".utf8)
                buffer.append(contentsOf: #"\u00"#.utf8)
                buffer.append(hex[Int(byte >> 4)])
                buffer.append(hex[Int(byte & 0x0F)])
            default: buffer.append(byte)
            }
        }
    }
}
