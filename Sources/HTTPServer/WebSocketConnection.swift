import Synchronization

/// Sends on one upgraded server connection; the handle a `WebSocketHandler` receives in `didOpen`.
///
/// Every method is safe from any thread, with the same model as `HTTPResponder`: frames are encoded on the
/// caller's thread, counted at once in `queuedBytes` and queued to the connection's event loop (`Mutex`
/// queue plus `eventfd`; run at once when called on the loop thread with nothing queued).
/// Backpressure: `sendText`/`sendBinary` return false above the server's `writeHighWaterMark`; a producer
/// that then waits for `onWritable` keeps the buffer for a slow client bounded. Frames sent after the close
/// handshake began are dropped (and the send returns false).
/// Concurrency: `Sendable`; state is `Atomic`s.
public final class WebSocketConnection: Sendable {
    /// `a.b.c.d:port` of the peer.
    public let remoteAddress: String
    let loop: EventLoop
    let token: UInt64
    let shared: ConnectionShared
    private let highWaterMark: Int
    private let closing = Atomic<Bool>(false)

    init(loop: EventLoop, token: UInt64, shared: ConnectionShared, remoteAddress: String, highWaterMark: Int) {
        self.loop = loop
        self.token = token
        self.shared = shared
        self.remoteAddress = remoteAddress
        self.highWaterMark = highWaterMark
    }

    /// Sends one text message (`text` must be UTF-8; it is not re-validated).
    @discardableResult
    public func sendText(_ text: [UInt8]) -> Bool { send(.text, text) }

    @discardableResult
    public func sendText(_ text: String) -> Bool { send(.text, Array(text.utf8)) }

    /// Sends several text messages, in order, in one hand-off to the loop: a relay forwarding a burst
    /// costs one queue operation, not one per message.
    @discardableResult
    public func sendTexts(_ texts: [[UInt8]]) -> Bool {
        guard !isClosed else { return false }
        var frames: [UInt8] = []
        frames.reserveCapacity(texts.reduce(0) { $0 + $1.count + 10 })
        for text in texts { WebSocketFrameEncoder.appendServer(.text, text, to: &frames) }
        let queued = shared.queuedBytes.add(frames.count, ordering: .relaxed).newValue
        loop.perform(.webSocketSend(self, frames))
        return queued <= highWaterMark
    }

    @discardableResult
    public func sendBinary(_ bytes: [UInt8]) -> Bool { send(.binary, bytes) }

    private func send(_ opcode: WebSocketOpcode, _ payload: [UInt8]) -> Bool {
        guard !isClosed else { return false }
        let frame = WebSocketFrameEncoder.server(opcode, payload)
        let queued = shared.queuedBytes.add(frame.count, ordering: .relaxed).newValue
        loop.perform(.webSocketSend(self, frame))
        return queued <= highWaterMark
    }

    /// Starts the close handshake: sends a close frame, then drops TCP when the client answers (or after
    /// `closeTimeoutSeconds`). The handler's `didClose` gets this code. Later calls do nothing.
    public func close(code: UInt16 = WebSocketCloseCode.normal, reason: String = "") {
        guard !closing.exchange(true, ordering: .acquiringAndReleasing) else { return }
        loop.perform(.webSocketClose(self, code: code, reason: reason))
    }

    /// Drops the TCP connection at once, without a close frame (the handler's `didClose` gets 1006). For
    /// simulating a killed peer and for giving up on a client that does not answer.
    public func abort() {
        closing.store(true, ordering: .releasing)
        loop.perform(.webSocketAbort(self))
    }

    /// Runs `callback` once on the loop thread when queued bytes fall below the low-water mark (at once if
    /// they already are). Never runs if the connection closes first.
    public func onWritable(_ callback: @escaping @Sendable () -> Void) {
        loop.perform(.webSocketWatchWritable(self, callback))
    }

    /// Bytes of frames accepted and not yet written to the socket.
    public var queuedBytes: Int { shared.queuedBytes.load(ordering: .relaxed) }

    /// True once the close handshake began (either side) or the connection closed.
    public var isClosed: Bool { closing.load(ordering: .acquiring) || shared.closed.load(ordering: .acquiring) }

    /// The loop saw the session end (close frame either way, or TCP gone).
    func markClosing() { closing.store(true, ordering: .releasing) }
}
