/// Every Sightline metric, declared once, here (like Envoy's stat lists), and documented in docs/metrics.md.
///
/// Building it registers every family on `registry` and pre-initialises every known label combination,
/// so series read 0 from the first scrape. Accounts are the one open label: `registerAccount(_:)`
/// pre-initialises a pseudonym's series and must only be called for the operator-configured, bounded
/// pool. To add a metric: one declaration below, one row in docs/metrics.md (a test checks both agree).
/// It does not record anything by itself and does not include the `process_*` collector.
/// Concurrency: `Sendable`; the closed-set lookups are lock-free, `registerAccount` takes `accounts`' lock.
public final class SightlineMetrics: Sendable {
    public static let routes = ["responses", "responses_compact", "models", "metrics", "health", "admin", "other"]
    public static let transports = ["http", "websocket"]
    public static let statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"]
    public static let upstreamOutcomes = [
        "success", "http_4xx", "http_429", "http_5xx", "connect_error", "timeout", "stream_error", "cancelled",
    ]
    public static let decisions = [
        "affinity_miss", "strip_retry", "transcript_replay", "pin_reset", "masked_continuity_loss", "dead_anchor",
        "failover", "token_refresh", "reasoning_strip",
    ]
    public static let outcomes = ["attempted", "succeeded", "gave_up"]
    public static let tokenKinds = ["input", "cached_input", "output", "reasoning"]
    public static let detectors = ["openai_api_key", "jwt", "bearer_token", "refresh_token", "secret_json_key"]
    public static let protocolErrorReasons =
        [
            "malformed_request", "header_too_large", "body_too_large", "header_timeout", "body_timeout", "idle_timeout",
            "bad_chunked_encoding", "expectation_failed", "incomplete_request", "invalid_json",
            "unsupported_media_type", "invalid_content_encoding", "too_many_connections",
            "too_many_client_connections", "proxy_at_capacity", "metrics_unauthorized", "admin_unauthorized",
            "websocket_too_many_pending_frames", "client_not_reading",
        ] + webSocketProtocolErrorReasons
    /// `websocket_` + each `WebSocketProtocolError` a client can cause after the upgrade (the server-side reader's).
    /// The two 1009 ones are the `limits.maxWebSocket*Bytes` rejections.
    public static let webSocketProtocolErrorReasons = [
        "websocket_frame_too_big", "websocket_message_too_big", "websocket_invalid_utf8", "websocket_reserved_bits_set",
        "websocket_unknown_opcode", "websocket_unmasked_client_frame", "websocket_fragmented_control_frame",
        "websocket_control_frame_too_long", "websocket_invalid_length", "websocket_unexpected_continuation",
        "websocket_interleaved_message", "websocket_invalid_close_payload", "websocket_invalid_close_code",
    ]
    public static let quotaWindows = ["primary", "secondary"]
    public static let accountStates = ["active", "cooling", "reauth_required", "disabled"]
    public static let tokenRefreshOutcomes = ["success", "failure", "terminal"]
    /// Operator actions under `/admin/` (the proxy's `AdminAction`).
    public static let adminActions = ["reinstate_account", "purge_tombstones"]
    public static let affinityResults = ["hit", "miss", "expired"]
    /// The state files `sightline_state_write_failures_total` counts: `accounts.json`, and the continuity snapshot
    /// (`sticky.json` and `affinity.json`).
    public static let stateFiles = ["accounts", "continuity"]
    /// The `AtomicFileError` reasons a state write can fail with; any other reason (an `AccountStoreError` of the
    /// store's own, such as `unknown_account`) counts as `other`.
    public static let stateWriteFailureReasons = ["no_space", "permission_denied", "not_found", "io_error", "other"]

    /// 0.01 s doubling to 81.92 s (GenAI semantic conventions), plus 160, 320, 640 s for whole streams.
    public static let durationBuckets: [Double] = [
        0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92, 160, 320, 640,
    ]
    /// Per-request input tokens, ×4 per bucket, to see context growth towards the model's window.
    public static let inputTokenBuckets: [Double] = [256, 1024, 4096, 16384, 65536, 262144, 1_048_576]

    public let registry: MetricRegistry

