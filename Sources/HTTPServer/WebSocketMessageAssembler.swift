/// Turns frames into messages: reassembles fragmented text/binary messages (control frames may arrive
/// between fragments and are passed on at once), enforces `maxMessageBytes` (1009), validates text as
/// UTF-8 (1007) and decodes close payloads (code + UTF-8 reason; invalid codes are 1002).
///
/// Pure: no I/O. Validates UTF-8 when the message is complete, not per fragment, so a bad byte is reported
/// at the end of its message. Concurrency: a value owned by one connection.
public struct WebSocketMessageAssembler: Sendable {
    public let maxMessageBytes: Int
    private var fragments: [UInt8] = []
    private var fragmentOpcode: WebSocketOpcode?

    public init(maxMessageBytes: Int) { self.maxMessageBytes = maxMessageBytes }

    /// The event `frame` completes, nil for a non-final fragment, or the reason to fail the connection.
    public mutating func push(_ frame: WebSocketFrame) throws(WebSocketProtocolError) -> WebSocketEvent? {
        switch frame.opcode {
        case .ping: return .ping(frame.payload)
        case .pong: return .pong(frame.payload)
        case .close: return try Self.decodeClose(frame.payload)
        case .text, .binary:
            guard fragmentOpcode == nil else { throw .interleavedMessage }
            guard frame.payload.count <= maxMessageBytes else { throw .messageTooBig }
            if frame.fin { return try Self.message(frame.opcode, frame.payload) }
            fragmentOpcode = frame.opcode
            fragments = frame.payload
            return nil
        case .continuation:
            guard let opcode = fragmentOpcode else { throw .unexpectedContinuation }
            guard fragments.count + frame.payload.count <= maxMessageBytes else { throw .messageTooBig }
            fragments.append(contentsOf: frame.payload)
            guard frame.fin else { return nil }
            let message = fragments
            fragments = []
            fragmentOpcode = nil
            return try Self.message(opcode, message)
        }
    }

    private static func message(
        _ opcode: WebSocketOpcode,
        _ payload: [UInt8]
    ) throws(WebSocketProtocolError)
        -> WebSocketEvent
    {
        guard opcode == .text else { return .binary(payload) }
        guard isValidUTF8(payload) else { throw .invalidUTF8 }
        return .text(payload)
    }

    /// Decodes a close payload: empty, or a 2-byte code plus a UTF-8 reason.
    public static func decodeClose(_ payload: [UInt8]) throws(WebSocketProtocolError) -> WebSocketEvent {
        if payload.isEmpty { return .close(code: nil, reason: "") }
        guard payload.count >= 2 else { throw .invalidClosePayload }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard WebSocketCloseCode.isValidOnWire(code) else { throw .invalidCloseCode }
        let reason = Array(payload[2...])
        guard isValidUTF8(reason) else { throw .invalidUTF8 }
        return .close(code: code, reason: String(decoding: reason, as: UTF8.self))
    }

    /// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
    public static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isValidUTF8($0) }
    }

    private static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            // ASCII runs eight bytes at a time: JSON text frames are almost all ASCII.
            while i + 8 <= n, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
            }
            guard i < n else { break }
            let b = bytes[i]
            if b < 0x80 {
                i += 1
                continue
            }
            let count: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch b {
            case 0xC2...0xDF: count = 1
            case 0xE0:
                count = 2
                low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: count = 2
            case 0xED:
                count = 2
                high = 0x9F
            case 0xF0:
                count = 3
                low = 0x90
            case 0xF1...0xF3: count = 3
            case 0xF4:
                count = 3
                high = 0x8F
            default: return false
            }
            guard i + count < n else { return false }
            let second = bytes[i + 1]
            guard second >= low && second <= high else { return false }
            for k in 2..<(count + 1) {
                guard bytes[i + k] & 0xC0 == 0x80 else { return false }
            }
            i += count + 1
        }
        return true
    }
}
