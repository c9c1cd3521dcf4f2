/// How one upstream attempt ended, as the `outcome` label of `sightline_upstream_attempts_total`: one set of
/// rules for HTTP attempts, WebSocket turns and bridged requests, so the per-account panels and the upstream
/// error-ratio alert read every transport alike (docs/metrics.md). Pure.
enum AttemptOutcome {
    /// An HTTP answer by its status.
    static func status(_ status: Int) -> String {
        switch status {
        case 429: "http_429"
        case 500...: "http_5xx"
        case 400..<500: "http_4xx"
        default: "success"
        }
    }

    /// A stream the upstream ended with its own failure, counted as the same error answered with an HTTP status
    /// would be: a quota error as `http_429`, a request the upstream refused as `http_4xx`, anything else as
    /// `stream_error` (which the upstream error-ratio alert counts).
    static func failure(_ failure: UpstreamErrorClass) -> String {
        switch failure {
        case .usageLimitReached, .rateLimitExceeded: "http_429"
        case .previousResponseNotFound, .contextLengthExceeded, .invalidRequest, .tokenInvalidated, .tokenExpired,
            .unauthorized, .paymentRequired, .forbidden, .invalidEncryptedContent:
            "http_4xx"
        case .serverError, .overloaded, .other: "stream_error"
        }
    }

    /// The terminal event of a stream: `response.failed` by its error's class (`failure`), anything else (
    /// `response.completed`, `response.incomplete`) a success.
    static func terminal(failure: UpstreamErrorClass?) -> String { failure.map(Self.failure) ?? "success" }

    /// An upstream WebSocket error frame by its status; one without an error status, or the connection-age cap,
    /// as `stream_error`.
    static func errorFrame(status: Int, connectionAgeCap: Bool = false) -> String {
        status >= 400 && !connectionAgeCap ? Self.status(status) : "stream_error"
    }

    /// An upstream WebSocket that failed or closed during a send: a refused upgrade by its status, except 426,
    /// which carried nothing (nil: not counted, the send goes over HTTP instead); a socket that never opened as
    /// `connect_error`, one lost mid-turn as `stream_error`.
    static func socketLost(status: Int?, didEverOpen: Bool) -> String? {
        if status == 426 { return nil }
        return status.map(Self.status) ?? (didEverOpen ? "stream_error" : "connect_error")
    }

    /// A WebSocket turn or bridged request that ended with its attempt still unsettled: the client left (499),
    /// or it ended otherwise.
    static func unsettled(status: Int, error: String?) -> String {
        status == 499 ? "cancelled" : error == nil ? "success" : "stream_error"
    }
}
