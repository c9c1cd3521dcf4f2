import Foundation
import HTTPServer
import LogRedaction
import Metrics

/// One downstream Responses WebSocket (a Codex session): serves its `response.create` frames one at a
/// time over ONE upstream WebSocket pinned to one account, relaying the upstream's event frames back
/// unchanged, so incremental turns (`previous_response_id` + only the new items) keep working and stay
/// on the prompt cache.
///
/// Anchors follow connections (`WebSocketTurnPlanner`): an anchor is forwarded only while the upstream
/// session that produced it is open; after it died (closed, recycled at 55 min, moved by a pin reset)
/// the turn is replayed in full from the transcript cache, or the client gets the sanitised
/// `previous_response_not_found` that makes Codex resend everything. Before the first event of a turn
/// reached the client, upstream failures are recovered (`RecoveryPolicy`): credential and quota errors
/// reset the pin to another account, a dead connection is replaced; after it, a retryable 502 frame.
///
/// Concurrency: `@unchecked Sendable` because every mutable field is confined to `queue` (a serial
/// queue per session): downstream callbacks (loop thread) and upstream events (socket threads) hop
/// onto it, so the turn logic is single-threaded. Nothing on the queue blocks.
/// Emits per turn: `sightline_requests_total{transport="websocket"}`, `sightline_request_duration_seconds`,
/// `sightline_upstream_first_event_seconds{transport="websocket"}`, tokens, recovery decisions through
/// `RecoveryRecorder`, one SERVER span and the "request finished" record; per session the
/// `sightline_websocket_*` families and "websocket session opened/closed" records.
final class WebSocketSession: WebSocketHandler, @unchecked Sendable {
    let hub: WebSocketHub
    let id: String
    let route: ProxyRoute
    let principal: String
    /// The principal's `prn_` pseudonym, nil when anonymous: logged with each turn, owns its anchors.
    let principalPseudonym: String?
    let upgradeHeaders: HTTPHeaders
    let parent: TraceContext?
    let queue: DispatchQueue
    let openedAt: Double

    // Confined to `queue`.
    var connection: WebSocketConnection?
    var pendingFrames: [[UInt8]] = []
    /// The bytes of `pendingFrames`, bounded by `limits.maxWebSocketMessageBytes`: a client may queue one full-size
    /// frame behind a running turn, not an unbounded backlog in the proxy's memory.
    var pendingBytes = 0
    /// The client passed that bound and its connection is being closed: later frames are dropped uncounted, and
    /// no waiting one starts.
    var refusedBacklog = false
    /// What a waiting frame is charged beyond its bytes (the array and its slot in the queue).
    static let pendingFrameOverhead = 64
    /// The client fell more than `limits.maxDownstreamBacklogBytes` behind and its connection was dropped
    /// (`dropIfNotReading`): the turn it left ends as `client_not_reading`.
    var droppedAsNotReading = false
    /// While one upstream read is relayed: the frames for the client, sent together by `relayingBatch`.
    var downstreamBatch: [[UInt8]]?
    var turn: WebSocketTurn?
    var link: WebSocketUpstreamLink?
    /// The last response of `link`, the one anchor it can still resolve.
    var liveAnchor: String?
    var closed = false
    var turnsServed = 0
    /// Accounts whose upstream refused the upgrade (426): their turns go over HTTP for this session.
    var httpOnlyAccounts = Set<Int>()

    init(
        hub: WebSocketHub,
        id: String,
        route: ProxyRoute,
        principal: String,
        upgradeHeaders: HTTPHeaders,
        parent: TraceContext?
    ) {
        self.hub = hub
        self.id = id
        self.route = route
        self.principal = principal
        principalPseudonym = principal == "anonymous" ? nil : hub.ctx.pseudonymizer.pseudonym(.prn, principal)
        self.upgradeHeaders = upgradeHeaders
        self.parent = parent
        queue = DispatchQueue(label: "sightline.ws.\(id)")
        openedAt = hub.ctx.monotonic()
    }

    var ctx: ProxyContext { hub.ctx }
    var metrics: WebSocketMetrics { hub.metrics }

    // MARK: WebSocketHandler (loop thread)

    func didOpen(_ connection: WebSocketConnection) {
        metrics.openSessions(side: "downstream").add(1)
        ctx.metrics.openConnections(transport: "websocket").add(1)
        queue.async { [self] in
            self.connection = connection
            logSession("websocket session opened", side: "downstream", code: nil, reason: nil)
            pump()
        }
    }

