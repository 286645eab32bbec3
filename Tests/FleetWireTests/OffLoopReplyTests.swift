import Dispatch
import FleetProto
import FleetWire
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A service that answers from another thread (as the engine answers a batch's orders from its
/// sync thread): every call gets its own answer and the link's request slots are freed by them.
@Suite(.timeLimit(.minutes(1))) struct OffLoopReplyTests {
    final class ElsewhereService: FleetService {
        let serverID = "off-loop"
        let venue = "PAPER"
        let queue = DispatchQueue(label: "replies")
        /// Answers held back so that they are posted in bursts, back to back, as a batch's are.
        let held = Mutex<[@Sendable () -> Void]>([])

        func handle(_ request: ServerRequest, events: EventSink?) async -> Result<Data, RPCStatus> {
            .failure(RPCStatus(.internal, "start answers everything"))
        }

        func start(
            _ request: ServerRequest, events: EventSink?, executor: EventLoopTaskExecutor,
            reply: @escaping @Sendable (Result<Data, RPCStatus>) -> Void
        ) {
            let answer: Result<Data, RPCStatus> =
                request.method == .getSnapshot ? .success(request.payload) : .failure(.invalidArgument("no"))
            let count = held.withLock {
                $0.append { reply(answer) }
                return $0.count
            }
            // Answered only once every slot's request is here, all at once: a slot that an answer
            // did not free would leave the rest waiting until their deadlines.
            if count == OffLoopReplyTests.slots { queue.async { self.release() } }
        }

        func release() {
            for answer in held.withLock({ held in
                defer { held.removeAll() }; return held
            }) { answer() }
        }
    }

    static let slots = 4

    @Test func repliesPostedFromAnotherThreadReachTheirCallsAndFreeTheSlots() async throws {
        let secret = try FleetSecret(Array("off-loop-secret-0123456789ab".utf8))
        let group = MultiThreadedEventLoopGroup.singleton
        // Four slots for 300 calls (a multiple of four): the calls beyond the first four start only
        // as answers free the slots.
        let server = try await FleetServer.start(
            configuration: .init(host: "127.0.0.1", port: 0, maxConcurrentRequests: Self.slots),
            service: ElsewhereService(), secret: secret, group: group, logger: Logger(label: "test"))
        let client = try await FleetClient.connect(
            host: "127.0.0.1", port: try #require(server.localAddress?.port), secret: secret,
            configuration: .init(clientID: "t"), group: group)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for index in 0..<300 {
                tasks.addTask { () async throws -> Void in
                    let payload = Data("call-\(index)".utf8)
                    let deadline = Int64(Date().timeIntervalSince1970 * 1e9) + 10_000_000_000
                    if index % 10 == 0 {
                        await #expect(throws: RPCStatus.self) {
                            try await client.call(.health, payload: payload, deadlineUnixNanos: deadline)
                        }
                    } else {
                        let reply = try await client.call(.getSnapshot, payload: payload, deadlineUnixNanos: deadline)
                        #expect(reply == payload)
                    }
                }
            }
            try await tasks.waitForAll()
        }
        await client.close()
        await server.shutdown()
    }
}
