import Foundation
import HTTPServer
import LogRedaction
import WireFormats

/// One pooled upstream WebSocket of the HTTP bridge, for one continuity key: HTTP requests of that
/// conversation go out on it one at a time as `response.create` frames — only the new items with
/// `previous_response_id` when the request continues the previous turn (`BridgeContinuation`), in full
/// otherwise — and its event frames come back as SSE (or one aggregated Response for `stream:false`).
///
/// Any failure before the first byte reached the client hands the request, unchanged (full input, no
/// anchor), to the ordinary HTTP path (`ResponsesExchange`) with its own recovery, and drops this
/// session: the bridge is an optimisation that must undo itself losslessly, never a new failure mode.
/// After the first byte, a terminal `response.failed` as on the HTTP path.
/// Concurrency: `@unchecked Sendable`; all mutable state is confined to `queue`.
/// Emits: `sightline_requests_total{transport="http"}` and the "request finished" record (with
/// `sightline.bridge` = true) for requests it serves, `sightline_websocket_upstream_turns_total
/// {client="http_bridge"}`, and `sightline.bridge` log events.
final class BridgeSession: @unchecked Sendable {
    struct Request {
        var route: ProxyRoute
        var responder: HTTPResponder
        var query: String?
        var prepared: ResponsesExchange.Prepared
        var trace: TraceContext
        var serverSpan: Span
        var started: Double
        var fingerprint: [String: [UInt8]] = [:]
        var input: [[UInt8]]?
        var incremental = false
        var reused = false
        var sentAt = 0.0
        /// When the socket last sent a frame for this request (monotonic); nil before the first.
        var lastFrameAt: Double?
        var firstEventSeen = false
        var committed = false
        var held: [[UInt8]] = []
        var items: [(index: Int, bytes: [UInt8])] = []
        var aggregator = ResponseAggregator()
        var accountLabel: String?
        /// The `x-codex-*` headers of this request's `codex.rate_limits` frame, for the response head.
        var limitHeaders: [(String, String)] = []
        /// The `headers` of this request's `response.metadata` frame (the turn state), as the policy relays an
        /// HTTP answer's, for the response head.
        var metadataHeaders: [(String, String)] = []
        /// The account of the upstream send whose outcome `sightline_upstream_attempts_total` has not counted yet.
        var attemptAccount: Int?
        /// Reasoning items without content were left out of the frame (`reasoning_strip`, `reference_only`): settled
        /// when the request ends, or by the HTTP path it is handed to.
        var referenceOnlyStripped = false
    }

    let hub: WebSocketHub
    /// The continuity key: the upstream socket's `session-id` when the client sent none.
    let key: String
    /// The session's entry in `BridgePool`: the continuity key within its principal (`BridgePool.poolKey`).
    let poolKey: String
    let queue: DispatchQueue

    // Confined to `queue`.
    var link: WebSocketUpstreamLink?
    var previous: BridgeContinuation.Turn?
    var request: Request?
    /// SSE events of the current read not yet written to the client (`flushOutgoing`).
    var outgoing: [UInt8] = []

    init(hub: WebSocketHub, key: String, poolKey: String) {
        self.hub = hub
        self.key = key
        self.poolKey = poolKey
        queue = DispatchQueue(label: "sightline.bridge")
    }

    var ctx: ProxyContext { hub.ctx }

    /// Serves one HTTP request (already checked out of the pool as busy).
    func serve(_ r: Request) {
        r.responder.onClose { [weak self] in
            guard let self else { return }
            queue.async { self.clientClosed(r.responder) }
        }
        queue.async { [self] in begin(r) }
    }

    /// Closes the upstream session (pool eviction).
    func retire(reason: String) {
        queue.async { [self] in
            link?.retire(reason: reason)
            link = nil
            previous = nil
        }
    }

