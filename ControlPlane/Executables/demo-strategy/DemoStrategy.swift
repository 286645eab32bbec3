import ArgumentParser
import CurlHTTP
import TradingDomain

#if canImport(Glibc)
    import Glibc
#endif

/// A bundled strategy that trades through OPS exactly as an outside process would: HTTP, token,
/// idempotency keys. It buys and sells small amounts around a position target so that PnL moves both
/// ways, and retries a signal (same key) when OPS or an engine is briefly unavailable.
@main
struct DemoStrategy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-strategy",
        abstract: "Post demo trade signals to OPS over HTTP, like an outside strategy.",
        discussion: "Needs OPS_API_TOKEN. Stops after --duration seconds or --count signals, or on Ctrl-C.")

    @Option(help: "Base URL of OPS.") var url: String = "http://127.0.0.1:8080"
    @Option(help: "Signals per second.") var rate: Double = 5
    @Option(help: "Stop after this many seconds (0: run until stopped).") var duration: Double = 0
    @Option(help: "Stop after this many signals (0: no limit).") var count: Int = 0
    @Option(help: "Comma-separated SYMBOL.VENUE list to trade.")
    var symbols: String = "BTCUSDT.PAPER,ETHUSDT.PAPER"
    @Option(help: "Strategy name; OPS picks the model from its weights.") var strategy: String = "demo"
    @Option(help: "Seed for the signal sequence.") var seed: UInt64 = 7
    @Option(help: "Prefix of idempotency keys; a rerun with the same prefix replays, not re-trades.")
    var keyPrefix: String = "demo-\(getpid())"

    func run() throws {
        guard let token = getenv("OPS_API_TOKEN").map({ String(cString: $0) }) else {
            throw ValidationError("set OPS_API_TOKEN")
        }
        let list = symbols.split(separator: ",").map(String.init)
        guard !list.isEmpty, rate > 0 else { throw ValidationError("give at least one symbol and a positive rate") }
        let client = try CurlHTTPClient(timeout: .seconds(10))
        var random = SplitMix64(seed: seed)
        let interval = 1.0 / rate
        let started = now()
        var sent = 0
        var filled = 0
        var rejected = 0
        var failed = 0
        while (count == 0 || sent < count) && (duration == 0 || now() - started < duration) {
            let symbol = list[Int(random.next() % UInt64(list.count))]
            let side = random.next() % 2 == 0 ? "BUY" : "SELL"
            let quote = 500 + Int(random.next() % 4_500)
            let key = "\(keyPrefix)-\(sent)"
            let body = #"{"symbol":"\#(symbol)","side":"\#(side)","quote":"\#(quote)","strategy":"\#(strategy)"}"#
            var attempt = 0
            while true {
                attempt += 1
                do {
                    let response = try client.request(
                        "POST", url + "/strategy/signal",
                        headers: [
                            ("X-OPS-TOKEN", token), ("Content-Type", "application/json"), ("X-Idempotency-Key", key),
                        ],
                        body: Array(body.utf8))
                    if response.status == 200 {
                        if response.text.contains(#""status":"REJECTED""#) { rejected += 1 } else { filled += 1 }
                        break
                    }
                    if response.status == 503 && attempt < 5 {  // engine reconnecting: retry the same key
                        usleep(200_000)
                        continue
                    }
                    failed += 1
                    print("demo-strategy: signal \(key) refused (\(response.status)): \(response.text)")
                    break
                } catch {
                    if attempt < 5 {
                        usleep(200_000)
                        continue
                    }
                    failed += 1
                    print("demo-strategy: \(error)")
                    break
                }
            }
            sent += 1
            if sent % 25 == 0 {
                print(
                    "demo-strategy: \(sent) signals sent, \(filled) accepted, \(rejected) rejected by risk, \(failed) failed"
                )
                fflush(nil)
            }
            let target = started + Double(sent) * interval
            let wait = target - now()
            if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
        }
        print(
            "demo-strategy: done: \(sent) signals sent, \(filled) accepted, \(rejected) rejected by risk, \(failed) failed"
        )
    }

    private func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
