import HTTPTypes
import NIOCore

/// `POST /strategy/signal`: the token, the body's size, then `SignalService`. The answer is a
/// status and a JSON body, the same whether `SignalRouteHandler` serves it (the usual way) or
/// Hummingbird's router does.
struct SignalRoute: Sendable {
    let signals: SignalService
    let token: [UInt8]

    static let path = "/strategy/signal"
    static let maxBodyBytes = 64 * 1024
    static let idempotencyKey = HTTPField.Name("X-Idempotency-Key")!
    static let tokenField = HTTPField.Name("X-OPS-TOKEN")!

    static func serves(_ head: HTTPRequest) -> Bool {
        guard head.method == .post, let path = head.path else { return false }
        // Anything else (a trailing slash, another method) goes to the router, which answers it
        // with this same route or the right error.
        return path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first == Self.path[...]
    }

    func answer(head: HTTPRequest, body: ByteBuffer, tooLarge: Bool) async -> (HTTPResponse.Status, [UInt8]) {
        guard let sent = head.headerFields[Self.tokenField], tokensEqual(Array(sent.utf8), token)
        else {
            let error = APIError.unauthorized()
            return (error.status, error.jsonBody())
        }
        guard !tooLarge else {
            let error = APIError(
                .contentTooLarge, "HTTP_413", "a signal's body is at most \(Self.maxBodyBytes) bytes")
            return (error.status, error.jsonBody())
        }
        do {
            let result = try await signals.handle(
                body: Array(buffer: body), idempotencyKey: head.headerFields[Self.idempotencyKey])
            return (.ok, result.json())
        } catch {
            return (error.status, error.jsonBody())
        }
    }
}
