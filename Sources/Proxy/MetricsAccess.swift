import HTTPServer
import LogRedaction
import Metrics

/// Serves `/metrics`, guarded by the optional bearer token of `metrics.tokenSha256`.
///
/// The configured token is only a SHA-256 digest (`BearerToken`). A refusal is a 401 in the OpenAI error shape with `www-authenticate: Bearer` and one
/// increment of `sightline_http_protocol_errors_total{reason="metrics_unauthorized"}`.
/// Does not decide which listener serves `/metrics` (the handlers do, from `metricsOnMainListener`).
/// Concurrency: immutable.
struct MetricsAccess: Sendable {
    let tokenSHA256: [UInt8]?

    /// Pure: whether `headers` carry the configured token (always true when none is configured).
    func admits(_ headers: HTTPHeaders) -> Bool {
        guard let expected = tokenSHA256 else { return true }
        return BearerToken.matches(headers, sha256: expected)
    }

    static let unauthorized = ProxyErrorResponse(
        status: 401,
        type: "invalid_request_error",
        code: "invalid_metrics_token",
        message: "Missing or invalid bearer token for /metrics.",
        headers: [("www-authenticate", "Bearer")]
    )

    /// Answers `request` with the exposition, or the 401. Returns the status sent.
    @discardableResult
    static func serve(_ request: HTTPRequest, ctx: ProxyContext, responder: HTTPResponder) -> Int {
        guard MetricsAccess(tokenSHA256: ctx.configuration.metricsTokenSHA256).admits(request.headers) else {
            ctx.metrics.protocolErrors(reason: "metrics_unauthorized").increment()
            unauthorized.send(responder)
            return unauthorized.status
        }
        let r = MetricsEndpoint.response(registry: ctx.registry, acceptEncoding: request.headers["accept-encoding"])
        var h = HTTPHeaders()
        for (k, v) in r.headers { h.add(k, v) }
        responder.respond(status: r.status, headers: h, body: request.method == "HEAD" ? [] : r.body)
        return r.status
    }
}
