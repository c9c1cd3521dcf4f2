/// The WebSocket families of `SightlineMetrics` (issue 6): sessions on both sides, frames and bytes,
/// refused upgrades, upstream session reuse, HTTP fallbacks and session lifetimes.
///
/// Declared through `SightlineMetrics` (built by its `init`, listed in docs/metrics.md) and
/// pre-initialised over closed label sets like every other family. Records nothing by itself.
/// Concurrency: immutable after init; `Sendable`.
public struct WebSocketMetrics: Sendable {
    /// `downstream` (client ↔ proxy) or `upstream` (proxy ↔ backend).
    public static let sides = ["downstream", "upstream"]
    public static let directions = ["received", "sent"]
    /// Why an upgrade failed: downstream refusals, then the upstream handshake's status class or failure.
    public static let upgradeFailureReasons = [
        "unauthorized", "draining", "bad_handshake", "status_426", "status_401", "status_429", "status_4xx",
        "status_5xx", "connect_error",
    ]
    /// Whether a turn reused the conversation's open upstream session or had to open one.
    public static let sessionUses = ["new", "reused"]
    /// Who the turn came from: a downstream WebSocket, or an HTTP request carried by the bridge.
    public static let clients = ["websocket", "http_bridge"]
    /// Seconds: 1 s to 2 h (an upstream session is capped at 60 min).
    public static let lifetimeBuckets: [Double] = [1, 10, 30, 60, 300, 900, 1800, 3300, 3600, 7200]

    public let openSessionsFamily: GaugeFamily
    public let framesFamily: CounterFamily
    public let bytesFamily: CounterFamily
    public let upgradeFailuresFamily: CounterFamily
    public let upstreamTurnsFamily: CounterFamily
    public let httpFallbacks: Counter
    /// Upstream sockets failed because their send queue overflowed (`UpstreamWebSocket.maxQueuedBytes`).
    public let sendQueueOverflows: Counter
    public let sessionLifetimeFamily: HistogramFamily

    private let openTable: LabelTable<Gauge>
    private let framesTable: LabelTable<Counter>
    private let bytesTable: LabelTable<Counter>
    private let upgradeTable: LabelTable<Counter>
    private let turnsTable: LabelTable<Counter>
    private let lifetimeTable: LabelTable<Histogram>

    init(_ d: Declare) {
        openSessionsFamily = d.gauge(
            "sightline_websocket_open_sessions",
            "Open WebSocket sessions, downstream (clients) and upstream (backend).",
            ["side"]
        )
        framesFamily = d.counter(
            "sightline_websocket_frames_total",
            "WebSocket data messages by side and direction.",
            ["side", "direction"]
        )
        bytesFamily = d.counter(
            "sightline_websocket_bytes_total",
            "WebSocket message payload bytes by side and direction.",
            ["side", "direction"]
        )
        upgradeFailuresFamily = d.counter(
            "sightline_websocket_upgrade_failures_total",
            "WebSocket upgrades that failed, by side and reason.",
            ["side", "reason"]
        )
        upstreamTurnsFamily = d.counter(
            "sightline_websocket_upstream_turns_total",
            "Turns sent over an upstream WebSocket, by session reuse and client kind.",
            ["session", "client"]
        )
        httpFallbacks =
            d.counter(
                "sightline_websocket_http_fallbacks_total",
                "WebSocket turns carried over HTTP because the upstream refused the upgrade."
            ).child
        sendQueueOverflows =
            d.counter(
                "sightline_websocket_send_queue_overflows_total",
                "Upstream WebSockets failed because frames waiting to be sent exceeded the send-queue bound."
            ).child
        sessionLifetimeFamily = d.histogram(
            "sightline_websocket_session_duration_seconds",
            "Lifetime of a WebSocket session, by side.",
            ["side"],
            Self.lifetimeBuckets
        )
        let (open, frames, bytes) = (openSessionsFamily, framesFamily, bytesFamily)
        openTable = LabelTable([Self.sides]) { open.labels($0) }
        framesTable = LabelTable([Self.sides, Self.directions]) { frames.labels($0) }
        bytesTable = LabelTable([Self.sides, Self.directions]) { bytes.labels($0) }
        let (upgrades, turns, lifetime) = (upgradeFailuresFamily, upstreamTurnsFamily, sessionLifetimeFamily)
        upgradeTable = LabelTable([Self.sides, Self.upgradeFailureReasons]) { upgrades.labels($0) }
        turnsTable = LabelTable([Self.sessionUses, Self.clients]) { turns.labels($0) }
        lifetimeTable = LabelTable([Self.sides]) { lifetime.labels($0) }
    }

    public func openSessions(side: String) -> Gauge { openTable[side] }

    public func frames(side: String, direction: String) -> Counter { framesTable[side, direction] }

    public func bytes(side: String, direction: String) -> Counter { bytesTable[side, direction] }

    public func upgradeFailures(side: String, reason: String) -> Counter { upgradeTable[side, reason] }

    public func upstreamTurns(session: String, client: String) -> Counter { turnsTable[session, client] }

    public func sessionLifetime(side: String) -> Histogram { lifetimeTable[side] }

    /// One message in `direction` on `side`: frames +1, bytes + `count`.
    public func message(side: String, direction: String, bytes count: Int) {
        frames(side: side, direction: direction).increment()
        bytes(side: side, direction: direction).increment(by: UInt64(max(0, count)))
    }
}
