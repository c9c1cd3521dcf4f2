/// Answers one request on one connection. (STUB: the public surface is fixed; the implementation lands
/// with the event-loop server.)
///
/// Every method is safe to call from any thread: work is queued to the connection's event loop.
/// Exactly one of `respond`, `beginStream`…`end`, or `abort` finishes a request; calls after that are
/// ignored. If the client goes away first, `onClose` callbacks run once and later writes are dropped.
public final class HTTPResponder: Sendable {
    /// `a.b.c.d:port` of the peer.
    public let remoteAddress: String

    init(remoteAddress: String) { self.remoteAddress = remoteAddress }

    /// A complete response with `Content-Length`.
    public func respond(status: Int, headers: HTTPHeaders, body: [UInt8]) { fatalError("stub") }

    /// Starts a streamed response: chunked on HTTP/1.1 (close-delimited on 1.0) unless `headers` carries a
    /// `Content-Length`. Each `write` is flushed to the socket as soon as the loop runs, event by event.
    public func beginStream(status: Int, headers: HTTPHeaders) { fatalError("stub") }

    /// Queues bytes of a streamed body. Returns false when the bytes queued for this client exceed the
    /// high-water mark: the caller should stop producing until `onWritable` fires. Never drops data that
    /// it accepted while the connection is open.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool { fatalError("stub") }

    /// Ends a streamed response (the terminating chunk); the connection may serve the next request.
    public func end() { fatalError("stub") }

    /// Closes the connection at once, without finishing the response.
    public func abort() { fatalError("stub") }

    /// Runs `callback` once, on the loop thread, when queued bytes fall below the low-water mark after a
    /// `write` returned false (at once if they already are).
    public func onWritable(_ callback: @escaping @Sendable () -> Void) { fatalError("stub") }

    /// Runs `callback` once if the connection closes before the response finished (client disconnect,
    /// write error, shutdown deadline). Runs at once if that already happened.
    public func onClose(_ callback: @escaping @Sendable () -> Void) { fatalError("stub") }

    /// Bytes accepted by `write` and not yet written to the socket.
    public var queuedBytes: Int { fatalError("stub") }

    /// True once the response finished or the connection closed.
    public var isFinished: Bool { fatalError("stub") }
}
