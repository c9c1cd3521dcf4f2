import Synchronization

/// Answers one request on one connection.
///
/// Every method is safe to call from any thread: work is queued to the connection's event loop (a
/// `Mutex` queue plus an `eventfd` wakeup); called on the loop thread with nothing queued, it runs at once.
/// Exactly one of `respond`, `beginStream`…`end`, or `abort` finishes a request; calls after that are
/// ignored. If the client goes away first, `onClose` callbacks run once and later writes are dropped.
///
/// Backpressure: `write` counts its bytes at once (an `Atomic` shared with the connection, decremented as
/// bytes reach the socket) and returns false above `writeHighWaterMark`; a producer that waits for
/// `onWritable` after a false keeps the server's buffer for a slow client bounded.
/// Concurrency: `Sendable`; state is `Atomic`s and a `Mutex` guarding the close callbacks.
public final class HTTPResponder: Sendable {
    private struct CloseState {
        var callbacks: [@Sendable () -> Void] = []
        var closed = false
        var settled = false
    }

    private static let fresh: UInt8 = 0
    private static let streaming: UInt8 = 1
    private static let finished: UInt8 = 2

    /// `a.b.c.d:port` of the peer.
    public let remoteAddress: String
    let loop: EventLoop
    let token: UInt64
    let shared: ConnectionShared
    private let highWaterMark: Int
    private let progress = Atomic<UInt8>(0)
    private let closeState = Mutex(CloseState())

    init(loop: EventLoop, token: UInt64, shared: ConnectionShared, remoteAddress: String, highWaterMark: Int) {
        self.loop = loop
        self.token = token
        self.shared = shared
        self.remoteAddress = remoteAddress
        self.highWaterMark = highWaterMark
    }

    /// A complete response with `Content-Length` (added unless `headers` has one). `HEAD`: no body bytes.
    public func respond(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        guard transition(from: Self.fresh, to: Self.finished) else { return }
        loop.perform(.respond(self, status: status, headers: headers, body: body))
    }

    /// Starts a streamed response: chunked on HTTP/1.1 (close-delimited on 1.0) unless `headers` carries a
    /// `Content-Length`. Each `write` is flushed to the socket as soon as the loop runs, event by event.
    public func beginStream(status: Int, headers: HTTPHeaders) {
        guard transition(from: Self.fresh, to: Self.streaming) else { return }
        loop.perform(.beginStream(self, status: status, headers: headers))
    }

    /// Queues bytes of a streamed body. Returns false when the bytes queued for this client exceed the
    /// high-water mark: the caller should stop producing until `onWritable` fires. Never drops data that
    /// it accepted while the connection is open. Also returns false (and drops `bytes`) when no stream is
    /// open: before `beginStream`, after `end`/`abort`, or once the connection closed (see `onClose`).
    ///
    /// `flush`: on the loop thread, send these bytes (and whatever is queued before them) now instead of with
    /// the loop's batch at the end of its current round. A relay wants that: libcurl may read several
    /// upstream chunks in one call, and the client should get each as it arrives, not after the last one.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool { write(bytes, flush: false) }

    @discardableResult
    public func write(_ bytes: [UInt8], flush: Bool) -> Bool {
        accept(bytes.count) { loop.performWrite(self, bytes, flush: flush) }
    }

    /// `write` for bytes the caller does not own (valid only during the call): on the loop thread with
    /// nothing queued they go straight into the connection's output buffer, without an array of their own.
    @discardableResult
    public func write(contentsOf bytes: UnsafeRawBufferPointer, flush: Bool = false) -> Bool {
        accept(bytes.count) { loop.performWrite(self, bytes, flush: flush) }
    }

    /// Counts `count` bytes as queued and hands them on with `handOff`, if a stream is open; returns whether
    /// the queue is still at or below the high-water mark.
    private func accept(_ count: Int, _ handOff: () -> Void) -> Bool {
        guard progress.load(ordering: .acquiring) == Self.streaming, !shared.closed.load(ordering: .acquiring) else {
            return false
        }
        if count == 0 { return shared.queuedBytes.load(ordering: .relaxed) <= highWaterMark }
        let queued = shared.queuedBytes.add(count, ordering: .relaxed).newValue
        handOff()
        return queued <= highWaterMark
    }

    /// Ends a streamed response (the terminating chunk); the connection may serve the next request.
    public func end() {
        guard transition(from: Self.streaming, to: Self.finished) else { return }
        loop.perform(.end(self))
    }

    /// Closes the connection at once, without finishing the response. `onClose` callbacks do not run.
    public func abort() {
        guard progress.exchange(Self.finished, ordering: .acquiringAndReleasing) != Self.finished else { return }
        loop.perform(.abort(self))
    }

    /// Closes the connection once the bytes already queued are written, without finishing the response
    /// (no terminating chunk): the peer sees a body cut short, as after an upstream drop. `onClose`
    /// callbacks do not run. Used by the simulator's `stream_cut` fault.
    public func abortAfterFlush() {
        guard progress.exchange(Self.finished, ordering: .acquiringAndReleasing) != Self.finished else { return }
        loop.perform(.abortAfterFlush(self))
    }

    /// Runs `callback` once, on the loop thread, when queued bytes fall below the low-water mark after a
    /// `write` returned false (at once if they already are). Never runs if the connection closes first.
    public func onWritable(_ callback: @escaping @Sendable () -> Void) {
        loop.perform(.watchWritable(self, callback))
    }

    /// Runs `callback` once if the connection closes before the response finished (client disconnect,
    /// write error, shutdown deadline). Runs at once, on the calling thread, if that already happened.
    public func onClose(_ callback: @escaping @Sendable () -> Void) {
        let runNow = closeState.withLock { state -> Bool in
            if state.closed { return true }
            if !state.settled { state.callbacks.append(callback) }
            return false
        }
        if runNow { callback() }
    }

    /// The event loop that owns this request's connection: work done there (`EventLoopHandle.execute`)
    /// reaches the connection without a thread hop.
    public var eventLoop: EventLoopHandle { EventLoopHandle(loop) }

    /// Bytes accepted by `write` (plus head and framing) and not yet written to the socket.
    public var queuedBytes: Int { shared.queuedBytes.load(ordering: .relaxed) }

    /// True once the response finished or the connection closed.
    public var isFinished: Bool {
        progress.load(ordering: .acquiring) == Self.finished || shared.closed.load(ordering: .acquiring)
    }

    // MARK: Loop side

    /// True once the caller ended or aborted the response (on its own thread, maybe not yet performed).
    var finishedByCaller: Bool { progress.load(ordering: .acquiring) == Self.finished }

    /// Claims the request for a WebSocket upgrade (see `HTTPResponder+WebSocket.swift`).
    func claimForUpgrade() -> Bool { transition(from: Self.fresh, to: Self.finished) }

    var writeHighWaterMark: Int { highWaterMark }

    private func transition(from: UInt8, to: UInt8) -> Bool {
        progress.compareExchange(expected: from, desired: to, ordering: .acquiringAndReleasing).exchanged
    }

    /// The response completed normally: close callbacks will never be needed.
    func settle() {
        closeState.withLock { state in
            state.settled = true
            state.callbacks.removeAll()
        }
    }

    /// The connection closed with this response unfinished: run the close callbacks once.
    func connectionClosed() {
        let callbacks = closeState.withLock { state -> [@Sendable () -> Void] in
            guard !state.closed, !state.settled else { return [] }
            state.closed = true
            let list = state.callbacks
            state.callbacks.removeAll()
            return list
        }
        for callback in callbacks { callback() }
    }
}
