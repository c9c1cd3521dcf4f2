import Foundation
import HTTPServer
import LogRedaction
import Metrics
import Synchronization

/// The proxy's WebSocket side as a whole: accepts downstream upgrades on the responses paths and owns
/// what every `WebSocketSession` shares — the anchor → upstream-session affinity map and the transcript
/// cache that makes a dead anchor replayable, plus session numbering.
///
/// The affinity map and transcript cache are the proxy context's, shared with the HTTP path: a response
/// produced over WebSocket can be replayed by either transport. Does not route HTTP requests.
/// Concurrency: `Sendable`; the counters are atomics, the maps are thread-safe.
/// Emits: `sightline_websocket_upgrade_failures_total{side="downstream"}` and, per session, everything
/// `WebSocketSession` emits.
final class WebSocketHub: Sendable {
    let ctx: ProxyContext
    let affinity: AffinityMap
    let transcripts: TranscriptCache
    /// Upstream sessions are replaced between turns after this age (the backend caps them at 60 min).
    let recycleSeconds: Double
    /// The HTTP bridge's pooled upstream sessions.
    let bridge: BridgePool
    let pingIntervalSeconds: Double
    private let nextSession = Atomic<Int>(0)
    private let nextLink = Atomic<Int>(0)

    init(ctx: ProxyContext, recycleSeconds: Double = 55 * 60, pingIntervalSeconds: Double = 20) {
        self.ctx = ctx
        affinity = ctx.affinity
        transcripts = ctx.transcripts
        bridge = BridgePool(logger: ctx.logger, monotonic: ctx.monotonic)
        self.recycleSeconds = recycleSeconds
        self.pingIntervalSeconds = pingIntervalSeconds
    }

    var metrics: WebSocketMetrics { ctx.metrics.webSocket }

    /// The next upstream session id, `wsu_<n>` (process-unique, carries nothing).
    func makeLinkID() -> (serial: Int, id: String) {
        let n = nextLink.wrappingAdd(1, ordering: .relaxed).newValue
        return (n, "wsu_\(n)")
    }

    /// Upgrades an authenticated request on a responses path; answers it with an error otherwise.
    /// `principal` is the authenticated client (as for HTTP).
    func accept(_ request: HTTPRequest, responder: HTTPResponder, route: ProxyRoute, principal: String) {
        let n = nextSession.wrappingAdd(1, ordering: .relaxed).newValue
        let incoming = request.headers["traceparent"].flatMap { TraceContext(traceparent: $0) }
        let session = WebSocketSession(
            hub: self,
            id: "wsd_\(n)",
            route: route,
            principal: principal,
            upgradeHeaders: request.headers,
            parent: incoming
        )
        var configuration = WebSocketConfiguration(
            maxMessageBytes: ctx.configuration.maxWebSocketMessageBytes,
            idleTimeoutSeconds: 3600
        )
        configuration.maxFrameBytes = ctx.configuration.maxWebSocketFrameBytes
        if responder.upgradeToWebSocket(request: request, configuration: configuration, handler: session) == nil {
            refused("bad_handshake")
        }
    }

    /// Takes an HTTP Responses request onto the bridge when it applies (configuration on, every account a
    /// ChatGPT one, no client anchor, a continuity key, that key's session free); false: serve it over HTTP.
    func carry(
        route: ProxyRoute,
        query: String?,
        prepared: ResponsesExchange.Prepared,
        responder: HTTPResponder,
        trace: TraceContext,
        serverSpan: Span
    ) -> Bool {
        guard ctx.configuration.httpBridge, route == .responses, prepared.anchor == nil,
            let key = prepared.continuityKey,
            ctx.pool.isChatGPTOnly
        else { return false }
        let poolKey = BridgePool.poolKey(continuityKey: key.value, principal: prepared.principalPseudonym)
        guard
            let (session, _) = bridge.checkout(
                key: poolKey,
                now: ctx.monotonic(),
                make: { BridgeSession(hub: self, key: key.value, poolKey: poolKey) }
            )
        else { return false }
        session.serve(
            BridgeSession.Request(
                route: route,
                responder: responder,
                query: query,
                prepared: prepared,
                trace: trace,
                serverSpan: serverSpan,
                started: ctx.monotonic()
            )
        )
        return true
    }

    /// Counts a refused downstream upgrade.
    func refused(_ reason: String) {
        metrics.upgradeFailures(side: "downstream", reason: reason).increment()
    }
}
