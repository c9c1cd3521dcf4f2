/// Settings shared by every transfer of one `UpstreamClient`.
///
/// Timeouts are in seconds. A per-request value in `UpstreamRequest` overrides the matching default here.
/// This is plain data: it opens nothing and validates nothing beyond what libcurl itself rejects.
/// Concurrency: a value type; copied into the client at `init`.
public struct UpstreamClientConfiguration: Sendable, Equatable {
    /// Longest time for TCP connect plus TLS handshake (`CURLOPT_CONNECTTIMEOUT_MS`). Failure reason: `timeout`.
    public var connectTimeoutSeconds: Double

    /// Longest time from the start of a transfer to the first response byte (status line included).
    /// Enforced by the client's own loop, not by libcurl. `<= 0` disables it. Failure reason: `first_byte_timeout`.
    public var firstByteTimeoutSeconds: Double

    /// Longest silence between two received bytes once the response has started. Time spent paused by the
    /// delegate does not count. `<= 0` disables it. Failure reason: `idle_timeout`.
    public var idleTimeoutSeconds: Double

    /// `CURLMOPT_MAX_HOST_CONNECTIONS`: transfers beyond this wait for a free connection. `0` means unlimited.
    public var maxConnectionsPerHost: Int

    /// `CURLMOPT_MAXCONNECTS`: how many idle connections the multi handle's cache keeps. `nil` keeps
    /// libcurl's default (four times the number of transfers added).
    public var maxCachedConnections: Int?

    /// A PEM bundle of trusted CA certificates (`CURLOPT_CAINFO`); `nil` uses the system store.
    public var caFile: String?

    /// TLS peer and host-name verification. Always `true` in production: `false` exists for tests only.
    public var verifyTLS: Bool

    /// Whether to offer HTTP/2 over TLS (ALPN). Default `false`: upstream requests use HTTP/1.1.
    public var allowHTTP2: Bool

    /// An explicit egress proxy URL (`CURLOPT_PROXY`). `nil` means no proxy, and the `http_proxy` family of
    /// environment variables is ignored on purpose so that behaviour does not depend on the environment.
    public var egressProxy: String?

    public init(
        connectTimeoutSeconds: Double = 10,
        firstByteTimeoutSeconds: Double = 120,
        idleTimeoutSeconds: Double = 300,
        maxConnectionsPerHost: Int = 0,
        maxCachedConnections: Int? = nil,
        caFile: String? = nil,
        verifyTLS: Bool = true,
        allowHTTP2: Bool = false,
        egressProxy: String? = nil
    ) {
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.firstByteTimeoutSeconds = firstByteTimeoutSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.maxConnectionsPerHost = maxConnectionsPerHost
        self.maxCachedConnections = maxCachedConnections
        self.caFile = caFile
        self.verifyTLS = verifyTLS
        self.allowHTTP2 = allowHTTP2
        self.egressProxy = egressProxy
    }
}
