import Dispatch

/// Work handed to an event loop from any thread: what a responder asks its connection to do, and the
/// server's shutdown steps. Performed on the loop thread, in submission order.
enum LoopTask: Sendable {
    case respond(HTTPResponder, status: Int, headers: HTTPHeaders, body: [UInt8])
    case beginStream(HTTPResponder, status: Int, headers: HTTPHeaders)
    case write(HTTPResponder, [UInt8])
    case end(HTTPResponder)
    case abort(HTTPResponder)
    case abortAfterFlush(HTTPResponder)
    case watchWritable(HTTPResponder, @Sendable () -> Void)
    case upgrade(HTTPResponder, headers: HTTPHeaders, WebSocketConnection, any WebSocketHandler, WebSocketConfiguration)
    case webSocketSend(WebSocketConnection, [UInt8])
    case webSocketClose(WebSocketConnection, code: UInt16, reason: String)
    case webSocketAbort(WebSocketConnection)
    case webSocketWatchWritable(WebSocketConnection, @Sendable () -> Void)
    /// Close the listener, close idle connections, finish the rest; then signal.
    case stopAccepting(DispatchSemaphore)
    /// Close every connection now and leave the loop.
    case abortAll
    /// Run a closure on the loop thread (`EventLoopHandle.execute`).
    case run(@Sendable () -> Void)
}
