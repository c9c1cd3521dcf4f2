import Foundation
import LogRedaction

/// Sightline's configuration, decoded from a JSON file with environment overrides for secrets.
///
/// Credentials never live in plain `String`s past decoding: each becomes a `Secret` at once, so no
/// log, dump or error message can print it. A credential may be given inline (for tests and the demo)
/// or by naming an environment variable (`…Env` keys), which is what production should use.
/// Does not read the state directory (accounts' rotated tokens live there; see the account store).
struct ProxyConfiguration: Sendable {
    struct Listen: Sendable, Equatable {
        var host: String
        var port: Int
    }

    enum AccountKind: String, Sendable, Codable {
        /// ChatGPT login: OAuth access/refresh tokens plus `chatgpt-account-id`.
        case chatgpt
        /// An OpenAI API key.
        case apikey
    }

    struct Account: Sendable {
        var name: String
        var kind: AccountKind
        /// e.g. `https://chatgpt.com/backend-api/codex` or `https://api.openai.com/v1`; no trailing slash.
        var baseURL: String
        var accountID: Secret<String>?
        var accessToken: Secret<String>?
        var refreshToken: Secret<String>?
        var apiKey: Secret<String>?
        /// Concurrent upstream requests allowed on this account.
        var maxConcurrentRequests: Int
    }

    struct ClientKey: Sendable {
        var name: String
        /// SHA-256 of the key, 32 bytes; compared in constant time.
        var sha256: [UInt8]
    }

    var listen = Listen(host: "127.0.0.1", port: 8787)
    /// A separate bind address for `/metrics`; nil serves it on the main listener only.
    var metricsListen: Listen?
    /// Whether the main listener also answers `/metrics`: yes without `metricsListen`, no with it unless
    /// `metrics.onMainListener` says otherwise.
    var metricsOnMainListener = true
    /// SHA-256 of the bearer token `/metrics` requires (on every listener that serves it); nil = open.
    var metricsTokenSHA256: [UInt8]?
    /// SHA-256 of the bearer token the operator routes under `/admin/` require; nil = those routes do not exist.
    var adminTokenSHA256: [UInt8]?
    var eventLoops = 0
    var pathPrefix: String?
    /// Carry HTTP clients' Responses conversations over one pooled upstream WebSocket per continuity key
    /// (ChatGPT accounts only), sending only the new items with `previous_response_id` (docs/websocket.md).
    /// Off by default: each bridged conversation holds an upstream WebSocket with its own I/O thread, which
    /// costs CPU and memory at high concurrency (docs/benchmarks.md); turn it on where prompt-cache hits
    /// for HTTP clients matter more than throughput.
    var httpBridge = false
    var stateDirectory = ".sightline-state"
    var pseudonymKeyFile: String?
    var accounts: [Account] = []
    var clientKeys: [ClientKey] = []
    var upstreamConnectTimeoutSeconds = 10.0
    var upstreamFirstByteTimeoutSeconds = 120.0
    var upstreamIdleTimeoutSeconds = 300.0
    var verifyTLS = true
    /// Run each proxied HTTP request's upstream transfer on the event loop that owns its client connection
    /// (one curl multi handle per loop) instead of on the one upstream thread: no thread hop per chunk.
    var upstreamOnEventLoops = true
    var caFile: String?
    var tokenURL = "https://auth.openai.com/oauth/token"
    var logStdout = true
    var logFile: String?
    var logMaxBytes = 64 * 1024 * 1024
    var logKeepSegments = 5
    var logLevel = "info"
    var shutdownDrainSeconds = 30.0
    var maxHeaderBytes = 64 * 1024
    var maxBodyBytes = 16 * 1024 * 1024
    var headerReadTimeoutSeconds = 15.0
    var idleTimeoutSeconds = 75.0
    /// Open downstream connections in total; over it: 503 and close.
    var maxConnections = 10_000
    /// Open downstream connections from one client IP; over it: 429 and close. 0 = unlimited.
    var maxConnectionsPerClient = 2048
    /// Proxied requests (streams) in flight at once; over it: 503 `proxy_at_capacity`. 0 = unlimited.
    var maxInFlightRequests = 4096
    /// One downstream WebSocket frame above this is refused with close 1009 before its payload is read.
    var maxWebSocketFrameBytes = 16 * 1024 * 1024
    /// One reassembled downstream WebSocket message above this is refused with close 1009.
    var maxWebSocketMessageBytes = 16 * 1024 * 1024
    /// Bound of the transcript cache (compressed bytes) that makes lossless replay possible.
    var transcriptCacheBytes = 32 * 1024 * 1024
    /// How often stickiness and affinity are snapshotted to the state directory.
    var continuitySnapshotSeconds = 15.0
    /// Bytes queued for one slow client above which the upstream transfer is paused.
    var writeHighWaterMark = 256 * 1024
    /// Bytes queued for one client whose producer cannot pause (an upstream WebSocket: a WebSocket client's session
    /// or the HTTP bridge) above which the client is dropped as not reading (`client_not_reading`).
    var maxDownstreamBacklogBytes = 64 * 1024 * 1024

    init() {}
}

/// A configuration problem; `reason` is stable, `detail` names the offending key (never a value).
struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    var reason: String
    var detail: String
    var description: String { "\(reason): \(detail)" }
}
