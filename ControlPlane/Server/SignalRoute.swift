import HTTPTypes
import NIOCore
import NIOHTTP1

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

    static func serves(_ head: HTTPRequestHead) -> Bool {
        // Anything else (a trailing slash, another method) goes to the router, which answers it
        // with this same route or the right error.
        guard head.method == .POST else { return false }
        let uri = head.uri.utf8
        let pathEnd = uri.firstIndex(of: UInt8(ascii: "?")) ?? uri.endIndex
        return uri[..<pathEnd].elementsEqual(Self.path.utf8)
    }

    /// `token` and `idempotencyKey` are the request's `X-OPS-TOKEN` and `X-Idempotency-Key`.
    func answer(
        token sent: String?, idempotencyKey: String?, body: ByteBuffer, tooLarge: Bool
    ) async -> (HTTPResponse.Status, [UInt8]) {
        if let refusal = refusal(token: sent, tooLarge: tooLarge) { return refusal }
        do {
            return (.ok, try await signals.handle(body: Array(buffer: body), idempotencyKey: idempotencyKey))
        } catch {
            return (error.status, error.jsonBody())
        }
    }

    /// The answer to a request refused before it is read: a wrong token, a body too large.
    private func refusal(token sent: String?, tooLarge: Bool) -> (HTTPResponse.Status, [UInt8])? {
        guard let sent, tokensEqual(sent, token) else {
            let error = APIError.unauthorized()
            return (error.status, error.jsonBody())
        }
        guard !tooLarge else {
            let error = APIError(
                .contentTooLarge, "HTTP_413", "a signal's body is at most \(Self.maxBodyBytes) bytes")
            return (error.status, error.jsonBody())
        }
        return nil
    }
}
