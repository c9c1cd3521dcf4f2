import HTTPServer

/// Which headers cross the proxy, in each direction (see shared/reference/codex-protocol.md §2).
///
/// Pure. Downstream → upstream: credentials (`authorization`, `chatgpt-account-id`, cookies), hop-by-hop
/// headers (and any named in `Connection`), framing (`content-length`, `transfer-encoding`,
/// `content-encoding` — the proxy always sends an identity body it may have rewritten), WebSocket
/// handshake fields, client-address headers and our own trace headers are dropped; everything else
/// (`session-id`, `thread-id`, `x-codex-*`, `originator`, `user-agent`, `version`, `openai-*` …) passes. The
/// client's `content-type` and `accept` are replaced by the proxy's where it sets its own (`ResponsesExchange`).
/// Upstream → downstream: hop-by-hop, framing, cookies and the serving account's organisation and project are
/// dropped; the rest (rate-limit headers,
/// `x-request-id`, `openai-model`, `x-codex-turn-state` …) is relayed.
enum HeaderPolicy {
    private static let droppedRequest: Set<String> = [
        "authorization", "proxy-authorization", "chatgpt-account-id", "cookie", "host", "content-length",
        "transfer-encoding", "content-encoding", "connection", "keep-alive", "te", "trailer", "upgrade", "expect",
        "accept-encoding", "forwarded", "x-real-ip", "traceparent", "tracestate", "x-api-key",
        "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol",
        "sec-websocket-accept",
    ]
    private static let droppedResponse: Set<String> = [
        "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "content-length",
        "content-encoding", "set-cookie", "proxy-authenticate", "proxy-connection", "alt-svc",
        "strict-transport-security",
        // Which organisation and project of the pool's account served the request: the account's identity, which
        // no client of the pool is told (until 2026-12-07 api.openai.com's answers carried it to every client).
        "openai-organization", "openai-project",
    ]

    /// The client's headers that may go upstream, names lowercased.
    static func forwardedRequestHeaders(_ headers: HTTPHeaders) -> [(String, String)] {
        let connectionNamed = namedInConnection(headers)
        var out: [(String, String)] = []
        out.reserveCapacity(headers.count)
        for (name, value) in headers {
            let lower = name.foldedForHeaders
            if droppedRequest.contains(lower) || connectionNamed.contains(lower) { continue }
            if lower.hasPrefix("proxy-") || lower.hasPrefix("x-forwarded-") || lower.hasPrefix("cf-") { continue }
            out.append((lower, value))
        }
        return out
    }

    /// The upstream's response headers that may go back to the client.
    static func relayedResponseHeaders(_ headers: [(String, String)]) -> HTTPHeaders {
        var connectionNamed = Set<String>()
        for (name, value) in headers where name.foldedForHeaders == "connection" {
            for token in value.split(separator: ",") { connectionNamed.insert(token.trimmed.foldedForHeaders) }
        }
        var out = HTTPHeaders()
        for (name, value) in headers {
            let lower = name.foldedForHeaders
            if droppedResponse.contains(lower) || connectionNamed.contains(lower) { continue }
            out.add(lower, value)
        }
        return out
    }

    /// The headers of a WebSocket frame's `headers` object (`response.metadata`, the turn state) that may go to an
    /// HTTP client as response headers: as `relayedResponseHeaders`, and only `x-` names of token characters with
    /// values free of CR, LF and NUL. JSON decodes any name and value, and the server writes a head as it is given
    /// (its parser vets only what it reads), so a frame could otherwise inject a header or break the head.
    static func relayedFrameHeaders(_ headers: [(String, String)]) -> HTTPHeaders {
        var out = HTTPHeaders()
        for (name, value) in relayedResponseHeaders(headers)
        where name.hasPrefix("x-") && name.isHTTPToken && value.isSafeHeaderValue {
            out.add(name, value)
        }
        return out
    }

    private static func namedInConnection(_ headers: HTTPHeaders) -> Set<String> {
        var result = Set<String>()
        for value in headers.values("connection") {
            for token in value.split(separator: ",") { result.insert(token.trimmed.foldedForHeaders) }
        }
        return result
    }
}

extension Substring {
    var trimmed: String {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
