import ArgumentParser
import FleetProto
import FleetWire
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TradingDomain

#if canImport(Glibc)
    import Glibc
#endif

@main
struct FleetBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet-bench",
        abstract: "Load generator for the fleet: framed RPC, SubmitOrder, and signals through OPS.",
        discussion: """
            Open-loop (--rate R): requests are scheduled at fixed intervals and each latency is measured from its
            intended send time, so a stall shows up in the percentiles instead of slowing the load (no coordinated
            omission). Closed-loop (--rate 0): --concurrency callers back to back, for throughput.
            Prints one JSON line and one markdown table row per run.
            """,
        subcommands: [RPC.self, Submit.self, SignalPath.self, TCPPingPong.self, TCPEcho.self] + grpcSubcommands)
}

struct LoadOptions: ParsableArguments {
    @Option(help: "Requests per second, open-loop; 0 for closed-loop throughput.") var rate: Double = 0
    @Option(help: "Seconds of measured load.") var duration: Double = 5
    @Option(help: "Warm-up seconds, not measured.") var warmup: Double = 1
    @Option(help: "Closed-loop callers (or in-flight cap for open-loop).") var concurrency: Int = 64
    @Option(help: "Closed-loop: stop after this many requests (0: run for --duration).") var count: Int = 0
    @Option(
        name: .customLong("cpu-of"),
        help:
            "Report CPU µs per request of a process under test over the measured window: NAME=PID or NAME=PID/TID (repeatable; this client is always reported)."
    )
    var cpuOf: [String] = []
    @Option(
        name: .customLong("latency-log"),
        help: ArgumentHelp(
            "Write each measured request to FILE as '<due ns> <latency ns>', to see when the tail happens.",
            discussion:
                "Due is the request's intended send time (open-loop) or its send time (closed-loop), from the start of the measured window.",
            valueName: "FILE"))
    var latencyLog: String?

    func validate() throws {
        do { _ = try CPUSampler(specs: cpuOf) } catch { throw ValidationError("\(error)") }
    }
}

struct EngineOptions: ParsableArguments {
    @Option(help: "Engine RPC address.") var host: String = "127.0.0.1"
    @Option var port: Int = 7100
}

/// Drives `call` under the load options; `call` returns false on error. `pacer`: the event loop
/// the caller runs on (its task executor), whose timers pace open-loop sends.
func drive(
    _ name: String, _ load: LoadOptions, pacer: (any EventLoop)? = nil,
    call: @escaping @Sendable (Int) async -> String?
) async throws -> RunReport {
    let log = try load.latencyLog.map { path throws(LatencyLog.Failure) in try LatencyLog(path: path) }
    // Warm-up.
    let warmEnd = MonotonicClock.nanos() + Int64(load.warmup * 1e9)
    await withTaskGroup(of: Void.self) { group in
        for worker in 0..<min(load.concurrency, 8) {
            group.addTask {
                var i = worker; while MonotonicClock.nanos() < warmEnd { _ = await call(-1 - i); i += 8 }
            }
        }
    }
    let recorder = LatencyRecorder()
    // Validated with the options (`LoadOptions.validate`).
    let sampler = try? CPUSampler(specs: load.cpuOf)
    let cpuStart = sampler?.sample() ?? []
    let start = MonotonicClock.nanos()
    let end = start + Int64(load.duration * 1e9)
    if load.rate > 0 {
        let interval = 1e9 / load.rate
        await withTaskGroup(of: Void.self) { group in
            var index = 0
            while true {
                let intended = start + Int64(Double(index) * interval)
                if intended >= end { break }
                let wait = intended - MonotonicClock.nanos()
                if wait > 50_000 { await pause(nanos: wait, on: pacer) }
                let sequence = index
                group.addTask {
                    if let failure = await call(sequence) {
                        recorder.error(failure)
                    } else {
                        let latency = MonotonicClock.nanos() - intended
                        recorder.record(nanos: latency)
                        log?.record(due: intended - start, latency: latency)
                    }
                }
                index += 1
            }
        }
    } else {
        let next = SequenceCounter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<load.concurrency {
                group.addTask {
                    while MonotonicClock.nanos() < end {
                        let sequence = next.take()
                        if load.count > 0 && sequence >= load.count { break }
                        let sent = MonotonicClock.nanos()
                        if let failure = await call(sequence) {
                            recorder.error(failure)
                        } else {
                            let latency = MonotonicClock.nanos() - sent
                            recorder.record(nanos: latency)
                            log?.record(due: sent - start, latency: latency)
                        }
                    }
                }
            }
        }
    }
    let seconds = Double(MonotonicClock.nanos() - start) / 1e9
    let summary = recorder.summary()
    let cpu = sampler.map { $0.perRequest(from: cpuStart, to: $0.sample(), requests: summary.count) } ?? []
    let report = RunReport(
        bench: name, mode: load.rate > 0 ? "open" : "closed", offeredRate: load.rate > 0 ? load.rate : nil,
        concurrency: load.concurrency, seconds: seconds, summary: summary, cpuMicrosPerRequest: cpu)
    print(report.json())
    print(report.row())
    try log?.write()
    return report
}

