/// A frame parser plus a message assembler: bytes in, `WebSocketEvent`s out.
///
/// Pure: no I/O. Used by the server connection (role `.server`) and by WebSocket clients (`.client`).
/// After it throws, the connection must be failed with the error's close code.
/// Concurrency: a value owned by one connection.
public struct WebSocketReader: Sendable {
    public private(set) var frames: WebSocketFrameParser
    public private(set) var messages: WebSocketMessageAssembler

    /// `maxFrameBytes` defaults to `maxMessageBytes`: one frame can never exceed a message.
    public init(role: WebSocketFrameParser.Role, maxMessageBytes: Int, maxFrameBytes: Int? = nil) {
        frames = WebSocketFrameParser(role: role, maxFrameBytes: maxFrameBytes ?? maxMessageBytes)
        messages = WebSocketMessageAssembler(maxMessageBytes: maxMessageBytes)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) { frames.append(bytes) }
    public mutating func append(_ bytes: some Sequence<UInt8>) { frames.append(bytes) }

    /// The next complete event, or nil when more bytes are needed.
    public mutating func next() throws(WebSocketProtocolError) -> WebSocketEvent? {
        while let frame = try frames.nextFrame() {
            if let event = try messages.push(frame) { return event }
        }
        return nil
    }
}
