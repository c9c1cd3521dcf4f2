import HTTPServer

/// Lets `StreamWriter` play a `StreamPlan` onto a WebSocket: every SSE event it writes becomes one text
/// frame carrying the event's `data` JSON, as the backend sends them (codex-protocol.md §5).
///
/// `end` hands the connection back to the session for its next request; `abort` drops TCP mid-response
/// (`stream_cut`, `connection_reset`). Headers of the plan are not sent (the 101 already went).
/// Concurrency: `Sendable`; forwards to `WebSocketConnection`, which is safe from any thread.
final class SimulatorWebSocketSink: SimulatorResponseSink {
    let connection: WebSocketConnection
    private let onEnd: @Sendable () -> Void
    private let onCloseRegistration: @Sendable (@escaping @Sendable () -> Void) -> Void

    init(
        connection: WebSocketConnection,
        onEnd: @escaping @Sendable () -> Void,
        onClose: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void
    ) {
        self.connection = connection
        self.onEnd = onEnd
        self.onCloseRegistration = onClose
    }

    func respond(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        connection.sendText(SimulatorEngine.webSocketErrorFrame(status: status, headers: headers, body: body))
        onEnd()
    }

    /// A streamed answer starts with the backend's `codex.rate_limits` event, the plan's `x-codex-*` quota headers
    /// as one frame (codex-protocol.md §7), then its `response.metadata` frame with the turn state (§5), so a
    /// WebSocket client learns what an HTTP one reads from headers.
    func beginStream(status: Int, headers: HTTPHeaders) {
        if let frame = Self.rateLimitsFrame(headers) { connection.sendText(frame) }
        if let frame = Self.metadataFrame(headers) { connection.sendText(frame) }
    }

    /// `{"type":"response.metadata","headers":{"x-codex-turn-state":"<t>"}}` from the plan's `x-codex-turn-state`
    /// header; nil when it has none (a prewarm, a muted silence).
    static func metadataFrame(_ headers: HTTPHeaders) -> [UInt8]? {
        guard let turnState = headers["x-codex-turn-state"] else { return nil }
        return Array(
            #"{"type":"response.metadata","headers":{"x-codex-turn-state":\#(JSONText.quote(turnState))}}"#.utf8
        )
    }

    /// `{"type":"codex.rate_limits","rate_limits":{"primary":{…},"secondary":{…}},"limit_name":"codex"}` from the
    /// `x-codex-{primary,secondary}-{used-percent,window-minutes,reset-at}` headers; nil when there are none.
    static func rateLimitsFrame(_ headers: HTTPHeaders) -> [UInt8]? {
        func window(_ name: String) -> String? {
            let fields = [
                ("used_percent", "used-percent"), ("window_minutes", "window-minutes"), ("reset_at", "reset-at"),
            ]
            .compactMap { key, header in
                headers["x-codex-\(name)-\(header)"].flatMap { JSONText.isNumber($0) ? "\"\(key)\":\($0)" : nil }
            }
            return fields.isEmpty ? nil : "\"\(name)\":{" + fields.joined(separator: ",") + "}"
        }
        let windows = ["primary", "secondary"].compactMap(window)
        guard !windows.isEmpty else { return nil }
        let joined = windows.joined(separator: ",")
        return Array(#"{"type":"codex.rate_limits","rate_limits":{\#(joined)},"limit_name":"codex"}"#.utf8)
    }

    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var writable = true
        for json in Self.dataPayloads(bytes) where !connection.sendText(json) { writable = false }
        return writable && !connection.isClosed
    }

    func end() { onEnd() }
    func abort() { connection.abort() }
    /// A WebSocket has no cut-short body: dropping TCP is the cut (frames still queued may be lost).
    func abortAfterFlush() { connection.abort() }
    func onWritable(_ callback: @escaping @Sendable () -> Void) { connection.onWritable(callback) }
    func onClose(_ callback: @escaping @Sendable () -> Void) { onCloseRegistration(callback) }

    /// The `data:` payloads of SSE events in `bytes` (whole events, one-line JSON each; comments skipped).
    static func dataPayloads(_ bytes: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        let prefix = Array("data: ".utf8)
        var lineStart = 0
        for i in bytes.indices where bytes[i] == 0x0A {
            let line = bytes[lineStart..<i]
            if line.starts(with: prefix) { out.append(Array(line.dropFirst(prefix.count))) }
            lineStart = i + 1
        }
        return out
    }
}