    private func begin(_ r: Request) {
        var r = r
        ctx.metrics.inFlightRequests.add(1)
        guard let top = try? JSONTopLevel.scan(r.prepared.body) else { return handOff(r, reason: "invalid_json") }
        r.fingerprint = BridgeContinuation.fingerprint(top)
        r.input = BridgeContinuation.items(top)
        if let old = link, ctx.monotonic() - old.createdAt >= hub.recycleSeconds {
            old.retire(reason: "recycled")
            link = nil
            previous = nil
        }
        // Its account left rotation since the last request (a quota or credential answer elsewhere): the request
        // goes, in full, where the selection sends it, not into that limit on the old socket.
        if let old = link, !ctx.pool.isInRotation(old.account, now: ctx.now()) {
            old.retire(reason: "owner_cooling")
            link = nil
            previous = nil
            log("bridge socket closed", reason: "owner_cooling", r)
        }
        // A reused session is not an affinity lookup (no `previous_response_id` comes over the bridge): counted as a
        // `hit`, it made `sightline_affinity_lookups_total` read stickiness as anchors that found their account.
        r.reused = link != nil
        if link == nil {
            guard openLink(&r) else { return handOff(r, reason: "no_account") }
        }
        guard let link else { return }
        link.holdSlotForTurn()
        var set: [(key: String, rawJSON: [UInt8])] = [(key: "type", rawJSON: JSONEncoding.string("response.create"))]
        if let previous, let input = r.input,
            let delta = BridgeContinuation().delta(previous: previous, fingerprint: r.fingerprint, input: input)
        {
            set.append((key: "input", rawJSON: JSONEncoding.array(delta)))
            set.append((key: "previous_response_id", rawJSON: JSONEncoding.string(previous.responseID)))
            r.incremental = true
        }
        if let turnState = r.prepared.forwardedHeaders.last(where: { $0.0 == "x-codex-turn-state" })?.1 {
            // The turn state an HTTP client echoes as a header goes where a WebSocket upstream reads it, the frame's
            // `client_metadata` (codex-protocol.md §5); until 2026-12-07 it only reached the upstream on the request
            // that opened the socket, in its handshake, and then stood for that request's turn on every later one.
            set.append((key: "client_metadata", rawJSON: Self.clientMetadata(top, turnState: turnState)))
        }
        r.sentAt = ctx.monotonic()
        r.accountLabel = ctx.pool.pseudonyms[link.account]
        r.attemptAccount = link.account
        var frame = top.rewriting(set: set, remove: [])
        // Every bridge account is a ChatGPT one: reasoning without content goes as over HTTP, not at all. Only what
        // is sent changes; the continuation still compares the client's input as it came.
        if r.prepared.holdsReasoningWithoutContent, let stripped = EncryptedReasoning.withoutReferenceOnly(body: frame)
        {
            frame = stripped
            r.referenceOnlyStripped = true
            recordReferenceOnly(.attempted, r)
        }
        request = r
        hub.metrics.upstreamTurns(session: r.reused ? "reused" : "new", client: "http_bridge").increment()
        link.send(frame)
        armSilenceTimer()
    }

    /// The request's `client_metadata` with `x-codex-turn-state` set to `turnState`; a new object when it has none
    /// (or something other than an object there).
    static func clientMetadata(_ top: JSONTopLevel, turnState: String) -> [UInt8] {
        let entry = (key: "x-codex-turn-state", rawJSON: JSONEncoding.string(turnState))
        guard top.kind(forKey: "client_metadata") == .object, let raw = top.rawValue(forKey: "client_metadata"),
            let metadata = try? JSONTopLevel.scan(Array(raw))
        else { return JSONEncoding.object([entry]) }
        return metadata.rewriting(set: [entry])
    }

    /// Watches the request just sent for silence, as a WebSocket turn is watched (`upstream.firstByteTimeoutSeconds`
    /// until the first frame, `idleTimeoutSeconds` between frames). Keyed by the request's start.
    func armSilenceTimer() {
        guard let r = request else { return }
        let started = r.started
        let deadline = silenceDeadline(r)
        guard deadline.isFinite else { return }  // that limit is off (0), as libcurl reads it over HTTP
        let remaining = deadline - ctx.monotonic()
        queue.asyncAfter(deadline: .now() + max(0.005, remaining)) { [weak self] in
            guard let self, let r = request, r.started == started, let link else { return }
            guard ctx.monotonic() >= silenceDeadline(r) else { return armSilenceTimer() }
            // The silent socket goes; the request goes on as after a lost socket (the HTTP path before output).
            let reason = UpstreamSilence.reason(lastFrameAt: r.lastFrameAt)
            link.retire(reason: reason)
            linkLost(link, status: nil, refusal: nil, reason: reason)
        }
    }

    private func silenceDeadline(_ r: Request) -> Double {
        UpstreamSilence.deadline(
            sentAt: r.sentAt,
            lastFrameAt: r.lastFrameAt,
            firstByteSeconds: ctx.configuration.upstreamFirstByteTimeoutSeconds,
            idleSeconds: ctx.configuration.upstreamIdleTimeoutSeconds
        )
    }