    // Build and traffic.
    public let buildInfo: GaugeFamily
    public let requestsFamily: CounterFamily
    public let requestDurationFamily: HistogramFamily
    public let upstreamFirstEventFamily: HistogramFamily
    public let openConnectionsFamily: GaugeFamily
    public let inFlightRequests: Gauge
    public let downstreamReceivedBytes: Counter
    public let downstreamSentBytes: Counter
    public let upstreamSentBytes: Counter
    public let upstreamReceivedBytes: Counter
    public let upstreamSSEEvents: Counter
    public let upstreamBackpressurePauses: Counter
    public let transcriptCacheBytes: Gauge
    public let transcriptCacheEntries: Gauge
    public let transcriptCacheEvictions: Counter
    public let transcriptCacheRejections: Counter
    public let clientAuthFailures: Counter
    // Recovery, tokens, hygiene.
    public let recoveryDecisionsFamily: CounterFamily
    public let tokensFamily: CounterFamily
    public let requestInputTokens: Histogram
    public let logRedactionsFamily: CounterFamily
    public let protocolErrorsFamily: CounterFamily
    public let affinityLookupsFamily: CounterFamily
    public let foreignAnchorRefusalsFamily: CounterFamily
    public let adminActionsFamily: CounterFamily
    public let stateWriteFailuresFamily: CounterFamily
    public let downstreamBacklogPausesFamily: CounterFamily
    // Accounts and pool (per-account children: see `AccountMetrics`).
    public let upstreamAttemptsFamily: CounterFamily
    public let quotaUsedRatioFamily: GaugeFamily
    public let quotaResetFamily: GaugeFamily
    public let cooldownUntilFamily: GaugeFamily
    public let accountStateFamily: GaugeFamily
    public let accountInFlightFamily: GaugeFamily
    public let tokenRefreshesFamily: CounterFamily
    public let poolAvailableAccounts: Gauge
    public let poolExhausted: Counter
    /// WebSocket sessions, frames, upgrades and reuse (issue 6).
    public let webSocket: WebSocketMetrics

    private let requestsTable: LabelTable<Counter>
    private let durationTable: LabelTable<Histogram>
    private let firstEventTable: LabelTable<Histogram>
    private let openConnectionsTable: LabelTable<Gauge>
    private let recoveryTable: LabelTable<Counter>
    private let tokensTable: LabelTable<Counter>
    private let redactionsTable: LabelTable<Counter>
    private let protocolErrorsTable: LabelTable<Counter>
    private let affinityTable: LabelTable<Counter>
    private let foreignAnchorTable: LabelTable<Counter>
    private let adminTable: LabelTable<Counter>
    private let stateWriteFailuresTable: LabelTable<Counter>
    private let downstreamBacklogPausesTable: LabelTable<Counter>
    let accounts = AccountRegistry()

