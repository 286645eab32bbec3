import EngineCore
import Foundation
import Testing
import TradingDomain

struct TokenBucketTests {
    @Test func burstThenRate() {
        var bucket = TokenBucket(ratePerSecond: 10, burst: 3)
        func take(_ now: Int64) -> Bool { bucket.take(nowNanos: now) }
        #expect(take(0) && take(0) && take(0))
        #expect(!take(0), "burst of 3 spent")
        #expect(!take(99_999_999), "a token takes 100 ms at 10/s")
        #expect(take(100_000_000))
        #expect(!take(100_000_000))
        #expect(take(10_000_000_000) && take(10_000_000_000) && take(10_000_000_000))
        #expect(!take(10_000_000_000), "never more than the burst, however long the pause")
    }
}

struct CircuitBreakerTests {
    @Test func opensAfterThresholdInWindowAndProbesAfterCooldown() {
        var breaker = CircuitBreaker(threshold: 3, windowNanos: 1_000, cooldownNanos: 500)
        func allow(_ now: Int64) -> Bool { breaker.allow(nowNanos: now) }
        breaker.recordFailure(nowNanos: 0)
        breaker.recordFailure(nowNanos: 10)
        #expect(allow(20))
        breaker.recordFailure(nowNanos: 2_000)  // the first two fell out of the window
        #expect(breaker.state == .closed)
        breaker.recordFailure(nowNanos: 2_100)
        breaker.recordFailure(nowNanos: 2_200)
        #expect(breaker.state == .open(untilNanos: 2_700))
        #expect(!allow(2_699))
        #expect(allow(2_700), "one probe after the cooldown")
        #expect(!allow(2_701), "only one probe at a time")
        breaker.recordFailure(nowNanos: 2_800)
        #expect(breaker.state == .open(untilNanos: 3_300), "a failed probe opens it again")
        #expect(allow(3_300))
        breaker.recordSuccess()
        #expect(breaker.state == .closed)
    }
}

struct KillSwitchTests {
    @Test func fileAndEnvironmentLevels() throws {
        let path = NSTemporaryDirectory() + "kill-\(UUID().uuidString)"
        let killSwitch = KillSwitch(filePath: path, environmentValue: nil)
        #expect(killSwitch.current() == .off)
        for (word, level) in [
            ("close_only\n", KillSwitch.Level.closeOnly), ("halt", .halt), ("hard_kill", .hardKill), ("", .halt),
            ("nonsense", .halt),
        ] {
            try word.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(killSwitch.current() == level, "\(word)")
        }
        try FileManager.default.removeItem(atPath: path)
        #expect(killSwitch.current() == .off, "removing the file releases it")
        #expect(KillSwitch(filePath: nil, environmentValue: "close_only").current() == .closeOnly)
        #expect(KillSwitch(filePath: nil, environmentValue: "typo").current() == .halt)
    }
}
