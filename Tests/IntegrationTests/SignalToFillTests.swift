import CurlHTTP
import FleetTestKit
import Foundation
import Testing

/// The walking skeleton end to end, with the real binaries: a signal becomes a fill across OPS and
/// two paper engines, and shows up in /dash/pnl and in the engine's metrics.
@Suite(.serialized)
struct SignalToFillTests {
    @Test func signalBecomesFillVisibleInPnLAndMetrics() throws {
        let fleet = LocalFleet(engineIDs: ["paper-1"])
        try fleet.startEngine("paper-1")
        try fleet.startOPS()

        let response = try #require(
            fleet.signal(#"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"0.01","model":"m-alpha"}"#))
        #expect(response.status == 200, "\(response.text)")
        let order = try #require(json(response))
        #expect(order["status"] as? String == "FILLED")
        #expect(order["filled_quantity"] as? String == "0.01")
        #expect(order["engine"] as? String == "paper-1")
        #expect(order["model"] as? String == "m-alpha")

        // Sell half back: realized PnL for m-alpha appears in OPS and the engine's gauge.
        let sell = try #require(
            fleet.signal(#"{"symbol":"BTCUSDT.PAPER","side":"SELL","quantity":"0.005","model":"m-alpha"}"#))
        #expect(sell.status == 200, "\(sell.text)")

        var row: [String: Any]?
        #expect(
            eventually {
                let models = json(http("GET", fleet.opsURL + "/dash/pnl"))?["models"] as? [[String: Any]]
                row = models?.first { $0["model"] as? String == "m-alpha" }
                return (row?["fills"] as? Int) == 2
            })
        let realized = try #require(row?["realized_pnl"] as? String)
        #expect(realized != "0", "selling into the spread realizes a loss or gain, never exactly zero here")
        #expect(row?["venue"] as? String == "PAPER")

        #expect(fleet.metric("paper-1", #"orders_submitted_total{venue="PAPER",model="m-alpha"}"#) == 2)
        #expect(fleet.metric("paper-1", #"orders_filled_total{venue="PAPER",model="m-alpha"}"#) == 2)
        let gauge = try #require(fleet.metric("paper-1", #"pnl_realized_usd{venue="PAPER",model="m-alpha"}"#))
        #expect(String(format: "%.5f", gauge) == String(format: "%.5f", Double(realized)!))
        #expect(fleet.metric("paper-1", #"equity_usd{venue="PAPER"}"#) != nil)
    }

    @Test func twoEnginesWeightedModelsAndRiskRejection() throws {
        let fleet = LocalFleet(engineIDs: ["paper-1", "paper-2"])
        try fleet.startEngine("paper-1")
        try fleet.startEngine("paper-2")
        try fleet.startOPS(models: ["paper-1": ["m-alpha"], "paper-2": ["m-beta"]])
        #expect(fleet.enginesUp() == 2)

        // Each model trades on the engine (account) fleet.yaml assigns it to.
        let beta = try #require(
            json(
                fleet.signal(#"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"0.01","model":"m-beta"}"#, key: "b-1")
            ))
        #expect(beta["engine"] as? String == "paper-2")
        let alpha = try #require(
            json(fleet.signal(#"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"0.01","model":"m-alpha"}"#)))
        #expect(alpha["engine"] as? String == "paper-1")

        // A retry whose engine is down waits for that engine (503): it is never sent to another
        // engine, which would not know the client order id and would trade it a second time.
        fleet.engines["paper-2"]?.kill9()
        #expect(fleet.waitUntil("one engine up") { fleet.enginesUp() == 1 })
        let retry = fleet.signal(
            #"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"0.01","model":"m-beta"}"#, key: "b-1")
        #expect(retry?.status == 503)
        try fleet.startEngine("paper-2")
        #expect(fleet.waitUntil("two engines up") { fleet.enginesUp() == 2 })
        let replay = try #require(
            json(
                fleet.signal(#"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"0.01","model":"m-beta"}"#, key: "b-1")
            ))
        #expect(replay["duplicate"] as? Bool == true)
        #expect(replay["client_order_id"] as? String == beta["client_order_id"] as? String)

        // The model comes from strategy weights when the signal names none.
        let picked = try #require(
            json(fleet.signal(#"{"symbol":"ETHUSDT.PAPER","side":"BUY","quote":"1000","strategy":"demo"}"#)))
        #expect(["m-alpha", "m-beta"].contains(picked["model"] as? String ?? ""))
        #expect(picked["status"] as? String == "FILLED")

        // Above the default max notional (250,000): a risk rejection, reported as an order state.
        let big = try #require(
            fleet.signal(#"{"symbol":"BTCUSDT.PAPER","side":"BUY","quantity":"4.9","model":"m-alpha"}"#))
        #expect(big.status == 200)
        let rejected = try #require(json(big))
        #expect(rejected["status"] as? String == "REJECTED")
        #expect(rejected["reject_reason"] as? String == "NOTIONAL_ABOVE_MAX")
        let engine = try #require(rejected["engine"] as? String)
        #expect(
            fleet.metric(engine, #"orders_rejected_total{venue="PAPER",model="m-alpha",reason="NOTIONAL_ABOVE_MAX"}"#)
                == 1)
    }
}
