import BenchGRPC
import FleetProto
import FleetWire
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix

/// `HOST:PORT` for the gRPC listener: a numeric IPv4 address, or IPv6 in brackets (`[::1]:7200`).
struct GRPCListenAddress: Sendable {
    let host: String
    let port: Int
    let isIPv6: Bool

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        isIPv6 = host.hasPrefix("[") && host.hasSuffix("]")
        if isIPv6 { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    var socketAddress: GRPCNIOTransportCore.SocketAddress {
        isIPv6 ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port)
    }
}

/// Serves an engine's FleetService as the gRPC service `fleet.bench.v1.BenchEngine`.
enum GRPCTwin {
    /// Starts the server and returns once it listens (a bind failure throws here and stops the
    /// engine); the returned function shuts it down gracefully and waits for it.
    static func start(
        service: any FleetService, address: GRPCListenAddress
    ) async throws -> @Sendable () async -> Void {
        let server = GRPCServer(
            transport: .http2NIOPosix(address: address.socketAddress, transportSecurity: .plaintext),
            services: [FleetServiceOverGRPC(service: service)])
        let serving = Task { try await server.serve() }
        do {
            _ = try await server.listeningAddress
        } catch {
            serving.cancel()
            if case .failure(let failure) = await serving.result { throw failure }
            throw error
        }
        return {
            server.beginGracefulShutdown()
            _ = await serving.result
        }
    }
}

/// The gRPC methods registered by hand with pass-through coders, so a request's bytes reach the
/// engine's FleetService undecoded (as on the framed link, where the service decodes the payload)
/// and its reply bytes go out unencoded. The descriptors come from the generated code.
struct FleetServiceOverGRPC: RegistrableRPCService {
    let service: any FleetService

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        register(Fleet_Bench_V1_BenchEngine.Method.Noop.descriptor, as: .noop, with: &router)
        register(Fleet_Bench_V1_BenchEngine.Method.SubmitOrder.descriptor, as: .submitOrder, with: &router)
    }

    private func register<Transport: ServerTransport>(
        _ descriptor: MethodDescriptor, as method: Fleet_V1_Method, with router: inout RPCRouter<Transport>
    ) {
        let service = self.service
        router.registerHandler(forMethod: descriptor, deserializer: PassThroughCoder(), serializer: PassThroughCoder())
        {
            stream, _ in
            let request = try await GRPCCore.ServerRequest(stream: stream)
            // No deadline here: gRPC enforces the call's timeout itself by cancelling the handler.
            let result = await service.handle(
                FleetWire.ServerRequest(
                    streamID: 0, method: method, deadlineUnixNanos: 0, payload: request.message, clientID: "grpc"),
                events: nil)
            switch result {
            case .success(let reply):
                return StreamingServerResponse(single: ServerResponse(message: reply))
            case .failure(let status):
                throw RPCError(code: RPCError.Code(status.code), message: status.message)
            }
        }
    }
}

/// Message bytes in and out as they are.
struct PassThroughCoder: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: Data) throws -> Bytes { Bytes(message) }
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Data {
        serializedMessageBytes.withUnsafeBytes { Data($0) }
    }
}

extension RPCError.Code {
    /// The fleet's status codes are gRPC's numbering.
    init(_ code: Fleet_V1_StatusCode) {
        self = Status.Code(rawValue: code.rawValue).flatMap(RPCError.Code.init) ?? .internalError
    }
}
