import NIOHTTP1

/// An HTTP/1 connection's requests whose head has arrived and whose answer's end has not been
/// written, and whether one is still being read: what `HTTPIdleTimeoutHandler` and
/// `HTTPReadAheadHandler` decide by.
struct HTTPRequestTally {
    private(set) var outstanding = 0
    private(set) var isRequestBeingRead = false

    mutating func read(_ part: HTTPServerRequestPart) {
        switch part {
        case .head:
            outstanding += 1
            isRequestBeingRead = true
        case .body:
            break
        case .end:
            isRequestBeingRead = false
        }
    }

    /// True when `part` ends an answer.
    @discardableResult
    mutating func wrote(_ part: HTTPServerResponsePart) -> Bool {
        guard case .end = part else { return false }
        if outstanding > 0 { outstanding -= 1 }
        return true
    }
}
