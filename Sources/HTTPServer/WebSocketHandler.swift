/// The application side of one server WebSocket connection (one handler instance per connection).
///
/// Every method is called on the connection's event-loop thread, in order, and must not block; answer
/// through the `WebSocketConnection` given to `didOpen`, whose methods are safe from any thread.
/// Pings, pongs and the close handshake are handled by the server: the handler never sees them.
public protocol WebSocketHandler: Sendable {
    /// The 101 is queued and frames may be sent.
    func didOpen(_ connection: WebSocketConnection)
    /// A complete text message, already validated as UTF-8.
    func didReceiveText(_ text: [UInt8])
    /// A complete binary message.
    func didReceiveBinary(_ bytes: [UInt8])
    /// The session ended; called exactly once. `code` is the code of the close frame that ended it: the
    /// client's (1005 if its frame had none) or the server's own (a protocol error such as 1002/1007/1009,
    /// 1001 for idle or shutdown, or what `close(code:reason:)` sent); 1006 if TCP ended without a close.
    func didClose(code: UInt16, reason: String)
}

extension WebSocketHandler {
    public func didReceiveBinary(_ bytes: [UInt8]) {}
}
