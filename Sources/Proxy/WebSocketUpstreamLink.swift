import Foundation
import HTTPServer
import Metrics
import Synchronization

/// One upstream WebSocket session of a downstream `WebSocketSession`, pinned to one account: the socket,
/// the account slot it holds, and the bookkeeping that must happen exactly once per socket.
///
/// The account is acquired by the session before the link is built and released here exactly once —
/// when the socket ends or when the session retires the link, whichever comes first. The
/// `sightline_websocket_open_sessions{side="upstream"}` gauge and the upstream lifetime histogram move
/// here too, so a retired link whose close never arrives cannot unbalance them twice. Every message it receives
/// counts in `sightline_websocket_*{side="upstream",direction="received"}` and in `receivedBytes`
/// (`sightline_upstream_received_bytes_total`, as an HTTP upstream's body does).
/// Forwards socket events to `onEvent` tagged with its `serial`; the session ignores events of links it
/// has already replaced. It does not reconnect or decide anything.
/// Concurrency: `Sendable`; callbacks arrive on the socket's I/O thread, `retire` from the session queue.
final class WebSocketUpstreamLink: UpstreamWebSocketDelegate, Sendable {
    enum Event: Sendable {
        case opened(HTTPHeaders)
        /// The text messages of one read, in order (see `UpstreamWebSocketDelegate.didReceiveTexts`).
        case texts([[UInt8]])
        case closed(code: UInt16, reason: String)
        case failed(reason: String, status: Int?, refusal: UpstreamHandshakeRefusal?)
    }

    private struct State {
        var opened = false
        var openedAt = 0.0
        var released = false
        /// The link counts as a request in flight on its account only during a turn (see `holdSlotForTurn`).
        var holding = true
        var ended = false
    }

    let serial: Int
    /// The id the affinity map records for responses produced here (`wsu_<n>`).
    let sessionID: String
    let account: Int
    /// When it was made, on the monotonic clock (`ProxyContext.monotonic`): its age decides recycling.
    let createdAt: Double
    /// The account's credential generation the handshake used (a refresh only if it is still current).
    let generation: Int
    private let pool: AccountPool
    private let metrics: WebSocketMetrics
    private let receivedBytes: Counter
    /// `sightline_upstream_sent_bytes_total`: a frame once written to the socket, a turn carried over HTTP by the
    /// body it sends.
    private let sentBytes: Counter
    private let monotonic: @Sendable () -> Double
    private let onEvent: @Sendable (Int, Event) -> Void
    private let state = Mutex(State())
    private let socket = Mutex<UpstreamWebSocket?>(nil)
    /// Set instead of a socket when the account refused the upgrade: each turn is one HTTP request.
    private let http = Mutex<
        (client: UpstreamClient, url: String, headers: [(String, String)], transfer: UpstreamTransfer?)?
    >(nil)

    init(
        serial: Int,
        sessionID: String,
        account: Int,
        generation: Int = 0,
        pool: AccountPool,
        metrics: WebSocketMetrics,
        receivedBytes: Counter,
        sentBytes: Counter,
        monotonic: @escaping @Sendable () -> Double,
        onEvent: @escaping @Sendable (Int, Event) -> Void
    ) {
        self.serial = serial
        self.sessionID = sessionID
        self.account = account
        self.generation = generation
        self.pool = pool
        self.metrics = metrics
        self.receivedBytes = receivedBytes
        self.sentBytes = sentBytes
        self.monotonic = monotonic
        self.onEvent = onEvent
        createdAt = monotonic()
    }

    /// Builds and starts the socket, with the TLS and egress settings of the proxy's HTTP client
    /// (`clientConfiguration`). Call once.
    func start(
        url: URL,
        headers: HTTPHeaders,
        pingIntervalSeconds: Double,
        connectTimeoutSeconds: Double,
        clientConfiguration: UpstreamClientConfiguration
    ) {
        let ws = UpstreamWebSocket(
            url: url,
            headers: headers,
            delegate: self,
            pingIntervalSeconds: pingIntervalSeconds,
            connectTimeoutSeconds: connectTimeoutSeconds,
            clientConfiguration: clientConfiguration,
            sendQueueOverflows: metrics.sendQueueOverflows,
            textWritten: { [metrics, sentBytes] bytes in
                metrics.message(side: "upstream", direction: "sent", bytes: bytes)
                sentBytes.increment(by: UInt64(bytes))
            }
        )
        socket.withLock { $0 = ws }
        ws.start()
    }

