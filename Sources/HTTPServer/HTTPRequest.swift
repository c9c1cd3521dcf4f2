/// One parsed HTTP/1.1 request with its whole body (de-chunked).
///
/// The body is complete when the handler sees the request: Sightline must read the top-level fields of a
/// Responses body before choosing an upstream, and the body size is bounded by
/// `HTTPServerConfiguration.maxBodyBytes`. Does not decode `Content-Encoding`.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The raw request-target, e.g. `/v1/responses?x=1`.
    public var target: String
    /// The request-target up to `?`.
    public var path: String
    /// What follows `?`, without it; nil when absent.
    public var query: String?
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// `a.b.c.d:port` of the peer.
    public var remoteAddress: String

    public init(
        method: String,
        target: String,
        minorVersion: Int = 1,
        headers: HTTPHeaders = HTTPHeaders(),
        body: [UInt8] = [],
        remoteAddress: String = ""
    ) {
        self.method = method
        self.target = target
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
        } else {
            path = target
            query = nil
        }
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// True for a `GET` asking to upgrade to WebSocket (`Upgrade: websocket`).
    public var isWebSocketUpgrade: Bool {
        // The method first: a POST that carries a stray `Upgrade: websocket` is an ordinary request, and was
        // refused as a WebSocket handshake (400 `websocket_bad_method`) until 2026-12-07.
        guard method == "GET", let upgrade = headers["upgrade"] else { return false }
        return HTTPHeaders.equalFold(upgrade.trimmingASCIISpaces(), "websocket")
    }
}

extension String {
    func trimmingASCIISpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
