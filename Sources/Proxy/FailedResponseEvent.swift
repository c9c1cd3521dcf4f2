import WireFormats

/// The terminal `response.failed` event the proxy writes itself: when an upstream stream breaks after the
/// first byte (`stream_incomplete`), and in place of an upstream's bare `error` event, which Codex ignores over
/// SSE. It carries no sequence number. Pure.
enum FailedResponseEvent {
    /// The upstream stream ended before the response completed.
    static let streamIncomplete = json(
        code: "stream_incomplete",
        message: "The upstream stream ended before the response completed; retry the request."
    )

    /// The event's JSON, any `resp_` id in the message scrubbed (an anchor a client could resend).
    static func json(code: String, message: String) -> [UInt8] {
        var json = Array(#"{"type":"response.failed","response":{"status":"failed","error":{"code":"#.utf8)
        json += JSONEncoding.string(code)
        json += Array(#","message":"#.utf8)
        json += JSONEncoding.string(message)
        json += Array("}}}".utf8)
        return ResponseIDScrubber.scrub(json)
    }

    /// `json` as one SSE event block.
    static func sse(_ json: [UInt8]) -> [UInt8] { SSEEncoder.event(type: "response.failed", json: json) }
}