    /// Carries turns over HTTP instead (the account answered the upgrade with 426). Call once, instead
    /// of `start`.
    func startHTTP(client: UpstreamClient, url: String, headers: [(String, String)]) {
        state.withLock { $0.opened = true }  // nothing to open; not an upstream WebSocket session
        http.withLock { $0 = (client, url, headers, nil) }
    }

    var viaHTTP: Bool { http.withLock { $0 != nil } }

    /// Queues one `response.create` frame (sent after the handshake when the socket is still opening), or
    /// starts its HTTP request.
    func send(_ frame: [UInt8]) {
        if let carrier = http.withLock({ $0 }) {
            // The frame's turn state goes where an HTTP upstream reads it, a request header.
            var headers = carrier.headers.filter { $0.0.foldedForHeaders != "x-codex-turn-state" }
            if let turnState = WebSocketHTTPCarrier.turnState(of: frame) {
                headers.append(("x-codex-turn-state", turnState))
            }
            let request = UpstreamRequest(
                url: carrier.url,
                method: "POST",
                headers: headers,
                body: WebSocketHTTPCarrier.body(for: frame)
            )
            sentBytes.increment(by: UInt64(request.body.count))
            let delegate = WebSocketHTTPCarrier { [self] event in onEvent(serial, event) }
            let transfer = carrier.client.start(request, delegate: delegate)
            http.withLock { $0?.transfer = transfer }
            return
        }
        // Counted by the socket once written (`textWritten`), so a frame `retire` drops is not a sent message.
        socket.withLock { $0 }?.send(text: frame)
    }

    /// Closes the socket (or cancels the HTTP request) and gives the account slot back; later events are
    /// ignored by the session.
    func retire(reason: String = "") {
        releaseOnce()
        http.withLock { $0?.transfer }?.cancel()
        socket.withLock { $0 }?.close(code: 1000, reason: reason)
    }

    var isOpen: Bool { state.withLock { $0.opened && !$0.ended } }

    /// The handshake succeeded at some point (a failure before it is an upgrade failure).
    var didEverOpen: Bool { state.withLock { $0.opened } }

    func didOpen(headers: HTTPHeaders) {
        state.withLock { s in
            s.opened = true
            s.openedAt = monotonic()
        }
        metrics.openSessions(side: "upstream").add(1)
        onEvent(serial, .opened(headers))
    }

    func didReceiveTexts(_ texts: [[UInt8]]) {
        for text in texts {
            metrics.message(side: "upstream", direction: "received", bytes: text.count)
            // What the upstream API sent, as an HTTP answer's body counts: until 2026-12-08 only HTTP counted, so the
            // upstream side read 0 for WebSocket traffic while what was sent to it counted.
            receivedBytes.increment(by: UInt64(text.count))
        }
        onEvent(serial, .texts(texts))
    }

    func didClose(code: UInt16, reason: String) {
        end()
        onEvent(serial, .closed(code: code, reason: reason))
    }

    func didFail(reason: String, status: Int?, refusal: UpstreamHandshakeRefusal?) {
        end()
        onEvent(serial, .failed(reason: reason, status: status, refusal: refusal))
    }

    private func end() {
        let (wasOpen, openedAt) = state.withLock { s -> (Bool, Double) in
            defer { s.ended = true }
            return (s.opened && !s.ended, s.openedAt)
        }
        if wasOpen {
            metrics.openSessions(side: "upstream").add(-1)
            metrics.sessionLifetime(side: "upstream").observe(max(0, monotonic() - openedAt))
        }
        releaseOnce()
        // The socket holds this link as its delegate: drop the link's reference once the socket ended, or
        // the pair would keep each other (and the socket's eventfd) alive forever.
        socket.withLock { $0 = nil }
    }

    private func releaseOnce() {
        let first = state.withLock { s -> Bool in
            defer {
                s.released = true
                s.holding = false
            }
            return !s.released && s.holding
        }
        if first { pool.release(account) }
    }

    /// Gives the account slot back when a turn ends: an idle upstream socket between turns is not a request
    /// in flight, and must not starve the account's concurrency cap (idle Codex sessions, pooled bridges).
    func releaseSlotBetweenTurns() {
        let release = state.withLock { s -> Bool in
            guard s.holding && !s.released else { return false }
            s.holding = false
            return true
        }
        if release { pool.release(account) }
    }

    /// Takes the slot again before the next turn on this socket.
    func holdSlotForTurn() {
        let hold = state.withLock { s -> Bool in
            guard !s.holding && !s.released else { return false }
            s.holding = true
            return true
        }
        if hold { pool.reacquire(account) }
    }
}
