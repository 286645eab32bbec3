import FleetProto
import FleetTestKit
import FleetWire
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwiftProtobuf
import Testing

/// The link over real loopback sockets: handshake, many calls in flight, deadlines, subscription
/// events, bad peers, goaway.
@Suite(.serialized)
struct LinkTests {
    final class RecordingService: FleetService {
        let serverID = "test-engine"
        let venue = "PAPER"
        let handled = NIOLockedValueBox<[Fleet_V1_Method]>([])
        let sinks = NIOLockedValueBox<[EventSink]>([])
        /// getSnapshot calls running now, and the most that ever ran at once.
        let running = NIOLockedValueBox<(now: Int, most: Int)>((0, 0))

        func handle(_ request: ServerRequest, events: EventSink?) async -> Result<Data, RPCStatus> {
            handled.withLockedValue { $0.append(request.method) }
            switch request.method {
            case .noop:
                // Echo, after a little jitter, so responses come back out of order.
                try? await Task.sleep(for: .microseconds(Int.random(in: 0...2000)))
                return .success(request.payload)
            case .subscribe:
                if let events { sinks.withLockedValue { $0.append(events) } }
                return .success(Data())
            case .health:
                try? await Task.sleep(for: .milliseconds(300))
                return .success(Data())
            case .getSnapshot:
                running.withLockedValue {
                    $0.now += 1
                    $0.most = max($0.most, $0.now)
                }
                try? await Task.sleep(for: .milliseconds(5))
                running.withLockedValue { $0.now -= 1 }
                return .success(request.payload)
            default:
                return .failure(RPCStatus(.unimplemented, "not in this test"))
            }
        }
    }

    static func secret() throws -> FleetSecret { try FleetSecret(Array("link-test-secret-0123456789".utf8)) }
    let group = MultiThreadedEventLoopGroup.singleton

