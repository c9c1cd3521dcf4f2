import HTTPServer
import WireFormats

/// An error the proxy answers by itself, in the OpenAI error shape
/// `{"error":{"message","type","param","code"}}`.
///
/// `code` is stable and low-cardinality (it doubles as the `error.type` log attribute). `message` is a
/// constant sentence written here, never upstream text, so nothing from an upstream error (a `resp_` id,
/// an account detail) can leak through it.
struct ProxyErrorResponse: Error, Equatable, Sendable {
    var status: Int
    var type: String
    var code: String
    var message: String
    /// The request field at fault, if one is (`param`; null otherwise).
    var param: String? = nil
    /// Extra top-level fields of the `error` object, already JSON (e.g. `resets_at`).
    var extra: [(String, String)] = []
    var headers: [(String, String)] = []

    static func == (a: ProxyErrorResponse, b: ProxyErrorResponse) -> Bool {
        a.status == b.status && a.code == b.code && a.type == b.type
    }

    var body: [UInt8] {
        var out = Array(#"{"error":{"message":"#.utf8)
        out += JSONEncoding.string(message)
        out += Array(#","type":"#.utf8) + JSONEncoding.string(type)
        out += Array(#","param":"#.utf8) + (param.map { JSONEncoding.string($0) } ?? Array("null".utf8))
        out += Array(#","code":"#.utf8) + JSONEncoding.string(code)
        for (k, v) in extra { out += Array(",".utf8) + JSONEncoding.string(k) + Array(":".utf8) + Array(v.utf8) }
        out += Array("}}".utf8)
        return out
    }

    func send(_ responder: HTTPResponder) {
        var h = HTTPHeaders()
        h.add("content-type", "application/json")
        for (k, v) in headers { h.add(k, v) }
        responder.respond(status: status, headers: h, body: body)
    }

    static let unauthorized = ProxyErrorResponse(
        status: 401,
        type: "invalid_request_error",
        code: "invalid_api_key",
        message: "Missing or invalid API key for this proxy."
    )
    static let webSocketNotSupported = ProxyErrorResponse(
        status: 426,
        type: "invalid_request_error",
        code: "websocket_not_supported",
        message: "This Sightline endpoint does not accept WebSocket upgrades; use HTTP POST.",
        headers: [("connection", "close")]
    )
    static let invalidJSON = ProxyErrorResponse(
        status: 400,
        type: "invalid_request_error",
        code: "invalid_json",
        message: "The request body is not a valid JSON object."
    )
    static let unsupportedEncoding = ProxyErrorResponse(
        status: 415,
        type: "invalid_request_error",
        code: "unsupported_content_encoding",
        message: "Unsupported Content-Encoding; send identity or zstd."
    )
    /// A zstd body that cannot be decoded: as an identity body of that size would be (413), as malformed (400), or
    /// as a proxy out of room (503). Until 2026-12-07 all three were the 415 above, which told a client that sent
    /// zstd to send zstd.
    static func undecodable(_ reason: ZstdError.Reason) -> ProxyErrorResponse {
        switch reason {
        case .tooLarge: decodedBodyTooLarge
        case .outOfMemory: inFlightLimit
        default: invalidContentEncoding
        }
    }
    static let decodedBodyTooLarge = ProxyErrorResponse(
        status: 413,
        type: "invalid_request_error",
        code: "body_too_large",
        message: "The request body is too large once decoded."
    )
    static let invalidContentEncoding = ProxyErrorResponse(
        status: 400,
        type: "invalid_request_error",
        code: "invalid_content_encoding",
        message: "The request body is not valid for its Content-Encoding."
    )
    static let notFound = ProxyErrorResponse(
        status: 404,
        type: "invalid_request_error",
        code: "not_found",
        message: "No such route on this proxy."
    )
    static func methodNotAllowed(_ allowed: String) -> ProxyErrorResponse {
        ProxyErrorResponse(
            status: 405,
            type: "invalid_request_error",
            code: "method_not_allowed",
            message: "Method not allowed on this route.",
            headers: [("allow", allowed)]
        )
    }
    /// A transient upstream failure: retryable, and never a continuity-loss signal.
    static let upstreamUnavailable = ProxyErrorResponse(
        status: 502,
        type: "server_error",
        code: "upstream_unavailable",
        message: "The upstream could not be reached or failed; retry the request."
    )
    /// A stream that ended before `response.completed`, for non-streaming clients.
    static let streamIncomplete = ProxyErrorResponse(
        status: 502,
        type: "server_error",
        code: "stream_incomplete",
        message: "The upstream stream ended before the response completed; retry the request."
    )
    /// The answer to an anchor another client principal owns (`AnchorOwnership`): the API's own answer to an id
    /// it does not know, which SDK clients surface and Codex recovers from by resending the whole history.
    static let previousResponseNotFound = ProxyErrorResponse(
        status: 400,
        type: "invalid_request_error",
        code: "previous_response_not_found",
        message: "Previous response not found.",
        param: "previous_response_id"
    )
    static let atCapacity = ProxyErrorResponse(
        status: 503,
        type: "server_error",
        code: "proxy_at_capacity",
        message: "Every upstream account is at its local concurrency limit; retry shortly.",
        headers: [("retry-after", "1")]
    )
    /// `limits.maxInFlightRequests` reached: shed load before touching any account.
    static let inFlightLimit = ProxyErrorResponse(
        status: 503,
        type: "server_error",
        code: "proxy_at_capacity",
        message: "The proxy is serving as many requests as it is configured to; retry shortly.",
        headers: [("retry-after", "1")]
    )
    static let draining = ProxyErrorResponse(
        status: 503,
        type: "server_error",
        code: "shutting_down",
        message: "The proxy is shutting down; retry on another instance.",
        headers: [("connection", "close")]
    )

    /// The pool has no eligible account: Codex shows "usage limit, try again at <resets_at>".
    /// Without the reset fields when `resetsAt` is not a time whole seconds can hold (the pool bounds its
    /// cooldowns, so this is a guard against a trap, not a path taken).
    static func usageLimitReached(resetsAt: Double?, now: Double) -> ProxyErrorResponse {
        var extra: [(String, String)] = []
        let resetsAt = resetsAt.flatMap { r in r.isFinite && abs(r) < 1e15 && abs(r - now) < 1e15 ? r : nil }
        if let r = resetsAt {
            extra.append(("resets_at", String(Int(r.rounded(.up)))))
            extra.append(("resets_in_seconds", String(max(0, Int((r - now).rounded(.up))))))
        }
        var e = ProxyErrorResponse(
            status: 429,
            type: "usage_limit_reached",
            code: "usage_limit_reached",
            message: "The usage limit has been reached on every upstream account.",
            extra: extra
        )
        if let r = resetsAt { e.headers.append(("retry-after", String(max(1, Int((r - now).rounded(.up)))))) }
        return e
    }
}