    public init(
        registry: MetricRegistry,
        version: String,
        revision: String,
        swiftVersion: String = SightlineMetrics.compilerSwiftVersion
    ) {
        self.registry = registry
        let d = Declare(registry: registry)
        let routeTransport = ["route", "transport"]
        buildInfo = d.gauge(
            "sightline_build_info",
            "Build of the running binary; always 1.",
            ["version", "revision", "swift_version"]
        )
        requestsFamily = d.counter(
            "sightline_requests_total",
            "Downstream requests answered, by route, transport and status class.",
            routeTransport + ["status_class"]
        )
        requestDurationFamily = d.histogram(
            "sightline_request_duration_seconds",
            "Time from request head to the last response byte.",
            routeTransport,
            Self.durationBuckets
        )
        upstreamFirstEventFamily = d.histogram(
            "sightline_upstream_first_event_seconds",
            "Time from sending an upstream request to its first SSE event.",
            ["transport"],
            Self.durationBuckets
        )
        openConnectionsFamily = d.gauge("sightline_open_connections", "Open downstream connections.", ["transport"])
        inFlightRequests = d.gauge("sightline_in_flight_requests", "Downstream requests being served.").child
        downstreamReceivedBytes =
            d.counter("sightline_downstream_received_bytes_total", "Bytes received from downstream clients.").child
        downstreamSentBytes =
            d.counter("sightline_downstream_sent_bytes_total", "Bytes sent to downstream clients.").child
        upstreamSentBytes = d.counter("sightline_upstream_sent_bytes_total", "Bytes sent to the upstream API.").child
        upstreamReceivedBytes =
            d.counter("sightline_upstream_received_bytes_total", "Bytes received from the upstream API.").child
        upstreamSSEEvents =
            d.counter("sightline_upstream_sse_events_total", "Server-sent events received from upstream.").child
        transcriptCacheBytes =
            d.gauge("sightline_transcript_cache_bytes", "Compressed bytes held by the transcript cache.").child
        transcriptCacheEntries =
            d.gauge("sightline_transcript_cache_entries", "Responses whose transcript the cache holds.").child
        transcriptCacheEvictions =
            d.counter(
                "sightline_transcript_cache_evictions_total",
                "Transcripts dropped to keep the cache within its bounds, with the turns that link to them."
            ).child
        transcriptCacheRejections =
            d.counter(
                "sightline_transcript_cache_rejections_total",
                "Transcripts the cache refused to store, such as one larger than its whole budget."
            ).child
        upstreamBackpressurePauses =
            d.counter(
                "sightline_upstream_backpressure_pauses_total",
                "Upstream HTTP transfers paused because their downstream client read slower than upstream sent."
            ).child
        clientAuthFailures =
            d.counter(
                "sightline_client_auth_failures_total",
                "Downstream requests refused for a missing or unknown client key."
            ).child
        recoveryDecisionsFamily = d.counter(
            "sightline_recovery_decisions_total",
            "Recovery decisions by decision and outcome; never sum across outcome.",
            ["decision", "outcome"]
        )
        tokensFamily = d.counter(
            "sightline_tokens_total",
            "Model tokens reported by upstream usage, by kind.",
            ["kind"]
        )
        requestInputTokens =
            d.histogram(
                "sightline_request_input_tokens",
                "Input tokens per request, to catch context growth.",
                [],
                Self.inputTokenBuckets
            ).child
        logRedactionsFamily = d.counter(
            "sightline_log_redactions_total",
            "Secrets replaced in log output, by detector.",
            ["detector"]
        )
        protocolErrorsFamily = d.counter(
            "sightline_http_protocol_errors_total",
            "Downstream HTTP requests rejected before routing, and WebSocket connections failed by the server, by reason.",
            ["reason"]
        )
        affinityLookupsFamily = d.counter(
            "sightline_affinity_lookups_total",
            "Response-to-account affinity lookups, by result.",
            ["result"]
        )
        foreignAnchorRefusalsFamily = d.counter(
            "sightline_foreign_anchor_refusals_total",
            "Requests refused because their previous_response_id belongs to another client principal, by transport.",
            ["transport"]
        )
        adminActionsFamily = d.counter(
            "sightline_admin_actions_total",
            "Operator actions taken through the admin routes, by action.",
            ["action"]
        )
        stateWriteFailuresFamily = d.counter(
            "sightline_state_write_failures_total",
            "Writes of the proxy's state files that failed, by file and reason.",
            ["file", "reason"]
        )
        downstreamBacklogPausesFamily = d.counter(
            "sightline_downstream_backlog_pauses_total",
            "Downstream connections that stopped being read because output they do not read piled up, by transport.",
            ["transport"]
        )
        upstreamAttemptsFamily = d.counter(
            "sightline_upstream_attempts_total",
            "Upstream attempts by account pseudonym and outcome.",
            ["account", "outcome"]
        )
        quotaUsedRatioFamily = d.gauge(
            "sightline_account_quota_used_ratio",
            "Share of an account's rate-limit window used, 0 to 1.",
            ["account", "window"]
        )
        quotaResetFamily = d.gauge(
            "sightline_account_quota_reset_timestamp_seconds",
            "When an account's rate-limit window resets, as a Unix time.",
            ["account", "window"]
        )
        cooldownUntilFamily = d.gauge(
            "sightline_account_cooldown_until_timestamp_seconds",
            "Unix time until which an account is cooling down; 0 when not.",
            ["account"]
        )
        accountStateFamily = d.gauge(
            "sightline_account_state",
            "1 for an account's current state, 0 for the others.",
            ["account", "state"]
        )
        accountInFlightFamily = d.gauge(
            "sightline_account_in_flight_requests",
            "Upstream requests in flight per account.",
            ["account"]
        )
        tokenRefreshesFamily = d.counter(
            "sightline_token_refreshes_total",
            "OAuth token refreshes by account and outcome.",
            ["account", "outcome"]
        )
        poolAvailableAccounts =
            d.gauge("sightline_pool_available_accounts", "Accounts currently able to take requests.").child
        poolExhausted = d.counter("sightline_pool_exhausted_total", "Requests that found no available account.").child
        webSocket = WebSocketMetrics(d)

        buildInfo.labels(version, revision, swiftVersion).set(1)
        let (requests, duration, firstEvent) = (requestsFamily, requestDurationFamily, upstreamFirstEventFamily)
        requestsTable = LabelTable([Self.routes, Self.transports, Self.statusClasses]) { requests.labels($0) }
        durationTable = LabelTable([Self.routes, Self.transports]) { duration.labels($0) }
        firstEventTable = LabelTable([Self.transports]) { firstEvent.labels($0) }
        let (connections, recovery, tokens) = (openConnectionsFamily, recoveryDecisionsFamily, tokensFamily)
        openConnectionsTable = LabelTable([Self.transports]) { connections.labels($0) }
        recoveryTable = LabelTable([Self.decisions, Self.outcomes]) { recovery.labels($0) }
        tokensTable = LabelTable([Self.tokenKinds]) { tokens.labels($0) }
        let (redactions, protocolErrors, affinity) = (logRedactionsFamily, protocolErrorsFamily, affinityLookupsFamily)
        redactionsTable = LabelTable([Self.detectors]) { redactions.labels($0) }
        protocolErrorsTable = LabelTable([Self.protocolErrorReasons]) { protocolErrors.labels($0) }
        affinityTable = LabelTable([Self.affinityResults]) { affinity.labels($0) }
        let foreignAnchors = foreignAnchorRefusalsFamily
        foreignAnchorTable = LabelTable([Self.transports]) { foreignAnchors.labels($0) }
        let admin = adminActionsFamily
        adminTable = LabelTable([Self.adminActions]) { admin.labels($0) }
        let stateWriteFailures = stateWriteFailuresFamily
        stateWriteFailuresTable = LabelTable([Self.stateFiles, Self.stateWriteFailureReasons]) {
            stateWriteFailures.labels($0)
        }
        let backlogPauses = downstreamBacklogPausesFamily
        downstreamBacklogPausesTable = LabelTable([Self.transports]) { backlogPauses.labels($0) }
    }

