/// Facts about a transfer that finished with a complete HTTP response (any status, 5xx included).
///
/// Times are in seconds from the start of the transfer, as measured by libcurl. Byte counts exclude
/// headers. Nothing is recorded here: the proxy turns these into metrics.
public struct UpstreamCompletion: Sendable, Equatable {
    /// Final HTTP status (the same value passed to `upstreamDidReceiveHead`).
    public var status: Int
    /// Response body bytes consumed by the delegate.
    public var bytesReceived: Int
    /// Request body bytes sent.
    public var bytesSent: Int
    /// Whole transfer (`CURLINFO_TOTAL_TIME_T`).
    public var totalTime: Double
    /// Until TCP connect finished (`CURLINFO_CONNECT_TIME_T`); `0` when a cached connection was reused.
    public var connectTime: Double
    /// Until the first response byte (`CURLINFO_STARTTRANSFER_TIME_T`).
    public var timeToFirstByte: Double
    /// `true` when the transfer ran on a kept-alive connection instead of opening a new one.
    public var reusedConnection: Bool

    public init(
        status: Int,
        bytesReceived: Int,
        bytesSent: Int,
        totalTime: Double,
        connectTime: Double,
        timeToFirstByte: Double,
        reusedConnection: Bool
    ) {
        self.status = status
        self.bytesReceived = bytesReceived
        self.bytesSent = bytesSent
        self.totalTime = totalTime
        self.connectTime = connectTime
        self.timeToFirstByte = timeToFirstByte
        self.reusedConnection = reusedConnection
    }
}
