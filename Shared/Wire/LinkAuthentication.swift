import FleetCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// The fleet secret both ends of a link hold. It never crosses the wire: each side proves it with
/// an HMAC over the other side's fresh nonce (see docs/protocol.md, "Authentication").
public struct FleetSecret: Sendable {
    let key: [UInt8]

    public init(_ bytes: [UInt8]) throws(FleetSecretError) {
        guard bytes.count >= 16 else { throw FleetSecretError(message: "the fleet secret must be at least 16 bytes") }
        self.key = bytes
    }

    /// From `--fleet-secret-file PATH` if given, else the `FLEET_SECRET` environment variable.
    /// A trailing newline in the file is ignored.
    public static func load(file: String?, environment: [String: String]) throws(FleetSecretError) -> FleetSecret {
        if let file {
            guard let contents = readWholeFile(file) else {
                throw FleetSecretError(message: "cannot read the fleet secret file '\(file)'")
            }
            var bytes = contents
            while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
            return try FleetSecret(bytes)
        }
        guard let value = environment["FLEET_SECRET"], !value.isEmpty else {
            throw FleetSecretError(message: "no fleet secret: set FLEET_SECRET or pass --fleet-secret-file PATH")
        }
        return try FleetSecret(Array(value.utf8))
    }

    private static func readWholeFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count > 0 { out.append(contentsOf: chunk[0..<count]) }
            if count < chunk.count { break }
        }
        return ferror(file) == 0 ? out : nil
    }
}

public struct FleetSecretError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The MACs of the challenge-response handshake.
enum LinkAuthentication {
    static let nonceLength = 32
    static let protocolVersion: UInt32 = 1

    /// What the client sends: HMAC(secret, "fleet/v1 client" ‖ server nonce ‖ client nonce ‖ client id).
    static func clientMAC(secret: FleetSecret, serverNonce: [UInt8], clientNonce: [UInt8], clientID: String) -> [UInt8]
    {
        Digest.hmacSHA256(
            key: secret.key, message: Array("fleet/v1 client".utf8) + serverNonce + clientNonce + Array(clientID.utf8))
    }

    /// What the server answers: HMAC(secret, "fleet/v1 server" ‖ client nonce ‖ server nonce ‖ server id).
    static func serverMAC(secret: FleetSecret, clientNonce: [UInt8], serverNonce: [UInt8], serverID: String) -> [UInt8]
    {
        Digest.hmacSHA256(
            key: secret.key, message: Array("fleet/v1 server".utf8) + clientNonce + serverNonce + Array(serverID.utf8))
    }
}