/// Waits `nanos`. On the caller's own event loop the wait is a timer of that loop: no timer
/// thread and no wake-up of another thread per send, which at 10,000 sends/s cost the client more
/// CPU than the engine under test used (Task.sleep: a Dispatch timer, then a hop back).
func pause(nanos: Int64, on loop: (any EventLoop)?) async {
    guard let loop else {
        try? await Task.sleep(for: .nanoseconds(nanos))
        return
    }
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        loop.scheduleTask(in: .nanoseconds(nanos)) { continuation.resume() }
    }
}

func connect(_ engine: EngineOptions) async throws -> FleetClient {
    let secret = try FleetSecret.load(file: nil, environment: ProcessInfo.processInfo.environment)
    return try await FleetClient.connect(
        host: engine.host, port: engine.port, secret: secret, configuration: .init(clientID: "bench"),
        group: MultiThreadedEventLoopGroup.singleton)
}

struct RPC: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "No-op calls over one framed link (the link alone).")
    @OptionGroup var engine: EngineOptions
    @OptionGroup var load: LoadOptions

    func run() async throws {
        let client = try await connect(engine)
        // Callers run on the link's event loop (as OPS's engine links can): no thread hop per call.
        try await withTaskExecutorPreference(EventLoopTaskExecutor(client.eventLoop)) {
            _ = try await drive("rpc-noop", load, pacer: client.eventLoop) { _ in
                do {
                    _ = try await client.call(.noop, payload: Data(), deadlineUnixNanos: 0)
                    return nil
                } catch {
                    return failureKind(error)
                }
            }
        }
        await client.close()
    }
}

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "SubmitOrder to an engine: acknowledged after the intent and the fill are durable.")
    @OptionGroup var engine: EngineOptions
    @OptionGroup var load: LoadOptions
    @Option(help: "Symbol to trade.") var symbol: String = "BTCUSDT.PAPER"

    func run() async throws {
        let client = try await connect(engine)
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let symbol = self.symbol
        try await withTaskExecutorPreference(EventLoopTaskExecutor(client.eventLoop)) {
            _ = try await drive("submit-order", load, pacer: client.eventLoop) { index in
                var request = Fleet_V1_SubmitOrderRequest()
                request.clientOrderID = orderID(run: run, index: index)
                request.symbol = symbol
                request.side = index % 2 == 0 ? .buy : .sell  // flat on average: stays inside the position limit
                request.type = .market
                request.quantityE8 = 100_000  // 0.001
                request.model = "bench"
                do {
                    let reply: Fleet_V1_SubmitOrderResponse = try await client.call(.submitOrder, request)
                    return orderFailure(reply.order)
                } catch {
                    return failureKind(error)
                }
            }
        }
        await client.close()
    }
}

