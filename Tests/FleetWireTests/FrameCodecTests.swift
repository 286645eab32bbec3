import FleetProto
import FleetWire
import NIOCore
import NIOEmbedded
import NIOTestUtils
import SwiftProtobuf
import Testing

struct FrameCodecTests {
    static func frame(_ streamID: UInt64, payloadSize: Int = 10) -> Fleet_V1_Frame {
        var frame = Fleet_V1_Frame()
        frame.streamID = streamID
        frame.request.method = .submitOrder
        frame.request.deadlineUnixNs = 123
        frame.request.payload = .init(repeating: UInt8(streamID & 0xff), count: payloadSize)
        return frame
    }

    /// Byte by byte, all at once, and in random splits and coalescings, the same frames come out.
    @Test func decodesTheSameWhateverTheReadBoundaries() throws {
        let frames = (1...20).map { Self.frame(UInt64($0), payloadSize: $0 * 37) }
        var wire = ByteBuffer()
        for frame in frames { wire.writeBytes(try frame.wireBytes()) }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(wire, frames)], decoderFactory: { FrameDecoder() })
    }

    @Test func randomSplitsAndCoalescing() throws {
        var generator = SystemRandomNumberGenerator()
        let frames = (1...200).map { Self.frame(UInt64($0), payloadSize: Int.random(in: 0...500, using: &generator)) }
        var bytes: [UInt8] = []
        for frame in frames { bytes += try frame.wireBytes() }
        for _ in 0..<20 {
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
            var offset = 0
            while offset < bytes.count {
                let size = min(bytes.count - offset, Int.random(in: 1...700, using: &generator))
                try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<offset + size]))
                offset += size
            }
            var decoded: [Fleet_V1_Frame] = []
            while let frame = try channel.readInbound(as: Fleet_V1_Frame.self) { decoded.append(frame) }
            #expect(decoded == frames)
            _ = try channel.finish()
        }
    }

    @Test func oversizedLengthIsRefusedBeforeBuffering() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameSize: 1024)))
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(1025), endianness: .big)
        #expect(throws: FrameCodecError.frameTooLarge(length: 1025, limit: 1024)) { try channel.writeInbound(buffer) }
        _ = try? channel.finish()
    }

    @Test func defaultLimitIsFourMebibytes() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(4 * 1024 * 1024 + 1), endianness: .big)
        #expect(throws: FrameCodecError.self) { try channel.writeInbound(buffer) }
        _ = try? channel.finish()
    }

    @Test func garbageIsAMalformedFrame() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var buffer = ByteBuffer()
        let garbage: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]
        buffer.writeInteger(UInt32(garbage.count), endianness: .big)
        buffer.writeBytes(garbage)
        #expect {
            try channel.writeInbound(buffer)
        } throws: { error in
            if case FrameCodecError.malformedFrame = error { return true }
            return false
        }
        _ = try? channel.finish()
    }

    @Test func encoderWritesLengthPrefix() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder()))
        let frame = Self.frame(7)
        try channel.writeOutbound(OutboundFrame.frame(frame))
        let outbound = try channel.readOutbound(as: ByteBuffer.self)
        var out = try #require(outbound)
        let prefix = out.readInteger(endianness: .big, as: UInt32.self)
        let length = try #require(prefix)
        #expect(Int(length) == out.readableBytes)
        #expect(try Fleet_V1_Frame(serializedBytes: Array(out.readableBytesView)) == frame)
        _ = try channel.finish()
    }

    /// Event batches are encoded off the event loop and written as they are: the bytes on the wire
    /// are the same frames, and they decode one by one.
    @Test func preEncodedFramesGoOutAsTheyAre() throws {
        let frames = (1...3).map { Self.frame(UInt64($0)) }
        var encoded = ByteBufferAllocator().buffer(capacity: 64)
        for frame in frames { try FrameEncoder.append(frame, to: &encoded) }
        let channel = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder()))
        try channel.writeOutbound(OutboundFrame.encoded(encoded))
        let outbound = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(outbound.readableBytesView) == frames.flatMap { (try? $0.wireBytes()) ?? [] })
        let decoder = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        try decoder.writeInbound(outbound)
        var decoded: [Fleet_V1_Frame] = []
        while let frame = try decoder.readInbound(as: Fleet_V1_Frame.self) { decoded.append(frame) }
        #expect(decoded == frames)
        _ = try channel.finish()
        _ = try decoder.finish()
    }
}
