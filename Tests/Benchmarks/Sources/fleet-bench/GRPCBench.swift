import ArgumentParser

extension FleetBench {
    /// The gRPC twins, when built with the GRPC trait (the default; bench.sh --quick builds without it).
    static var grpcSubcommands: [any ParsableCommand.Type] {
        #if GRPC
            [GRPCRPC.self, GRPCSubmit.self]
        #else
            []
        #endif
    }
}

#if GRPC
    import BenchGRPC
    import FleetProto
    import FleetWire
    import GRPCCore
    import GRPCNIOTransportHTTP2Posix
    import NIOCore
    import NIOPosix
    import SwiftProtobuf

    // The gRPC twins of `rpc` and `submit`: the same calls to the same engine service (grpc-engine-paper
    // serves its FleetService over grpc-swift-2), driven by the same `drive`, over one HTTP/2 connection
    // (plaintext) on which the in-flight calls are multiplexed.

    struct GRPCTargetOptions: ParsableArguments {
        @Option(help: "gRPC address of grpc-engine-paper (numeric IPv4).") var host: String = "127.0.0.1"
        @Option var port: Int = 7200
    }

    typealias BenchEngineClient = Fleet_Bench_V1_BenchEngine.Client<HTTP2ClientTransport.Posix>

    /// Runs `body` with a client on one connection. As for the framed link, the connection and the
    /// callers share one event loop (the callers' tasks prefer it), so a call needs no thread hop.
    func withBenchEngineClient(
        _ target: GRPCTargetOptions, _ body: @escaping @Sendable (BenchEngineClient) async throws -> Void
    ) async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: target.host, port: target.port), transportSecurity: .plaintext, eventLoopGroup: loop)
        try await withGRPCClient(transport: transport) { client in
            let engine = BenchEngineClient(wrapping: client)
            try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) { try await body(engine) }
        }
    }

    struct GRPCRPC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "grpc-rpc", abstract: "No-op calls over gRPC (HTTP/2, one connection): the twin of `rpc`.")
        @OptionGroup var target: GRPCTargetOptions
        @OptionGroup var load: LoadOptions

        func run() async throws {
            let load = self.load
            try await withBenchEngineClient(target) { engine in
                _ = try await drive("grpc-noop", load) { _ in
                    do {
                        _ = try await engine.noop(Google_Protobuf_Empty())
                        return nil
                    } catch {
                        return failureKind(error)
                    }
                }
            }
        }
    }

    struct GRPCSubmit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "grpc-submit",
            abstract: "SubmitOrder over gRPC (HTTP/2, one connection): the twin of `submit`.")
        @OptionGroup var target: GRPCTargetOptions
        @OptionGroup var load: LoadOptions
        @Option(help: "Symbol to trade.") var symbol: String = "BTCUSDT.PAPER"

        func run() async throws {
            let load = self.load
            let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
            let symbol = self.symbol
            // The framed `submit` sends a 5 s deadline; gRPC carries the same as the call's timeout.
            var options = CallOptions.defaults
            options.timeout = .seconds(5)
            try await withBenchEngineClient(target) { [options] engine in
                _ = try await drive("grpc-submit-order", load) { index in
                    var request = Fleet_V1_SubmitOrderRequest()
                    request.clientOrderID = orderID(run: run, index: index)
                    request.symbol = symbol
                    request.side = index % 2 == 0 ? .buy : .sell  // flat on average: stays inside the position limit
                    request.type = .market
                    request.quantityE8 = 100_000  // 0.001
                    request.model = "bench"
                    do {
                        return orderFailure(try await engine.submitOrder(request, options: options).order)
                    } catch {
                        return failureKind(error)
                    }
                }
            }
        }
    }
#endif
