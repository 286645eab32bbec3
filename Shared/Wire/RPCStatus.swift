import FleetProto

/// A non-OK outcome of a call, with the gRPC status code and a message a human can act on.
public struct RPCStatus: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: Fleet_V1_StatusCode
    public let message: String

    public init(_ code: Fleet_V1_StatusCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.name): \(message)" }

    public static func invalidArgument(_ message: String) -> RPCStatus { RPCStatus(.invalidArgument, message) }
    public static func unavailable(_ message: String) -> RPCStatus { RPCStatus(.unavailable, message) }
    public static func deadlineExceeded(_ message: String = "the request's deadline passed before it ran") -> RPCStatus
    {
        RPCStatus(.deadlineExceeded, message)
    }
}

extension Fleet_V1_StatusCode {
    /// The gRPC spelling, e.g. `INVALID_ARGUMENT`.
    public var name: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        case .UNRECOGNIZED(let value): "CODE_\(value)"
        }
    }
}
