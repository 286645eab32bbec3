import CGcrypt

/// HMAC and hashing from the system's libgcrypt, random bytes from the kernel, for link
/// authentication and deterministic ids.
///
/// Why libgcrypt and not OpenSSL's libcrypto: the engine already maps libgcrypt (libsystemd
/// links it), while OpenSSL 3 initialises its provider machinery on the first digest, which keeps
/// about 2 MB more resident in every process (measured; docs/benchmarks.md, idle memory).
public enum Digest {
    /// libgcrypt must be initialised once, before any other call; a Swift static runs this exactly once.
    private static let ready: Bool = fleet_gcrypt_initialize() == 1

    /// HMAC-SHA256 of `message` under `key`: 32 bytes.
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        precondition(ready, "libgcrypt is older than the version this was built against")
        var out = [UInt8](repeating: 0, count: 32)
        let ok = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                fleet_gcrypt_hmac_sha256(
                    keyBytes.baseAddress, keyBytes.count, messageBytes.baseAddress, messageBytes.count, &out)
            }
        }
        // Only fails for an unknown algorithm, which SHA-256 never is.
        precondition(ok == 1, "libgcrypt refused HMAC-SHA256")
        return out
    }

    /// SHA-256 of `data`: 32 bytes.
    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { sha256(bytes: $0) }
    }

    /// SHA-256 of `text`'s UTF-8, without copying it into an array first.
    public static func sha256(utf8 text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { sha256(bytes: UnsafeRawBufferPointer($0)) }
    }

    private static func sha256(bytes: UnsafeRawBufferPointer) -> [UInt8] {
        precondition(ready, "libgcrypt is older than the version this was built against")
        return [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            gcry_md_hash_buffer(Int32(GCRY_MD_SHA256.rawValue), out.baseAddress, bytes.baseAddress, bytes.count)
            count = 32
        }
    }

    /// `count` bytes from the kernel's CSPRNG (`SystemRandomNumberGenerator` is getrandom(2) on Linux).
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var out: [UInt8] = []
        out.reserveCapacity(count + 8)
        while out.count < count { withUnsafeBytes(of: generator.next() as UInt64) { out.append(contentsOf: $0) } }
        out.removeLast(out.count - count)
        return out
    }

    /// Compares two MACs in constant time: every byte is looked at whatever differs.
    public static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }

    /// Lower-case hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        // Written straight into the String's storage: one allocation (three before, with the
        // digits table and a byte array, twice per keyed signal).
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            bytes.withUnsafeBufferPointer { writeHex($0, into: out, at: 0) }
        }
    }

    /// Writes lower-case hex of `bytes` into `out` from `start`; returns the index after it.
    public static func writeHex(
        _ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int
    ) -> Int {
        var index = start
        for byte in bytes {
            out[index] = hexDigit(byte >> 4)
            out[index + 1] = hexDigit(byte & 0x0f)
            index += 2
        }
        return index
    }

    /// The lower-case hex digit of a value below 16.
    @inlinable
    public static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
