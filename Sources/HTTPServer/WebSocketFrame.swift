/// The opcode of one RFC 6455 frame (§5.2). Values 3–7 and 11–15 are reserved and rejected by the parser.
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    /// Close, ping and pong: at most 125 payload bytes, never fragmented, allowed between fragments.
    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// One decoded WebSocket frame: its payload is already unmasked.
///
/// Does not represent extensions: Sightline negotiates none, so RSV bits never reach this type (the parser
/// fails the connection on them). Concurrency: a value type; `Sendable`.
public struct WebSocketFrame: Sendable, Equatable {
    public var fin: Bool
    public var opcode: WebSocketOpcode
    public var payload: [UInt8]

    public init(fin: Bool = true, opcode: WebSocketOpcode, payload: [UInt8]) {
        self.fin = fin
        self.opcode = opcode
        self.payload = payload
    }
}

/// What a WebSocket peer delivers after fragments are reassembled and control frames are decoded.
public enum WebSocketEvent: Sendable, Equatable {
    /// A complete text message, validated as UTF-8.
    case text([UInt8])
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// A close frame: `code` is nil when the frame had no payload (RFC 6455 §7.1.5: "no status code", 1005).
    case close(code: UInt16?, reason: String)
}