    private func openLink(_ r: inout Request) -> Bool {
        let selection = ctx.pool.acquire(
            session: r.prepared.sessionPseudonym,
            preferred: nil,
            excluded: [],
            now: ctx.now()
        )
        guard case .account(let index, _) = selection else { return false }
        let account = ctx.pool.accounts[index]
        guard account.kind == .chatgpt, let url = URL(string: account.baseURL + "/responses") else {
            ctx.pool.release(index)
            return false
        }
        let (serial, id) = hub.makeLinkID()
        let newLink = WebSocketUpstreamLink(
            serial: serial,
            sessionID: id,
            account: index,
            pool: ctx.pool,
            metrics: hub.metrics,
            receivedBytes: ctx.metrics.upstreamReceivedBytes,
            sentBytes: ctx.metrics.upstreamSentBytes,
            monotonic: ctx.monotonic,
            onEvent: { [weak self] serial, event in
                guard let self else { return }
                queue.async { self.upstream(serial: serial, event) }
            }
        )
        var headers = HTTPHeaders()
        // The turn state belongs to one request (its frame carries it), not to the socket that serves them all.
        for (name, value) in r.prepared.forwardedHeaders where name != "x-codex-turn-state" { headers.add(name, value) }
        let credentials = ctx.pool.credentials(index)
        if let authorization = credentials.authorization { headers.set("authorization", authorization) }
        if let id = credentials.accountID { headers.set("chatgpt-account-id", id) }
        headers.set("openai-beta", "responses_websockets=2026-02-06")
        if headers["originator"] == nil { headers.set("originator", "codex_cli_rs") }
        if headers["session-id"] == nil { headers.set("session-id", key) }
        link = newLink
        previous = nil
        newLink.start(
            url: url,
            headers: headers,
            pingIntervalSeconds: hub.pingIntervalSeconds,
            connectTimeoutSeconds: ctx.configuration.upstreamConnectTimeoutSeconds,
            clientConfiguration: ctx.upstream.configuration
        )
        return true
    }

    /// Gives the request to the ordinary HTTP path and forgets this session's upstream state.
    /// `decision`, when given, is recorded `attempted` here and settled by the exchange like its own.
    func handOff(_ r: Request, reason: String, decision: Decision? = nil, excluded: Int? = nil) {
        request = nil
        link?.retire(reason: reason)
        link = nil
        previous = nil
        ctx.metrics.inFlightRequests.add(-1)
        hub.bridge.remove(key: poolKey, session: self)
        log("bridge fell back to http", reason: reason, r)
        let exchange = ResponsesExchange(
            ctx: ctx,
            route: r.route,
            responder: r.responder,
            query: r.query,
            prepared: r.prepared,
            trace: r.trace,
            serverSpan: r.serverSpan
        )
        if r.referenceOnlyStripped {
            // Recorded here already: the HTTP path leaves the same items out again and settles this one decision.
            exchange.state.withLock { s in
                s.referenceOnlyStripped = true
                s.pending.append(.reasoningStrip)
            }
        }
        if let decision {
            ctx.recorder.record(
                decision,
                .attempted,
                reason: reason,
                account: r.accountLabel,
                session: r.prepared.sessionPseudonym,
                attempt: 1,
                span: r.serverSpan,
                trace: r.trace
            )
            exchange.state.withLock { s in
                s.pending.append(decision)
                if let excluded { s.excluded.insert(excluded) }
            }
        }
        exchange.start()
    }

    /// Records the `reference_only` strip of `r`'s frame with the request's identity.
    func recordReferenceOnly(_ outcome: RecoveryRecorder.Outcome, _ r: Request) {
        ctx.recorder.record(
            .reasoningStrip,
            outcome,
            reason: outcome == .attempted ? "reference_only" : "settled",
            account: r.accountLabel,
            session: r.prepared.sessionPseudonym,
            attempt: 1,
            span: r.serverSpan,
            trace: r.trace
        )
    }

    private func clientClosed(_ responder: HTTPResponder) {
        guard let r = request, r.responder === responder else { return }
        endForAbsentClient(error: "client_closed")
    }

    /// The request's client is gone (it closed, or it was dropped for not reading, `error`): its socket goes, as the
    /// turn on it runs for nobody, and the request ends 499.
    func endForAbsentClient(error: String) {
        link?.retire(reason: error)
        link = nil
        previous = nil
        finish(status: 499, error: error)
    }

    func log(_ body: StaticString, reason: String?, _ r: Request) {
        var attributes = [
            LogAttribute("sightline.bridge.incremental", .bool(r.incremental)),
            LogAttribute("sightline.websocket.session_reused", .bool(r.reused)),
        ]
        if let reason { attributes.append(LogAttribute("error.type", .string(reason))) }
        if let p = r.prepared.sessionPseudonym { attributes.append(LogAttribute("sightline.session", .pseudonym(p))) }
        ctx.logger.log(.info, body, event: "sightline.bridge", trace: r.trace, attributes)
    }
}