    func didReceiveText(_ text: [UInt8]) {
        metrics.message(side: "downstream", direction: "received", bytes: text.count)
        queue.async { [self] in
            guard !closed, !refusedBacklog else { return }
            // Each frame is charged its bookkeeping too, so a flood of empty frames is bounded as well.
            let cost = text.count + Self.pendingFrameOverhead
            guard pendingBytes + cost <= ctx.configuration.maxWebSocketMessageBytes else {
                refusedBacklog = true
                pendingFrames = []
                pendingBytes = 0
                // The client keeps sending while its turns wait: refused as a protocol error, closed 1008. Frames
                // already answered stay answered; the waiting ones go with the connection.
                ctx.metrics.protocolErrors(reason: "websocket_too_many_pending_frames").increment()
                connection?.close(code: WebSocketCloseCode.policyViolation, reason: "too many frames waiting")
                return
            }
            pendingFrames.append(text)
            pendingBytes += cost
            pump()
        }
    }

    func didReceiveBinary(_ bytes: [UInt8]) {
        queue.async { [self] in
            connection?.close(code: WebSocketCloseCode.unsupportedData, reason: "binary frames are not supported")
        }
    }

    func didClose(code: UInt16, reason: String) {
        metrics.openSessions(side: "downstream").add(-1)
        ctx.metrics.openConnections(transport: "websocket").add(-1)
        queue.async { [self] in
            closed = true
            pendingFrames = []
            pendingBytes = 0
            if turn != nil { endTurn(status: 499, error: droppedAsNotReading ? "client_not_reading" : "client_closed") }
            link?.retire(reason: "client closed")
            link = nil
            liveAnchor = nil
            let lifetime = max(0, ctx.monotonic() - openedAt)
            metrics.sessionLifetime(side: "downstream").observe(lifetime)
            logSession("websocket session closed", side: "downstream", code: Int(code), reason: nil)
        }
    }

    // MARK: Upstream events (socket threads)

    func upstreamEvent(serial: Int, _ event: WebSocketUpstreamLink.Event) {
        queue.async { [self] in
            guard let link, link.serial == serial else { return }  // a replaced link
            handleUpstream(event, link: link)
        }
    }

    // MARK: On the queue

    /// Starts the next client frame when no turn is in flight.
    func pump() {
        guard !closed, !refusedBacklog, turn == nil, connection != nil, !pendingFrames.isEmpty else { return }
        let frame = pendingFrames.removeFirst()
        pendingBytes -= frame.count + Self.pendingFrameOverhead
        beginTurn(frame)
    }

    /// Sends one frame to the client (with the rest of its batch, while one is open); false when the client
    /// is gone.
    @discardableResult
    func sendDownstream(_ frame: [UInt8]) -> Bool {
        guard let connection, !closed else { return false }
        metrics.message(side: "downstream", direction: "sent", bytes: frame.count)
        if downstreamBatch != nil {
            downstreamBatch?.append(frame)
            return true
        }
        let belowHighWater = connection.sendText(frame)
        dropIfNotReading(connection)
        return belowHighWater
    }

    /// Relays one upstream read: the frames it sends the client leave in one hand-off to the event loop, as
    /// the HTTP bridge does (one per frame contended the loop's queue; docs/benchmarks.md, fifth pass).
    func relayingBatch(_ body: () -> Void) {
        downstreamBatch = []
        body()
        let frames = downstreamBatch ?? []
        downstreamBatch = nil
        guard !frames.isEmpty, let connection, !closed else { return }
        connection.sendTexts(frames)
        dropIfNotReading(connection)
    }

    /// An upstream WebSocket cannot be paused as an HTTP transfer is, so a client that stops reading while its turn
    /// streams would hold the turn's whole output in the proxy's memory. Past `limits.maxDownstreamBacklogBytes`
    /// queued for it, its connection is dropped; `didClose` then ends the session as on any close (the upstream
    /// socket retired, its account slot freed), the turn as `client_not_reading`.
    private func dropIfNotReading(_ connection: WebSocketConnection) {
        guard !droppedAsNotReading, connection.queuedBytes > ctx.configuration.maxDownstreamBacklogBytes else { return }
        droppedAsNotReading = true
        ctx.metrics.protocolErrors(reason: "client_not_reading").increment()
        connection.abort()
    }

    func logSession(_ body: StaticString, side: String, code: Int?, reason: String?, account: String? = nil) {
        var attributes = [
            LogAttribute("sightline.websocket.side", .string(side)),
            LogAttribute("sightline.websocket.session", .string(id)),
            LogAttribute("sightline.websocket.turns", .int(turnsServed)),
            LogAttribute("sightline.duration_seconds", .double(max(0, ctx.monotonic() - openedAt))),
        ]
        if let code { attributes.append(LogAttribute("sightline.websocket.close_code", .int(code))) }
        if let reason { attributes.append(LogAttribute("error.type", .string(reason))) }
        if let account { attributes.append(LogAttribute("sightline.account", .pseudonym(account))) }
        ctx.logger.log(.info, body, event: "sightline.websocket", trace: parent, attributes)
    }
}