    func startServer(
        _ service: RecordingService,
        maxConcurrentRequests: Int = FleetServer.Configuration.defaultMaxConcurrentRequests,
        maxConnections: Int = FleetServer.Configuration.defaultMaxConnections,
        authenticationTimeout: TimeAmount = .seconds(10)
    ) async throws -> (FleetServer, Int) {
        let server = try await FleetServer.start(
            configuration: .init(
                host: "127.0.0.1", port: 0, maxConcurrentRequests: maxConcurrentRequests,
                maxConnections: maxConnections,
                authenticationTimeout: authenticationTimeout),
            service: service, secret: try Self.secret(), group: group, logger: Logger(label: "test"))
        return (server, try #require(server.localAddress?.port))
    }

    /// An authenticated client link to the test server.
    func connect(_ port: Int) async throws -> FleetClient {
        try await FleetClient.connect(
            host: "127.0.0.1", port: port, secret: try Self.secret(), configuration: .init(clientID: "t"), group: group)
    }

    @Test func manyCallsInFlightAreMatchedByStreamID() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service)
        let client = try await connect(port)
        #expect(client.serverID == "test-engine")
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for index in 0..<200 {
                tasks.addTask {
                    let payload = Data("call-\(index)".utf8)
                    let reply = try await client.call(.noop, payload: payload, deadlineUnixNanos: 0)
                    #expect(reply == payload)
                }
            }
            try await tasks.waitForAll()
        }
        await client.close()
        await server.shutdown()
    }

    @Test func aLinkRunsAtMostItsLimitOfRequestsAtOnceAndAnswersEveryOne() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service, maxConcurrentRequests: 4)
        let client = try await connect(port)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for index in 0..<100 {
                tasks.addTask {
                    let payload = Data("call-\(index)".utf8)
                    let reply = try await client.call(.getSnapshot, payload: payload, deadlineUnixNanos: 0)
                    #expect(reply == payload)
                }
            }
            try await tasks.waitForAll()
        }
        // The other 96 waited at the link, in order, and ran as slots freed up.
        #expect(service.running.withLockedValue { $0.most } == 4)
        #expect(service.handled.withLockedValue { $0.count } == 100)
        await client.close()
        await server.shutdown()
    }

    @Test func aRequestThatWaitedPastItsDeadlineForASlotIsNeverExecuted() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service, maxConcurrentRequests: 1)
        let client = try await connect(port)
        async let slow = client.call(.health, payload: Data(), deadlineUnixNanos: 0)  // holds the one slot 300 ms
        try await Task.sleep(for: .milliseconds(50))
        await #expect(throws: RPCStatus.self) {
            _ = try await client.call(
                .getSnapshot, payload: Data(),
                deadlineUnixNanos: Int64(Date().timeIntervalSince1970 * 1e9) + 100_000_000)
        }
        _ = try await slow
        // The link goes on, and the late request never reached the service.
        let after = Data("after".utf8)
        #expect(try await client.call(.getSnapshot, payload: after, deadlineUnixNanos: 0) == after)
        #expect(service.handled.withLockedValue { $0 } == [.health, .getSnapshot])
        await client.close()
        await server.shutdown()
    }

    /// GOAWAY names the last request the engine took in: those still waiting for a slot are run
    /// and answered before the link closes. Requests it had not read yet (it stops reading while
    /// requests wait) are refused UNAVAILABLE and never run: safe to retry.
    @Test func shutdownAnswersTheRequestsStillWaitingForASlot() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service, maxConcurrentRequests: 1)
        let client = try await connect(port)
        async let slow = client.call(.health, payload: Data(), deadlineUnixNanos: 0)  // holds the one slot 300 ms
        async let waiting = withTaskGroup(of: Result<Data, RPCStatus>.self) { tasks in
            for index in 0..<3 {
                tasks.addTask {
                    do {
                        return .success(
                            try await client.call(.getSnapshot, payload: Data("w\(index)".utf8), deadlineUnixNanos: 0))
                    } catch let status as RPCStatus {
                        return .failure(status)
                    } catch {
                        return .failure(RPCStatus(.internal, "\(error)"))
                    }
                }
            }
            var results: [Result<Data, RPCStatus>] = []
            for await result in tasks { results.append(result) }
            return results
        }
        // The slot is taken, and the others have had time to arrive and wait behind it.
        for _ in 0..<200 where !service.handled.withLockedValue({ $0.contains(.health) }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(100))
        await server.shutdown()
        _ = try await slow
        var answered: [Data] = []
        for result in await waiting {
            switch result {
            case .success(let reply): answered.append(reply)
            case .failure(let status): #expect(status.code == .unavailable, "refused, not failed: \(status)")
            }
        }
        // At least the first was taken in before the shutdown and is answered although the
        // engine was shutting down; each answer is its own request's, and only answered ones ran.
        #expect(!answered.isEmpty)
        #expect(Set(answered).isSubset(of: Set((0..<3).map { Data("w\($0)".utf8) })))
        #expect(service.handled.withLockedValue { $0.count } == 1 + answered.count)
    }

    @Test func wrongSecretIsUnauthenticatedAndReachesNothing() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service)
        let wrong = try FleetSecret(Array("not-the-fleet-secret-at-all".utf8))
        await #expect(throws: RPCStatus.self) {
            _ = try await FleetClient.connect(
                host: "127.0.0.1", port: port, secret: wrong, configuration: .init(clientID: "t"), group: group)
        }
        #expect(service.handled.withLockedValue { $0 }.isEmpty)
        await server.shutdown()
    }

    @Test func aLinkBeyondTheLimitIsRefusedWithResourceExhaustedUntilOneCloses() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service, maxConnections: 1)
        let first = try await connect(port)
        do {
            _ = try await connect(port)
            Issue.record("a second link was accepted beyond the limit of one")
        } catch let status as RPCStatus {
            #expect(status.code == .resourceExhausted)
            #expect(status.message.contains("at most 1 links"))
        }
        // The first link still works.
        #expect(try await first.call(.noop, payload: Data("still".utf8), deadlineUnixNanos: 0) == Data("still".utf8))
        await first.close()
        // Its slot frees once the server has seen it close.
        var second: FleetClient?
        for _ in 0..<200 where second == nil {
            second = try? await connect(port)
            if second == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let reconnected = try #require(second)
        #expect(
            try await reconnected.call(.noop, payload: Data("again".utf8), deadlineUnixNanos: 0) == Data("again".utf8))
        await reconnected.close()
        await server.shutdown()
    }

    @Test func aLinkThatDoesNotAuthenticateInTimeIsClosed() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service, authenticationTimeout: .milliseconds(200))
        // A peer that only pings: pings do not keep an unauthenticated link open.
        var ping = Fleet_V1_Frame()
        ping.ping.payload = Data("p".utf8)
        let frames = try RawPeer.exchange(port: port, send: [try ping.wireBytes()])
        #expect(frames.first?.hello.serverID == "test-engine")
        let goaway = try #require(frames.last)
        #expect(goaway.goaway.code == .unauthenticated)
        #expect(goaway.goaway.reason.contains("no authentication within 200 ms"))
        #expect(service.handled.withLockedValue { $0 }.isEmpty)
        await server.shutdown()
    }

    @Test func requestBeforeAuthGetsUnauthenticatedAndClose() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service)
        var request = Fleet_V1_Frame()
        request.streamID = 1
        request.request.method = .noop
        let frames = try RawPeer.exchange(port: port, send: [try request.wireBytes()])
        #expect(frames.first?.hello.serverID == "test-engine")
        let response = try #require(frames.dropFirst().first)
        #expect(response.response.code == .unauthenticated)
        #expect(service.handled.withLockedValue { $0 }.isEmpty)
        await server.shutdown()
    }

    @Test func expiredDeadlineIsRefusedAndNeverExecuted() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service)
        let client = try await connect(port)
        let past = Int64(Date().timeIntervalSince1970 * 1e9) - 1_000_000_000
        // HEALTH, not NOOP: NOOP never reaches the service, so it could not show "never executed".
        // Either side may report the deadline (the client stops waiting 1 ms after it).
        let error = await #expect(throws: RPCStatus.self) {
            _ = try await client.call(.health, payload: Data(), deadlineUnixNanos: past)
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(service.handled.withLockedValue { $0 }.isEmpty)
        await client.close()
        await server.shutdown()
    }

    /// A call stops waiting at its deadline; the answer that comes later is dropped, and calls
    /// answered in time (their deadline timers cancelled) go on working on the same link.
    @Test func aCallStopsWaitingAtItsDeadlineAndTheLinkGoesOn() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service)
        let client = try await connect(port)
        let soon = Int64(Date().timeIntervalSince1970 * 1e9) + 50_000_000
        // HEALTH takes the service 300 ms: the client gives up first.
        let error = await #expect(throws: RPCStatus.self) {
            _ = try await client.call(.health, payload: Data(), deadlineUnixNanos: soon)
        }
        #expect(error?.code == .deadlineExceeded)
        let later = Int64(Date().timeIntervalSince1970 * 1e9) + 30_000_000_000
        for index in 0..<50 {
            let payload = Data("call-\(index)".utf8)
            #expect(try await client.call(.noop, payload: payload, deadlineUnixNanos: later) == payload)
        }
        try await Task.sleep(for: .milliseconds(400))  // the late HEALTH answer arrives and is dropped
        #expect(
            try await client.call(.noop, payload: Data("after".utf8), deadlineUnixNanos: later) == Data("after".utf8))
        await client.close()
        await server.shutdown()
    }

    @Test func garbageAndOversizedFramesCloseTheLinkWithAnError() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service)
        let oversized = try RawPeer.exchange(port: port, send: [[0x7f, 0xff, 0xff, 0xff]])
        #expect(oversized.last?.goaway.code == .resourceExhausted)
        let garbage = try RawPeer.exchange(port: port, send: [[0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff]])
        #expect(garbage.last?.goaway.code == .invalidArgument)
        #expect(service.handled.withLockedValue { $0 }.isEmpty)
        await server.shutdown()
    }

    @Test func subscriptionReceivesPushedEvents() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service)
        let client = try await connect(port)
        let received = NIOLockedValueBox<[UInt64]>([])
        _ = try await client.subscribe { event in received.withLockedValue { $0.append(event.seq) } }
        let first = service.sinks.withLockedValue { $0.first }
        let sink = try #require(first)
        sink.send(
            (1...5).map { seq in
                var event = Fleet_V1_Event()
                event.seq = UInt64(seq)
                return event
            })
        for _ in 0..<100 where received.withLockedValue({ $0.count }) < 5 {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(received.withLockedValue { $0 } == [1, 2, 3, 4, 5])
        await client.close()
        await server.shutdown()
    }

    /// A subscriber that stops reading is disconnected once its link holds the backlog limit of
    /// unsent events, instead of the server buffering them without end.
    @Test func aSubscriberThatStopsReadingIsCutOff() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service)
        // The client's own loop, blocked by its event handler: nothing else shares it.
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = try await FleetClient.connect(
            host: "127.0.0.1", port: port, secret: try Self.secret(), configuration: .init(clientID: "slow"),
            group: clientGroup)
        let release = DispatchSemaphore(value: 0)
        let blocked = NIOLockedValueBox(false)
        _ = try await client.subscribe { _ in
            let first = blocked.withLockedValue { value in
                defer { value = true }
                return !value
            }
            if first { release.wait() }  // stop reading: the client's loop is stuck here
        }
        let sink = try #require(service.sinks.withLockedValue { $0.first })
        var event = Fleet_V1_Event()
        event.risk.message = String(repeating: "x", count: 1024)
        var pushed = 0
        // Up to 4× the limit (plus the kernel's socket buffers): without the limit it would all queue.
        while sink.isActive && pushed < 4 * 32 << 20 {
            sink.send(Array(repeating: event, count: 256))
            pushed += 256 * 1024
            try await Task.sleep(for: .milliseconds(1))
        }
        for _ in 0..<100 where sink.isActive { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!sink.isActive, "the stuck subscriber's link was closed after \(pushed >> 20) MB")
        release.signal()
        await client.close()
        await server.shutdown()
        try await clientGroup.shutdownGracefully()
    }

    // A call the link loses is never answered: the limit turns that hang into a failure.
    @Test(.timeLimit(.minutes(1)))
    func callsInFlightWhenTheLinkClosesAndCallsAfterItFailUnavailable() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service)
        let client = try await connect(port)
        // HEALTH is answered after 300 ms: still in flight when the link closes.
        let slow = Task { try await client.call(.health, payload: Data(), deadlineUnixNanos: 0) }
        try await Task.sleep(for: .milliseconds(50))
        await client.close()
        let inFlight = await #expect(throws: RPCStatus.self) { _ = try await slow.value }
        #expect(inFlight?.code == .unavailable)
        // From a task on another executor, and from one on the link's own event loop.
        let elsewhere = await #expect(throws: RPCStatus.self) {
            _ = try await client.call(.noop, payload: Data(), deadlineUnixNanos: 0)
        }
        #expect(elsewhere?.code == .unavailable)
        let onTheLoop = await withTaskExecutorPreference(EventLoopTaskExecutor(client.eventLoop)) {
            await #expect(throws: RPCStatus.self) {
                _ = try await client.call(.noop, payload: Data(), deadlineUnixNanos: 0)
            }
        }
        #expect(onTheLoop?.code == .unavailable)
        await server.shutdown()
    }

    @Test func shutdownSendsGoAwayAndFinishesInFlightCalls() async throws {
        let service = RecordingService()
        let (server, port) = try await startServer(service)
        let goaways = NIOLockedValueBox<[Fleet_V1_GoAway]>([])
        let client = try await FleetClient.connect(
            host: "127.0.0.1", port: port, secret: try Self.secret(), configuration: .init(clientID: "t"), group: group,
            onGoAway: { goaway in goaways.withLockedValue { $0.append(goaway) } })
        async let slow = client.call(.health, payload: Data(), deadlineUnixNanos: 0)
        try await Task.sleep(for: .milliseconds(50))
        await server.shutdown()
        _ = try await slow  // answered although the server was shutting down
        #expect(goaways.withLockedValue { $0.first?.code } == .unavailable)
        await #expect(throws: RPCStatus.self) {
            _ = try await client.call(.noop, payload: Data(), deadlineUnixNanos: 0)
        }
    }
}

/// A bare TCP peer that sends raw bytes and collects the frames it gets back until the server closes.
enum RawPeer {
    static func exchange(port: Int, send chunks: [[UInt8]]) throws -> [Fleet_V1_Frame] {
        let connection = try RawTCPConnection(port: port)
        for chunk in chunks { connection.send(bytes: chunk) }
        var received: [UInt8] = []
        while case .data(let bytes) = connection.read(waitingUpTo: 5) { received += bytes }
        var frames: [Fleet_V1_Frame] = []
        var offset = 0
        while offset + 4 <= received.count {
            let length =
                Int(received[offset]) << 24 | Int(received[offset + 1]) << 16 | Int(received[offset + 2]) << 8
                | Int(received[offset + 3])
            guard offset + 4 + length <= received.count else { break }
            frames.append(try Fleet_V1_Frame(serializedBytes: Array(received[offset + 4..<offset + 4 + length])))
            offset += 4 + length
        }
        return frames
    }
}
