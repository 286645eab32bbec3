import EngineCore
import TradingDomain

/// A deterministic random walk per instrument: the same seed gives the same prices tick by tick,
/// on every machine, in exact integer arithmetic.
struct PricePath: Sendable {
    let seed: UInt64
    /// Largest move per tick, in basis points.
    let volatilityBps: Int64
    let tickSize: Fixed

    /// The mid after one more tick.
    func next(mid: Fixed, instrument: InstrumentID, tick: UInt64) -> Fixed {
        var generator = SplitMix64(seed: seed ^ Self.fnv1a(instrument.description) ^ (tick &* 0x9E37_79B9_7F4A_7C15))
        let random = generator.next()
        let span = UInt64(volatilityBps * 2 + 1)
        let bps = Int64(random % span) - volatilityBps
        let moved = (mid + mid.multiplied(byRatio: bps, over: 10_000)).rounded(
            toMultipleOf: tickSize, rule: .toNearestOrEven)
        return Swift.max(moved, tickSize)
    }

    /// Bid and ask around `mid`, `spreadBps` apart, on the tick grid, never crossed.
    func quote(mid: Fixed, spreadBps: Int64) -> Quote {
        let half = mid.multiplied(byRatio: spreadBps, over: 20_000, rounding: .up)
        let bid = (mid - half).rounded(toMultipleOf: tickSize, rule: .down)
        var ask = (mid + half).rounded(toMultipleOf: tickSize, rule: .up)
        if ask <= bid { ask = bid + tickSize }
        return Quote(bid: Swift.max(bid, tickSize), ask: ask)
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