    /// `major.minor` of the compiler that built this binary, for `sightline_build_info`.
    public static let compilerSwiftVersion: String = {
        #if compiler(>=6.4)
        return "6.4+"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }()

    /// `1xx` … `5xx` for a status code; anything outside 100–599 counts as `5xx` (we failed to answer).
    public static func statusClass(_ status: Int) -> String {
        (100..<600).contains(status) ? statusClasses[status / 100 - 1] : "5xx"
    }

    public func requests(route: String, transport: String, statusClass: String) -> Counter {
        requestsTable[route, transport, statusClass]
    }

    public func requestDuration(route: String, transport: String) -> Histogram { durationTable[route, transport] }

    public func upstreamFirstEvent(transport: String) -> Histogram { firstEventTable[transport] }

    public func openConnections(transport: String) -> Gauge { openConnectionsTable[transport] }

    /// `sightline_recovery_decisions_total{decision,outcome}`; see the recovery triad in docs/metrics.md.
    public func recoveryDecisions(decision: String, outcome: String) -> Counter { recoveryTable[decision, outcome] }

    public func tokens(kind: String) -> Counter { tokensTable[kind] }

    public func logRedactions(detector: String) -> Counter { redactionsTable[detector] }

    public func protocolErrors(reason: String) -> Counter { protocolErrorsTable[reason] }

    public func affinityLookups(result: String) -> Counter { affinityTable[result] }

    /// `sightline_foreign_anchor_refusals_total{transport}` (`http` or `websocket`).
    public func foreignAnchorRefusals(transport: String) -> Counter { foreignAnchorTable[transport] }

    /// `sightline_admin_actions_total{action}` (`reinstate_account`, `purge_tombstones`).
    public func adminActions(action: String) -> Counter { adminTable[action] }

    /// `sightline_state_write_failures_total{file,reason}`: `file` from `stateFiles`; `reason` is an
    /// `AtomicFileError` or `AccountStoreError` reason, counted as `other` unless in `stateWriteFailureReasons`.
    public func stateWriteFailures(file: String, reason: String) -> Counter {
        stateWriteFailuresTable[file, Self.stateWriteFailureReasons.contains(reason) ? reason : "other"]
    }

    /// `sightline_downstream_backlog_pauses_total{transport}`: `transport` from `transports`.
    public func downstreamBacklogPauses(transport: String) -> Counter { downstreamBacklogPausesTable[transport] }
}

/// Registration that traps (internal so `WebSocketMetrics` can declare through it): names here are constants, and a unit test renders them all.
struct Declare {
    let registry: MetricRegistry

    func counter(_ name: String, _ help: String, _ labels: [String] = []) -> CounterFamily {
        must { try registry.counter(name, help: help, labels: labels) }
    }

    func gauge(_ name: String, _ help: String, _ labels: [String] = []) -> GaugeFamily {
        must { try registry.gauge(name, help: help, labels: labels) }
    }

    func histogram(_ name: String, _ help: String, _ labels: [String], _ buckets: [Double]) -> HistogramFamily {
        must { try registry.histogram(name, help: help, labels: labels, buckets: buckets) }
    }

    private func must<T>(_ register: () throws -> T) -> T {
        do { return try register() } catch { preconditionFailure("invalid metric declaration: \(error)") }
    }
}
