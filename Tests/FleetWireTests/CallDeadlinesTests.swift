import FleetWire
import NIOCore
import Testing

/// One timer per link: when it is set, which calls expire, and that answered calls do not pile up.
struct CallDeadlinesTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    func at(_ milliseconds: Int64) -> NIODeadline { start + .milliseconds(milliseconds) }

    @Test func theTimerIsSetForTheEarliestDeadlineAndMovedOnlyWhenAnEarlierOneComes() {
        var deadlines = CallDeadlines()
        #expect(deadlines.add(streamID: 1, deadline: at(500)) == at(500))
        #expect(deadlines.add(streamID: 2, deadline: at(600)) == nil, "a later deadline keeps the timer")
        #expect(deadlines.add(streamID: 3, deadline: at(100)) == at(100), "an earlier one moves it")
        #expect(deadlines.armedAt == at(100))
    }

    @Test func onlyPendingCallsPastTheirDeadlineExpireInDeadlineOrder() {
        var deadlines = CallDeadlines()
        var pending: Set<UInt64> = [1, 2, 3, 4]
        _ = deadlines.add(streamID: 1, deadline: at(300))
        _ = deadlines.add(streamID: 2, deadline: at(100))
        _ = deadlines.add(streamID: 3, deadline: at(200))
        _ = deadlines.add(streamID: 4, deadline: at(900))
        pending.remove(3)  // answered before its deadline
        let (expired, next) = deadlines.expire(now: at(300)) { pending.contains($0) }
        #expect(expired == [2, 1])
        #expect(next == at(900))
        #expect(deadlines.armedAt == at(900))
        pending.subtract(expired)
        let (none, after) = deadlines.expire(now: at(400)) { pending.contains($0) }
        #expect(none.isEmpty)
        #expect(after == at(900), "the timer is set again for the call left")
        pending.remove(4)
        let (last, nothingLeft) = deadlines.expire(now: at(1_000)) { pending.contains($0) }
        #expect(last.isEmpty, "an answered call never expires")
        #expect(nothingLeft == nil)
        #expect(deadlines.count == 0)
    }

    @Test func answeredCallsLeaveFromTheFrontSoTheHeapHoldsAboutTheCallsInFlight() {
        var deadlines = CallDeadlines()
        var pending = Set<UInt64>()
        for streamID in UInt64(1)...10_000 {
            pending.insert(streamID)
            _ = deadlines.add(streamID: streamID, deadline: at(5_000 + Int64(streamID)))
            if streamID > 64 {  // 64 in flight, answered in order
                pending.remove(streamID - 64)
                deadlines.dropAnswered { pending.contains($0) }
            }
        }
        #expect(deadlines.count == 64)
    }
}
