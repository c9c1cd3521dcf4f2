/// Why a WebSocket connection is failed, with the close code to send (RFC 6455 §7.4.1).
///
/// `reason` is a stable, low-cardinality token (also sent as the close reason); `closeCode` is 1002
/// (protocol error), 1007 (invalid UTF-8) or 1009 (message too big). Concurrency: a value; `Sendable`.
public struct WebSocketProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public let closeCode: UInt16
    public let reason: String

    public init(closeCode: UInt16, reason: String) {
        self.closeCode = closeCode
        self.reason = reason
    }

    public var description: String { "\(reason) (close \(closeCode))" }

    static let reservedBits = Self(closeCode: WebSocketCloseCode.protocolError, reason: "reserved_bits_set")
    static let unknownOpcode = Self(closeCode: WebSocketCloseCode.protocolError, reason: "unknown_opcode")
    static let unmaskedClientFrame = Self(closeCode: WebSocketCloseCode.protocolError, reason: "unmasked_client_frame")
    static let maskedServerFrame = Self(closeCode: WebSocketCloseCode.protocolError, reason: "masked_server_frame")
    static let fragmentedControlFrame = Self(
        closeCode: WebSocketCloseCode.protocolError,
        reason: "fragmented_control_frame"
    )
    static let controlFrameTooLong = Self(closeCode: WebSocketCloseCode.protocolError, reason: "control_frame_too_long")
    static let invalidLength = Self(closeCode: WebSocketCloseCode.protocolError, reason: "invalid_length")
    static let unexpectedContinuation = Self(
        closeCode: WebSocketCloseCode.protocolError,
        reason: "unexpected_continuation"
    )
    static let interleavedMessage = Self(closeCode: WebSocketCloseCode.protocolError, reason: "interleaved_message")
    static let invalidClosePayload = Self(closeCode: WebSocketCloseCode.protocolError, reason: "invalid_close_payload")
    static let invalidCloseCode = Self(closeCode: WebSocketCloseCode.protocolError, reason: "invalid_close_code")
    static let frameTooBig = Self(closeCode: WebSocketCloseCode.messageTooBig, reason: "frame_too_big")
    static let messageTooBig = Self(closeCode: WebSocketCloseCode.messageTooBig, reason: "message_too_big")
    static let invalidUTF8 = Self(closeCode: WebSocketCloseCode.invalidPayload, reason: "invalid_utf8")
}

/// Close status codes (RFC 6455 §7.4) Sightline sends or checks.
public enum WebSocketCloseCode {
    public static let normal: UInt16 = 1000
    public static let goingAway: UInt16 = 1001
    public static let protocolError: UInt16 = 1002
    public static let unsupportedData: UInt16 = 1003
    /// Never on the wire: "the close frame had no code".
    public static let noStatus: UInt16 = 1005
    /// Never on the wire: "the TCP connection ended without a close frame".
    public static let abnormal: UInt16 = 1006
    public static let invalidPayload: UInt16 = 1007
    public static let policyViolation: UInt16 = 1008
    public static let messageTooBig: UInt16 = 1009
    public static let internalError: UInt16 = 1011

    /// True for a code a peer may put in a close frame: 1000–1003, 1007–1014 (IANA-registered) and
    /// 3000–4999 (libraries, applications). 1004–1006, 1015 and everything else is a protocol error.
    public static func isValidOnWire(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }
}
