import WireFormats

/// The `{"type":"error","status":…,"error":{…}}` frames the proxy sends a downstream WebSocket by itself
/// (codex-protocol §5): Codex handles such a frame as that HTTP status.
///
/// Only constant texts written here go out — never upstream text or a `resp_` id — except for
/// `relayed(_:)`, which scrubs response ids from an upstream error frame first (the last filter at the
/// boundary). Pure.
enum WebSocketErrorFrame {
    /// The canonical continuity-loss signal: Codex drops the socket, opens a new one and resends the whole
    /// history without `previous_response_id` (the one 400 Codex recovers from).
    static let previousResponseNotFound: [UInt8] = Array(
        (#"{"type":"error","status":400,"error":{"type":"invalid_request_error","code":"previous_response_not_found","#
            + #""param":"previous_response_id","message":"The previous response is no longer available on this "#
            + #"connection; resend the full conversation."}}"#).utf8
    )

    /// A proxy error as a frame: the error object of `ProxyErrorResponse.body`, with `type` and `status`.
    static func from(_ error: ProxyErrorResponse) -> [UInt8] {
        // `body` is `{"error":{…}}`: splice the two fields in after its opening brace.
        let body = error.body
        return Array(#"{"type":"error","status":"#.utf8) + JSONEncoding.int(error.status) + Array(",".utf8)
            + body.dropFirst()
    }

    /// An upstream error frame passed on, with response ids scrubbed.
    static func relayed(_ frame: [UInt8]) -> [UInt8] { ResponseIDScrubber.scrub(frame) }

    /// A WebSocket turn whose client frame is not a `response.create` JSON object.
    static let invalidFrame = ProxyErrorResponse(
        status: 400,
        type: "invalid_request_error",
        code: "invalid_websocket_message",
        message: "Expected a response.create JSON object."
    )
}
