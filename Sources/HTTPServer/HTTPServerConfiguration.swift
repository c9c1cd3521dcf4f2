/// Limits and addresses of one `HTTPServer`. Every limit is enforced with a clear 4xx in the OpenAI
/// error shape and reported through `HTTPServerObserver.protocolError`.
public struct HTTPServerConfiguration: Sendable {
    /// IPv4 address to bind, `127.0.0.1` by default; `0.0.0.0` for all interfaces.
    public var host: String = "127.0.0.1"
    /// 0 picks a free port (read it back from `HTTPServer.port`).
    public var port: Int = 0
    /// Event-loop threads, each with its own `SO_REUSEPORT` listener. 0 = one per core.
    public var eventLoops: Int = 0
    /// Request line plus headers; over it: 431.
    public var maxHeaderBytes: Int = 64 * 1024
    /// De-chunked body; over it: 413. The Codex backend accepts about 16 MiB.
    public var maxBodyBytes: Int = 16 * 1024 * 1024
    /// From connection accept (or end of the previous response) until the header block is complete; 408.
    public var headerReadTimeoutSeconds: Double = 15
    /// Time a keep-alive connection may sit with no request in progress before it is closed.
    public var idleTimeoutSeconds: Double = 75
    /// Time a request body may take to arrive once headers are read; 408.
    public var bodyReadTimeoutSeconds: Double = 60
    /// Bytes queued for a slow client above which `HTTPResponder.write` returns false.
    public var writeHighWaterMark: Int = 256 * 1024
    /// Bytes below which a paused writer is told to go on (`onWritable`).
    public var writeLowWaterMark: Int = 64 * 1024
    /// Open connections above which new ones are closed at once.
    public var maxConnections: Int = 10_000
    /// Open connections from one client IP address above which new ones from it get a 429 and a close;
    /// 0 = no per-client limit.
    public var maxConnectionsPerClient: Int = 0

    public init() {}
}