struct SignalPath: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal", abstract: "POST /strategy/signal through OPS to an engine and back (HTTP keep-alive).")
    @Option(help: "OPS base URL.") var url: String = "http://127.0.0.1:8080"
    @OptionGroup var load: LoadOptions
    @Option(help: "Symbol to trade.") var symbol: String = "BTCUSDT.PAPER"
    @Option(
        help: ArgumentHelp(
            "X-Idempotency-Key format: uuid7 or opaque.",
            discussion:
                "uuid7 (RFC 9562, time-ordered, a common idempotency key) gives OPS a key whose time it puts first in the client order id, so the engine's B-trees append; opaque ('bench-<run>-<n>') gets a hashed, unordered id. The JSON line's bench is ops-signal or ops-signal-opaque-keys."
        ))
    var keys: KeyFormat = .uuid7

    enum KeyFormat: String, ExpressibleByArgument, CaseIterable {
        case uuid7, opaque
    }

    func run() async throws {
        guard let token = ProcessInfo.processInfo.environment["OPS_API_TOKEN"] else {
            throw ValidationError("set OPS_API_TOKEN")
        }
        let pool = try await HTTPPool(url: self.url, size: load.concurrency)
        let symbol = self.symbol
        let runBits = UInt32.random(in: 0...UInt32.max)
        let run = String(runBits, radix: 36)
        let keys = self.keys
        // Callers run on the pool's event loop: a post and its reply need no thread hop.
        try await withTaskExecutorPreference(EventLoopTaskExecutor(pool.eventLoop)) {
            let name = keys == .uuid7 ? "ops-signal" : "ops-signal-opaque-keys"
            _ = try await drive(name, load, pacer: pool.eventLoop) { index in
                let side = index % 2 == 0 ? "BUY" : "SELL"
                // A key per signal, as a real strategy sends: OPS makes it durable before the order leaves.
                let key =
                    switch keys {
                    case .uuid7:
                        uuidV7(unixMillis: UInt64(Date().timeIntervalSince1970 * 1000), run: runBits, index: index)
                    case .opaque: "bench-\(run)-\(index)"
                    }
                let body = Array(#"{"symbol":"\#(symbol)","side":"\#(side)","quantity":"0.001","model":"bench"}"#.utf8)
                let status = await pool.post(
                    path: "/strategy/signal",
                    headers: [
                        ("X-OPS-TOKEN", token), ("Content-Type", "application/json"), ("X-Idempotency-Key", key),
                    ],
                    body: body)
                guard let status else { return "no HTTP response" }
                return status == 200 ? nil : "HTTP \(status)"
            }
        }
        await pool.close()
    }
}

/// An RFC 9562 UUIDv7 in its text form: the time, then the run and the request's index where the
/// RFC puts random bits (unique within a run, and across runs but for a 1 in 2³² clash).
func uuidV7(unixMillis: UInt64, run: UInt32, index: Int) -> String {
    let randA = UInt64(run & 0xFFF)
    let randB = UInt64(run >> 12) << 32 | UInt64(UInt32(truncatingIfNeeded: index))
    let high = unixMillis << 16 | 0x7000 | randA
    let low = 0x8000_0000_0000_0000 | randB
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for (word, range) in [(high, 0..<16), (low, 16..<32)] {
        for nibble in range {
            if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(word >> (60 - 4 * UInt64(nibble % 16)) & 0xF)])
        }
    }
    return String(decoding: text, as: UTF8.self)
}

/// What a failed call was, for the run's `error_kinds`: the RPC status code, or the error's type.
func failureKind(_ error: any Error) -> String {
    if let status = error as? RPCStatus { return "\(status.code)" }
    return "\(type(of: error))"
}

/// nil for a filled order (what every benchmark order should be), else its status and why.
func orderFailure(_ order: Fleet_V1_Order) -> String? {
    guard order.status != .filled else { return nil }
    return order.rejectReason.isEmpty ? "order \(order.status)" : "order \(order.status) \(order.rejectReason)"
}

/// `b-<run>-<index, zero-padded>`: ids that sort in the order they are sent, as OPS's own ids for
/// unkeyed signals do (time-ordered). Unpadded indices ("...-12345" sorts between "...-1234" and
/// "...-1235") scatter the ledger's inserts across its B-tree pages the way random ids would.
func orderID(run: String, index: Int) -> String {
    let digits = String(index < 0 ? -index : index)
    return "b-\(run)-\(index < 0 ? "w" : "")\(String(repeating: "0", count: max(0, 12 - digits.count)))\(digits)"
}

/// Hands out request numbers to many tasks.
final class SequenceCounter: Sendable {
    private let value = Atomic<Int>(0)
    func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}
