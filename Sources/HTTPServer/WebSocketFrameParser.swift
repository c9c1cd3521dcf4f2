/// Decodes RFC 6455 frames from a byte stream, incrementally: feed any split of the bytes with `append`,
/// then call `nextFrame` until it returns nil (more bytes needed).
///
/// Enforces the frame-level rules: no RSV bits (no extension is ever negotiated), known opcodes only,
/// masking by role (a server requires masked client frames, a client rejects masked server frames), control
/// frames ≤ 125 bytes and unfragmented, 64-bit lengths with the top bit clear, and `maxFrameBytes` (checked
/// from the header, before the payload is buffered). Does not reassemble messages or look at payloads: see
/// `WebSocketMessageAssembler`. Pure: no I/O. After an error the parser is unusable; fail the connection.
/// Concurrency: a value owned by one connection.
public struct WebSocketFrameParser: Sendable {
    /// Which side of the connection this parser reads for.
    public enum Role: Sendable {
        /// Reads client frames: they must be masked.
        case server
        /// Reads server frames: they must not be masked.
        case client
    }

    public let role: Role
    public let maxFrameBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(role: Role, maxFrameBytes: Int) {
        self.role = role
        self.maxFrameBytes = maxFrameBytes
    }

    /// Bytes received and not yet consumed by a frame.
    public var bufferedBytes: Int { buffer.count - start }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            start = 0
        } else if start >= 4096 && start * 2 >= buffer.count {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }

    /// The next complete frame, nil when more bytes are needed, or the reason to fail the connection.
    public mutating func nextFrame() throws(WebSocketProtocolError) -> WebSocketFrame? {
        let available = buffer.count - start
        guard available >= 2 else { return nil }
        let b0 = buffer[start]
        let b1 = buffer[start + 1]
        guard b0 & 0x70 == 0 else { throw .reservedBits }
        guard let opcode = WebSocketOpcode(rawValue: b0 & 0x0F) else { throw .unknownOpcode }
        let fin = b0 & 0x80 != 0
        let masked = b1 & 0x80 != 0
        switch role {
        case .server where !masked: throw .unmaskedClientFrame
        case .client where masked: throw .maskedServerFrame
        default: break
        }
        if opcode.isControl {
            guard fin else { throw .fragmentedControlFrame }
            guard b1 & 0x7F <= 125 else { throw .controlFrameTooLong }
        }
        var headerLength = 2
        var length = UInt64(b1 & 0x7F)
        if length == 126 {
            guard available >= 4 else { return nil }
            length = UInt64(buffer[start + 2]) << 8 | UInt64(buffer[start + 3])
            headerLength = 4
        } else if length == 127 {
            guard available >= 10 else { return nil }
            length = 0
            for i in 0..<8 { length = length << 8 | UInt64(buffer[start + 2 + i]) }
            guard length >> 63 == 0 else { throw .invalidLength }
            headerLength = 10
        }
        guard length <= UInt64(maxFrameBytes) else { throw .frameTooBig }
        let maskOffset = start + headerLength
        if masked { headerLength += 4 }
        let total = headerLength + Int(length)
        guard available >= total else { return nil }
        let payloadStart = start + headerLength
        var payload = Array(buffer[payloadStart..<(payloadStart + Int(length))])
        if masked {
            let key = (buffer[maskOffset], buffer[maskOffset + 1], buffer[maskOffset + 2], buffer[maskOffset + 3])
            WebSocketFrameEncoder.applyMask(&payload, key: key)
        }
        start += total
        return WebSocketFrame(fin: fin, opcode: opcode, payload: payload)
    }
}
