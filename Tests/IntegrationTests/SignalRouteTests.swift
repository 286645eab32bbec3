import FleetTestKit
import Foundation
import Testing

/// `POST /strategy/signal` is served in the connection's pipeline, beside Hummingbird's router:
/// answers keep request order on a pipelined connection, `Connection: close` and the idle timeout
/// hold for signals as for the router's requests, and an oversized body gets the API's JSON error.
@Suite(.serialized)
struct SignalRouteTests {
    static let body = #"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"0.01","model":"m"}"#

    static func post(
        _ body: String, key: String? = nil, close: Bool = false, path: String = "/strategy/signal"
    )
        -> String
    {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nX-OPS-TOKEN: \(LocalFleet.token)\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
        if let key { head += "X-Idempotency-Key: \(key)\r\n" }
        if close { head += "Connection: close\r\n" }
        return head + "\r\n" + body
    }

    @Test func pipelinedRequestsAreAnsweredInOrderWhicheverSideServesThem() throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        try fleet.startOPS()
        let connection = try RawTCPConnection(port: fleet.opsPort)
        // Three requests in one write: a signal, a request for the router, a signal again.
        connection.send(
            Self.post(Self.body, key: "pipe-1") + "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                + Self.post(Self.body, key: "pipe-2"))
        let answers = try HTTPAnswers.read(3, from: connection)
        #expect(answers.map(\.status) == [200, 200, 200])
        #expect(answers[1].body == "ok\n")
        let first = try #require(jsonObject(answers[0].body))
        let third = try #require(jsonObject(answers[2].body))
        #expect(first["status"] as? String == "FILLED")
        #expect(third["status"] as? String == "FILLED")
        #expect(first["client_order_id"] as? String != third["client_order_id"] as? String)
        #expect(answers[0].headers["content-type"] == "application/json")
        #expect(answers[0].headers["server"] == "ops")
        #expect(answers[0].headers["date"]?.hasSuffix(" GMT") == true)
        #expect(fleet.metric("paper-1", #"orders_submitted_total{venue="PAPER",model="m"}"#) == 2)

        // The same in three writes, each sent while the one before is likely still being answered
        // (OPS keeps reading a connection whose one request has arrived): still answered in order.
        let separate = try RawTCPConnection(port: fleet.opsPort)
        separate.send(Self.post(Self.body, key: "pipe-3"))
        separate.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        Thread.sleep(forTimeInterval: 0.001)
        separate.send(Self.post(Self.body, key: "pipe-4"))
        let separateAnswers = try HTTPAnswers.read(3, from: separate)
        #expect(separateAnswers.map(\.status) == [200, 200, 200])
        #expect(separateAnswers[1].body == "ok\n")
        #expect(jsonObject(separateAnswers[0].body)?["client_order_id"] != nil)
        #expect(jsonObject(separateAnswers[2].body)?["client_order_id"] != nil)
        #expect(fleet.metric("paper-1", #"orders_submitted_total{venue="PAPER",model="m"}"#) == 4)
    }

    @Test func badRequestsGetTheAPIErrorAndTheConnectionStaysUsable() throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        try fleet.startOPS()
        let connection = try RawTCPConnection(port: fleet.opsPort)

        let tooLarge = "{\"pad\":\"" + String(repeating: "x", count: 70_000) + "\"}"
        connection.send(Self.post(tooLarge, key: "big"))
        let refused = try HTTPAnswers.read(1, from: connection)[0]
        #expect(refused.status == 413)
        #expect(errorCode(refused.body) == "HTTP_413")
        // A path the handler passes on (a trailing slash) is the router's, with the same answer.
        connection.send(Self.post(tooLarge, key: "big-slash", path: "/strategy/signal/"))
        let refusedByRouter = try HTTPAnswers.read(1, from: connection)[0]
        #expect(refusedByRouter.status == 413)
        #expect(errorCode(refusedByRouter.body) == "HTTP_413")
        #expect(refusedByRouter.body == refused.body)

        connection.send(
            "POST /strategy/signal HTTP/1.1\r\nHost: x\r\nX-OPS-TOKEN: wrong\r\nContent-Length: 2\r\n\r\n{}")
        let unauthorized = try HTTPAnswers.read(1, from: connection)[0]
        #expect(unauthorized.status == 401)
        #expect(errorCode(unauthorized.body) == "UNAUTHORIZED")

        connection.send(Self.post("{not json"))
        #expect(errorCode(try HTTPAnswers.read(1, from: connection)[0].body) == "INVALID_SIGNAL")

        // Other methods on the path are the router's, answered in the same JSON shape.
        connection.send("GET /strategy/signal HTTP/1.1\r\nHost: x\r\n\r\n")
        let wrongMethod = try HTTPAnswers.read(1, from: connection)[0]
        #expect(wrongMethod.status == 404)
        #expect(errorCode(wrongMethod.body) == "NOT_FOUND")

