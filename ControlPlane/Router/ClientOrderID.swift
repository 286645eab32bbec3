import FleetCrypto

/// The client order ids OPS gives signals' orders (docs/architecture.md, "Exactly-once").
///
/// Why the shapes: the engine's ledger and the paper venue key orders by client order id, so ids
/// that sort in the order they are made append to the same B-tree pages, while unordered ids
/// dirty a random page per order in each tree (~40% of the engine's CPU per signal; session 14 in
/// docs/benchmark-notes.md).
enum ClientOrderID {
    /// For a keyed signal: a function of the key (and its lifetime window, in `digest`) alone, so
    /// an OPS that lost its state still sends a retry the same id.
    ///
    /// `digest` is SHA-256 of the key and its window. When the key carries its creation time (a
    /// UUIDv7 or a ULID, which strategies commonly use as idempotency keys), the id begins with
    /// that time, so keyed orders sort by time as unkeyed ones do: `s-` + 12 hex digits of the
    /// key's Unix milliseconds + 20 hex digits of the digest (34 characters). Otherwise `s-` + 24
    /// hex digits of the digest (26 characters).
    static func keyed(key: String, digest: [UInt8]) -> String {
        guard let millis = creationMillis(ofKey: key) else { return text(hexDigits: 0, of: 0, then: digest[4..<16]) }
        return text(hexDigits: 12, of: millis, then: digest[4..<14])
    }

    /// For a signal without a key: `s-` + the time in 16 hex digits + 16 random hex digits.
    static func unkeyed(at unixNanos: Int64) -> String {
        text(hexDigits: 16, of: UInt64(max(0, unixNanos)), then: Digest.randomBytes(8)[...])
    }

    /// `s-`, the last `count` hex digits of `value`, then `bytes` in hex, written in place: one
    /// allocation per id (there were nine per keyed signal, in arrays and concatenations).
    private static func text(hexDigits count: Int, of value: UInt64, then bytes: ArraySlice<UInt8>) -> String {
        String(unsafeUninitializedCapacity: 2 + count + bytes.count * 2) { out in
            out[0] = UInt8(ascii: "s")
            out[1] = UInt8(ascii: "-")
            var index = 2
            for digit in 0..<count {
                let shift = UInt64(4 * (count - 1 - digit))
                out[index] = Digest.hexDigit(UInt8(truncatingIfNeeded: value >> shift) & 0x0f)
                index += 1
            }
            return bytes.withUnsafeBufferPointer { Digest.writeHex($0, into: out, at: index) }
        }
    }

    /// The Unix milliseconds a UUIDv7 (RFC 9562, in its 36-character text form) or a ULID (26
    /// Crockford base-32 characters) begins with; nil for any other key.
    static func creationMillis(ofKey key: String) -> UInt64? {
        switch key.utf8.count {
        case 36: uuidV7Millis(key.utf8)
        case 26: ulidMillis(key.utf8)
        default: nil
        }
    }

    private static func uuidV7Millis(_ text: String.UTF8View) -> UInt64? {
        var millis: UInt64 = 0
        var nibble = 0
        for (index, byte) in text.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard let value = hexValue(byte) else { return nil }
            // The time in the first 12 hex digits, version 7 in the 13th, the RFC 9562 variant
            // (binary 10xx) in the 17th.
            if nibble < 12 { millis = millis << 4 | UInt64(value) }
            if nibble == 12, value != 7 { return nil }
            if nibble == 16, value & 0b1100 != 0b1000 { return nil }
            nibble += 1
        }
        return millis
    }

    private static func ulidMillis(_ text: String.UTF8View) -> UInt64? {
        var millis: UInt64 = 0
        for (index, byte) in text.enumerated() {
            guard let value = crockfordValue(byte) else { return nil }
            if index < 10 { millis = millis << 5 | UInt64(value) }
        }
        // Ten characters hold 50 bits, of which a ULID's time uses 48: "7ZZZZZZZZZ" is the largest.
        guard millis >> 48 == 0 else { return nil }
        return millis
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Crockford's base 32: digits and letters without I, L, O and U, either case.
    private static let crockford = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    private static func crockfordValue(_ byte: UInt8) -> UInt8? {
        let upper = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte
        return crockford.firstIndex(of: upper).map { UInt8($0) }
    }
}
