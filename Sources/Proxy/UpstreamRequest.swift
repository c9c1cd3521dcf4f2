/// One HTTP request to send upstream.
///
/// Headers are sent in order, repeated names included. The client drops `content-length` and
/// `transfer-encoding` (libcurl frames the body itself), drops any header whose name or value contains CR or
/// LF, and suppresses libcurl's implicit `Accept`, `Expect: 100-continue` and form `Content-Type` defaults, so
/// what goes upstream is what the caller listed. It does not strip hop-by-hop headers or replace credentials:
/// that is the proxy's job before it builds the request.
/// Concurrency: a value type.
public struct UpstreamRequest: Sendable {
    /// Absolute `http://` or `https://` URL.
    public var url: String
    /// `GET`, `POST`, … Any other token is sent verbatim (`CURLOPT_CUSTOMREQUEST`).
    public var method: String
    public var headers: [(String, String)]
    /// Request body; sent with `Content-Length` when non-empty or when the method is `POST`.
    public var body: [UInt8]

    /// Per-request overrides of `UpstreamClientConfiguration`; `nil` keeps the client's value.
    public var connectTimeoutSeconds: Double?
    public var firstByteTimeoutSeconds: Double?
    public var idleTimeoutSeconds: Double?
    /// Longest time for the whole transfer, connect to last byte (`CURLOPT_TIMEOUT_MS`); `nil` or `<= 0`: none.
    /// Not in `UpstreamClientConfiguration`: a stream may rightly last an hour, so only bounded exchanges (the
    /// token refresh) set it. Failure reason: `timeout`.
    public var totalTimeoutSeconds: Double?

    public init(
        url: String,
        method: String = "GET",
        headers: [(String, String)] = [],
        body: [UInt8] = [],
        connectTimeoutSeconds: Double? = nil,
        firstByteTimeoutSeconds: Double? = nil,
        idleTimeoutSeconds: Double? = nil,
        totalTimeoutSeconds: Double? = nil
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.firstByteTimeoutSeconds = firstByteTimeoutSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.totalTimeoutSeconds = totalTimeoutSeconds
    }
}
