import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Every API error is `{"error":{"code":"...","message":"..."}}` with a fitting status.
struct APIError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        makeResponse()
    }

    func makeResponse() -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: jsonBody())))
    }

    func jsonBody() -> [UInt8] {
        let body = ["error": ["code": code, "message": message]]
        return Array((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data())
    }

    static func unauthorized() -> APIError {
        APIError(.unauthorized, "UNAUTHORIZED", "missing or wrong X-OPS-TOKEN")
    }
}

/// Turns any error that escapes a route (Hummingbird's own 404/405 included) into the JSON shape.
struct ErrorJSONMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.makeResponse()
        } catch let error as HTTPError {
            let code =
                error.status == .notFound
                ? "NOT_FOUND" : error.status.code == 405 ? "METHOD_NOT_ALLOWED" : "HTTP_\(error.status.code)"
            return APIError(error.status, code, error.body ?? error.status.reasonPhrase).makeResponse()
        } catch let error as any HTTPResponseError {
            // Errors from Hummingbird's helpers that carry their own status: a body over
            // `collect(upTo:)`'s limit is NIO's `NIOTooManyBytesError` (413), not an `HTTPError`.
            return APIError(error.status, "HTTP_\(error.status.code)", error.status.reasonPhrase).makeResponse()
        } catch {
            return APIError(.internalServerError, "INTERNAL", "\(error)").makeResponse()
        }
    }
}

/// Mutating endpoints (POST, PUT, DELETE) need `X-OPS-TOKEN` equal to `OPS_API_TOKEN`.
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        switch request.method {
        case .get, .head, .options:
            return try await next(request, context)
        default:
            guard let sent = request.headers[SignalRoute.tokenField], tokensEqual(sent, token) else {
                throw APIError.unauthorized()
            }
            return try await next(request, context)
        }
    }
}

/// Compares in time that does not depend on where the first difference is.
func tokensEqual(_ sent: String, _ token: [UInt8]) -> Bool {
    guard sent.utf8.count == token.count else { return false }
    var difference: UInt8 = 0
    for (byte, expected) in zip(sent.utf8, token) { difference |= byte ^ expected }
    return difference == 0
}

/// JSON bodies: `Encodable` values as `application/json`.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let data = try encoder.encode(value)
    return Response(
        status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
