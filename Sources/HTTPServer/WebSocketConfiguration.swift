/// Limits of one server-side WebSocket connection, chosen by the handler at upgrade time.
///
/// Concurrency: a value; `Sendable`.
public struct WebSocketConfiguration: Sendable {
    /// A reassembled message above this is refused with close 1009.
    public var maxMessageBytes: Int = 16 * 1024 * 1024
    /// A single frame above this is refused with close 1009 (before its payload is buffered).
    public var maxFrameBytes: Int = 16 * 1024 * 1024
    /// With no frame from the client for this long, the server closes with 1001. 0 disables it.
    public var idleTimeoutSeconds: Double = 3600
    /// After the server sent its close frame, time to wait for the client's before dropping TCP.
    public var closeTimeoutSeconds: Double = 2

    public init(maxMessageBytes: Int = 16 * 1024 * 1024, idleTimeoutSeconds: Double = 3600) {
        self.maxMessageBytes = maxMessageBytes
        self.maxFrameBytes = maxMessageBytes
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }
}
