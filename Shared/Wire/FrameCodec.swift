import FleetProto
import NIOCore
import SwiftProtobuf

/// Splits the byte stream into `Frame`s: a 4-byte big-endian length, then that many bytes of one
/// protobuf `Frame`. A frame split over many reads, or many frames in one read, decode the same.
///
/// A length above `maxFrameSize` is refused before any of its body is buffered, so a hostile peer
/// cannot make us allocate what it announces; a body that is not a valid `Frame` is refused too.
/// Either way the decoder throws `FrameCodecError` and the connection handler closes the link.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Fleet_V1_Frame

    /// The default and the contract's limit: 4 MiB.
    public static let defaultMaxFrameSize = 4 * 1024 * 1024

    private enum State {
        case waitingForHeader
        case waitingForFrame(length: Int)
    }

    private var state: State = .waitingForHeader
    private let maxFrameSize: Int

    public init(maxFrameSize: Int = FrameDecoder.defaultMaxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if case .waitingForHeader = state {
            guard let length = buffer.readInteger(endianness: .big, as: UInt32.self) else { return .needMoreData }
            guard length <= maxFrameSize else {
                throw FrameCodecError.frameTooLarge(length: Int(length), limit: maxFrameSize)
            }
            state = .waitingForFrame(length: Int(length))
        }
        guard case .waitingForFrame(let length) = state else { return .needMoreData }
        guard buffer.readableBytes >= length else { return .needMoreData }
        let frame: Fleet_V1_Frame
        // readBytes cannot fail here: the length was checked against readableBytes above.
        let body = buffer.readBytes(length: length) ?? []
        do {
            frame = try Fleet_V1_Frame(serializedBytes: body)
        } catch {
            throw FrameCodecError.malformedFrame(length: length, detail: "\(error)")
        }
        state = .waitingForHeader
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A partial frame at end of stream is dropped: the peer went away mid-frame, and nothing of a
        // frame is ever acted on before the whole of it has arrived.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

/// What a link writes: a `Frame` to encode here, or frames already encoded elsewhere.
public enum OutboundFrame: Sendable {
    case frame(Fleet_V1_Frame)
    /// Whole frames (length prefixes included), as `FrameEncoder.append` writes them: encoded off
    /// the event loop (the engine's event batches are, on the thread that made them durable).
    case encoded(ByteBuffer)
}

/// Writes a `Frame` as its 4-byte big-endian length followed by its protobuf bytes.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = OutboundFrame

    public init() {}

    public func encode(data: OutboundFrame, out: inout ByteBuffer) throws {
        switch data {
        case .frame(let frame): try Self.append(frame, to: &out)
        case .encoded(var bytes): out.writeBuffer(&bytes)
        }
    }

    /// Appends `frame` as it goes on the wire: its length, then its bytes.
    public static func append(_ frame: Fleet_V1_Frame, to out: inout ByteBuffer) throws {
        let bytes: [UInt8] = try frame.serializedBytes()
        out.writeInteger(UInt32(bytes.count), endianness: .big)
        out.writeBytes(bytes)
    }
}

extension Fleet_V1_Frame {
    /// The frame as it goes on the wire (length prefix included); for tests, benchmarks and tools.
    public func wireBytes() throws -> [UInt8] {
        let body: [UInt8] = try serializedBytes()
        let length = UInt32(body.count)
        return [UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)]
            + body
    }
}

/// Bytes that are not a valid stream of frames. The link that sent them is closed.
public enum FrameCodecError: Error, Equatable, CustomStringConvertible {
    case frameTooLarge(length: Int, limit: Int)
    case malformedFrame(length: Int, detail: String)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let limit):
            "frame of \(length) bytes exceeds the \(limit)-byte limit"
        case .malformedFrame(let length, let detail):
            "frame of \(length) bytes is not a valid fleet.v1.Frame: \(detail)"
        }
    }
}
