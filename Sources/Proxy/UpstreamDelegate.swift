/// What a delegate wants after seeing a chunk of response body.
public enum UpstreamFlow: Sendable, Equatable {
    /// The bytes were consumed; keep reading.
    case proceed
    /// The bytes were NOT consumed. The transfer stops reading (the upstream sees TCP backpressure) until
    /// `UpstreamTransfer.resume()`; then the same bytes are delivered again, followed by the rest.
    case pause
}

/// Receives the events of one upstream transfer.
///
/// Calling contract:
/// - Every method is called on the thread driving the transfer (the client's curl thread, or the event
///   loop it was started on), never concurrently for one transfer. They must return quickly and must not
///   block: one slow delegate stalls every transfer (and, on a loop, every connection) of that thread.
///   Hand bytes to another thread (copying them) if work is needed.
/// - `upstreamDidReceiveHead` is called at most once, before any body byte, for the final response only
///   (`1xx` interim responses are skipped). Header names keep the upstream's spelling; repeated headers
///   stay separate entries, in wire order.
/// - `upstreamDidReceive` gets the body as received on the wire (no content decoding, no de-chunking
///   beyond HTTP framing). The buffer is valid only during the call.
/// - `upstreamDidComplete` is called exactly once per started transfer, last, including after `cancel()`
///   (reason `cancelled`) and when the client shuts down. After it, no other method is called.
/// - It is safe to call `UpstreamTransfer.cancel()`/`resume()` and `UpstreamClient.start` from inside
///   these methods.
///
/// The client emits no metrics or logs itself: the proxy records them from these callbacks and from
/// `UpstreamCompletion`/`UpstreamFailure`.
public protocol UpstreamDelegate: AnyObject, Sendable {
    func upstreamDidReceiveHead(status: Int, headers: [(String, String)])
    func upstreamDidReceive(_ bytes: UnsafeRawBufferPointer) -> UpstreamFlow
    func upstreamDidComplete(_ result: Result<UpstreamCompletion, UpstreamFailure>)
}