        // None of these made an order; a good signal on the same connection does.
        connection.send(Self.post(Self.body, key: "after-errors"))
        #expect(try HTTPAnswers.read(1, from: connection)[0].status == 200)
        #expect(fleet.metric("paper-1", #"orders_submitted_total{venue="PAPER",model="m"}"#) == 1)

        // Header names in any case; a repeated key header counts as its values joined by ", ", as
        // the router reads it: the joined form sent once is then a retry of the same signal.
        let repeated = Self.post(Self.body).replacingOccurrences(
            of: "\r\n\r\n", with: "\r\nx-idempotency-key: rep\r\nX-IDEMPOTENCY-KEY: eat\r\n\r\n")
        connection.send(repeated.replacingOccurrences(of: "X-OPS-TOKEN", with: "x-ops-token"))
        let first = try #require(jsonObject(try HTTPAnswers.read(1, from: connection)[0].body))
        connection.send(Self.post(Self.body, key: "rep, eat"))
        let retry = try #require(jsonObject(try HTTPAnswers.read(1, from: connection)[0].body))
        #expect(first["duplicate"] as? Bool == false)
        #expect(retry["duplicate"] as? Bool == true)
        #expect(retry["client_order_id"] as? String == first["client_order_id"] as? String)
        #expect(fleet.metric("paper-1", #"orders_submitted_total{venue="PAPER",model="m"}"#) == 2)
    }

    @Test func connectionCloseAndTheIdleTimeoutHoldForSignals() throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        try fleet.startOPS(extra: ["--idle-timeout", "2"])

        let closing = try RawTCPConnection(port: fleet.opsPort)
        closing.send(Self.post(Self.body, close: true))
        let answer = try HTTPAnswers.read(1, from: closing)[0]
        #expect(answer.status == 200)
        #expect(answer.headers["connection"] == "close")
        #expect(closing.read(waitingUpTo: 10) == .closed)

        // HTTP/1.0 without keep-alive: answered, then closed.
        let old = try RawTCPConnection(port: fleet.opsPort)
        old.send(Self.post(Self.body).replacingOccurrences(of: "HTTP/1.1\r\n", with: "HTTP/1.0\r\n"))
        #expect(try HTTPAnswers.read(1, from: old)[0].status == 200)
        #expect(old.read(waitingUpTo: 10) == .closed)

        // A signal whose body stalls halfway is idle too: its connection is closed, unanswered.
        let stalled = try RawTCPConnection(port: fleet.opsPort)
        stalled.send(String(Self.post(Self.body, key: "stalled").dropLast(10)))
        #expect(stalled.read(waitingUpTo: 10) == .closed)

        // Signals every half second keep a connection past the 2 s idle timeout: they count as
        // activity. Then, idle, it is closed.
        let busy = try RawTCPConnection(port: fleet.opsPort)
        for index in 0..<8 {
            busy.send(Self.post(Self.body, key: "busy-\(index)"))
            #expect(try HTTPAnswers.read(1, from: busy)[0].status == 200)
            Thread.sleep(forTimeInterval: 0.5)
        }
        #expect(busy.read(waitingUpTo: 10) == .closed)
    }

    func jsonObject(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    func errorCode(_ text: String) -> String? {
        (jsonObject(text)?["error"] as? [String: Any])?["code"] as? String
    }
}

/// HTTP/1.1 answers with a Content-Length, read off a raw connection.
struct HTTPAnswers {
    struct Answer {
        var status: Int
        /// Lower-cased names.
        var headers: [String: String]
        var body: String
    }

    static func read(_ count: Int, from connection: RawTCPConnection, seconds: Double = 30) throws -> [Answer] {
        var bytes: [UInt8] = []
        var answers: [Answer] = []
        let deadline = Date().addingTimeInterval(seconds)
        while answers.count < count {
            if let (answer, used) = parse(bytes) {
                answers.append(answer)
                bytes.removeFirst(used)
                continue
            }
            guard Date() < deadline else {
                throw FleetTestError("\(answers.count) of \(count) answers in \(seconds) s")
            }
            switch connection.read(waitingUpTo: 1) {
            case .data(let more): bytes += more
            case .closed: throw FleetTestError("closed after \(answers.count) of \(count) answers")
            case .nothing: continue
            }
        }
        return answers
    }

    /// One whole answer at the front of `bytes`, and how many bytes it took.
    static func parse(_ bytes: [UInt8]) -> (Answer, Int)? {
        let separator = Array("\r\n\r\n".utf8)
        guard bytes.count >= 4,
            let end = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<$0 + 4]) == separator })
        else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ")[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard bytes.count >= end + 4 + length else { return nil }
        let body = String(decoding: bytes[(end + 4)..<(end + 4 + length)], as: UTF8.self)
        return (Answer(status: status, headers: headers, body: body), end + 4 + length)
    }
}
