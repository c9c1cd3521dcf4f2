/// Builds the response to `GET /metrics`: the rendered registry, gzipped when the client accepts it.
///
/// Transport-neutral: it returns status, headers and body and does not know the HTTP server, routes or
/// methods. Headers: always `Content-Type` (format 0.0.4) and `Vary: Accept-Encoding`;
/// `Content-Encoding: gzip` only when the body really was compressed (compression failure falls back
/// to plain text). It sets no `Content-Length`; the server frames the body.
/// Concurrency: stateless; safe from any thread (rendering runs the registry's collectors).
public enum MetricsEndpoint {
    public static func response(
        registry: MetricRegistry,
        acceptEncoding: String?
    ) -> (status: Int, headers: [(String, String)], body: [UInt8]) {
        let body = registry.renderBytes()
        var headers: [(String, String)] = [("Content-Type", Exposition.contentType), ("Vary", "Accept-Encoding")]
        if Exposition.negotiate(acceptEncoding: acceptEncoding), let compressed = Gzip.compress(body) {
            headers.append(("Content-Encoding", "gzip"))
            return (200, headers, compressed)
        }
        return (200, headers, body)
    }
}
