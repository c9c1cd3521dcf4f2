/// The application side of `HTTPServer`: called once per complete request.
///
/// Called on the connection's event-loop thread. It must not block: hand slow work to another thread
/// and answer through the responder, whose methods are safe from any thread. The connection serves no
/// further (pipelined) request until the responder has finished this one.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest, responder: HTTPResponder)
}

/// Observes the server's own decisions so the application can count them without this module knowing
/// about metrics. Every method has a default that does nothing. Called on event-loop threads.
public protocol HTTPServerObserver: Sendable {
    func connectionOpened()
    /// A connection that was never upgraded closed.
    func connectionClosed()
    /// A connection switched to WebSocket (the 101 went out): from here on it is the `WebSocketHandler`'s, whose
    /// `didClose` ends it, and its close is not reported again through `connectionClosed`.
    func connectionUpgraded()
    /// The server answered by itself with `status` because of `reason` (a low-cardinality token such as
    /// `header_too_large`, `body_too_large`, `malformed_request`, `header_timeout`, `body_timeout`,
    /// `bad_chunked_encoding`, `expectation_failed`, `too_many_connections` (503)). `idle_timeout` is reported
    /// with 408 but nothing is written: an idle connection is closed silently. After an upgrade, a client's
    /// WebSocket protocol error is reported as `websocket_<WebSocketProtocolError.reason>` with its close code
    /// (1002, 1007, 1009) as `status`, which is not an HTTP status.
    func protocolError(reason: String, status: Int)
    func bytesReceived(_ count: Int)
    func bytesSent(_ count: Int)
    /// A connection stopped being read because what it does not read passed `writeHighWaterMark` (answers to
    /// pipelined requests, pongs to a ping flood); `webSocket` after an upgrade. Once per pause, on its loop.
    func readingPaused(webSocket: Bool)
}

extension HTTPServerObserver {
    public func connectionOpened() {}
    public func connectionClosed() {}
    public func connectionUpgraded() {}
    public func protocolError(reason: String, status: Int) {}
    public func bytesReceived(_ count: Int) {}
    public func bytesSent(_ count: Int) {}
    public func readingPaused(webSocket: Bool) {}
}

/// An observer that ignores everything.
public struct NoHTTPServerObserver: HTTPServerObserver {
    public init() {}
}
