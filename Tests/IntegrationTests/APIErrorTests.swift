import CurlHTTP
import FleetTestKit
import Foundation
import Testing

/// Bad requests get the documented status and error code, and change nothing.
@Suite(.serialized)
struct APIErrorTests {
    @Test func statusesForBadInput() throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        try fleet.startOPS()
        let good = #"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"0.01","model":"m"}"#

        func code(_ response: HTTPResponse?) -> String? {
            (json(response)?["error"] as? [String: Any])?["code"] as? String
        }

        let noToken = fleet.signal(good, token: nil)
        #expect(noToken?.status == 401)
        #expect(code(noToken) == "UNAUTHORIZED")
        #expect(fleet.signal(good, token: "wrong-token")?.status == 401)

        let badJSON = fleet.signal("{not json")
        #expect(badJSON?.status == 400)
        #expect(code(badJSON) == "INVALID_SIGNAL")
        #expect(
            fleet.signal(#"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"0.01","qty":"1","model":"m"}"#)?.status
                == 400)
        #expect(fleet.signal(#"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"-1","model":"m"}"#)?.status == 400)
        #expect(
            fleet.signal(#"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"0.000000001","model":"m"}"#)?.status
                == 400)

        let unknownVenue = fleet.signal(#"{"symbol":"BTCUSDT.NOWHERE","side":"BUY","quantity":"1","model":"m"}"#)
        #expect(unknownVenue?.status == 422)
        #expect(code(unknownVenue) == "UNKNOWN_VENUE")
        let noEngine = fleet.signal(#"{"symbol":"BTCUSDT.KRAKEN","side":"BUY","quantity":"1","model":"m"}"#)
        #expect(noEngine?.status == 422)
        let unknownSymbol = fleet.signal(#"{"symbol":"DOGE.PAPER","side":"BUY","quantity":"1","model":"m"}"#)
        #expect(unknownSymbol?.status == 422)
        #expect(code(unknownSymbol) == "UNKNOWN_SYMBOL")

        // Same key, different body: 409, and no order.
        #expect(fleet.signal(good, key: "k-409")?.status == 200)
        let reused = fleet.signal(
            #"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"0.02","model":"m"}"#, key: "k-409")
        #expect(reused?.status == 409)
        #expect(code(reused) == "IDEMPOTENCY_KEY_REUSED")

        // Nothing of the refused requests reached the engine: exactly one order was submitted.
        #expect(fleet.metric("paper-1", #"orders_submitted_total{venue="PAPER",model="m"}"#) == 1)

        // Engine down: 503.
        fleet.engines["paper-1"]?.kill9()
        #expect(fleet.waitUntil("no engine up") { fleet.enginesUp() == 0 })
        let down = fleet.signal(good)
        #expect(down?.status == 503)
        #expect(code(down) == "ENGINE_DOWN")
    }

    @Test func anOversizedBodyGets413AndChangesNothing() throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        try fleet.startOPS()
        let connection = try RawTCPConnection(port: fleet.opsPort)
        connection.send("GET /strategy/weights HTTP/1.1\r\nHost: x\r\n\r\n")
        let before = try HTTPAnswers.read(1, from: connection)[0]
        #expect(before.status == 200)

        // PUT /strategy/weights takes at most 256 KiB.
        let body = "{\"pad\":\"" + String(repeating: "x", count: 300_000) + "\"}"
        connection.send(
            "PUT /strategy/weights HTTP/1.1\r\nHost: x\r\nX-OPS-TOKEN: \(LocalFleet.token)\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n" + body)
        let refused = try HTTPAnswers.read(1, from: connection)[0]
        #expect(refused.status == 413)
        let error = (try? JSONSerialization.jsonObject(with: Data(refused.body.utf8))) as? [String: Any]
        #expect((error?["error"] as? [String: Any])?["code"] as? String == "HTTP_413")

        let after = try RawTCPConnection(port: fleet.opsPort)
        after.send("GET /strategy/weights HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try HTTPAnswers.read(1, from: after)[0].body == before.body)
    }
}
