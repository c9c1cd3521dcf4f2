import Foundation
import Synchronization
import WireFormats

/// Carries one WebSocket turn over HTTP for an account whose upstream refused the upgrade (426): POSTs
/// the `response.create` body (without `type` and `generate`) and turns the SSE answer back into the
/// frames a WebSocket upstream would have sent — each event's JSON `data` is one frame, and a non-200
/// answer becomes `{"type":"error","status":…,"error":{…}}`, so `WebSocketSession` handles both
/// transports alike.
///
/// Over HTTP no anchor survives a request (`store:false`), so the session never forwards one here: every
/// continuation is replayed from the transcript. Does not retry; a transport failure is reported as
/// `.failed`. Concurrency: `Sendable`; callbacks run on the upstream client's thread, state in a `Mutex`.
final class WebSocketHTTPCarrier: UpstreamDelegate, Sendable {
    private struct State {
        var status = 0
        /// A non-200 answer's rate-limit headers (`x-codex-*`, `retry-after*`), for its error frame.
        var limitHeaders: [(String, String)] = []
        var framer = SSEFramer()
        var errorBody: [UInt8] = []
        var terminalSeen = false
        /// The `response.metadata` frame for the answer's turn state, sent with its first event.
        var metadata: [UInt8]?
    }

    private let onEvent: @Sendable (WebSocketUpstreamLink.Event) -> Void
    private let state = Mutex(State())

    init(onEvent: @escaping @Sendable (WebSocketUpstreamLink.Event) -> Void) {
        self.onEvent = onEvent
    }

    /// The HTTP body for a `response.create` frame.
    static func body(for frame: [UInt8]) -> [UInt8] {
        guard let top = try? JSONTopLevel.scan(frame) else { return frame }
        return top.rewriting(set: [(key: "stream", rawJSON: Array("true".utf8))], remove: ["type", "generate"])
    }

    /// The turn state a frame carries in `client_metadata` (codex-protocol.md §5), which an HTTP upstream reads as
    /// the `x-codex-turn-state` request header; nil when it has none.
    static func turnState(of frame: [UInt8]) -> String? {
        guard let top = try? JSONTopLevel.scan(frame), let metadata = try? top.object(forKey: "client_metadata")
        else { return nil }
        return metadata.string(forKey: "x-codex-turn-state")
    }

    /// The `response.metadata` frame a WebSocket upstream sends for the turn state an HTTP answer gives in its
    /// `x-codex-turn-state` header; nil without one.
    static func metadataFrame(headers: [(String, String)]) -> [UInt8]? {
        guard let value = headers.last(where: { $0.0.foldedForHeaders == "x-codex-turn-state" })?.1 else { return nil }
        return JSONEncoding.object([
            ("type", JSONEncoding.string("response.metadata")),
            ("headers", JSONEncoding.object([("x-codex-turn-state", JSONEncoding.string(value))])),
        ])
    }

    func upstreamDidReceiveHead(status: Int, headers: [(String, String)]) {
        // The turn state, as the WebSocket upstream would have sent it: just before the answer's first event (not on
        // the head, which would read as the turn's first frame and end its first-byte limit early). Until 2026-12-07 a
        // turn carried over HTTP lost it, and Codex could not echo it on the turn's next request.
        let metadata = status == 200 ? Self.metadataFrame(headers: headers) : nil
        let limits =
            status == 200
            ? []
            : headers.filter {
                let name = $0.0.foldedForHeaders
                return name.hasPrefix("x-codex-") || name == "retry-after" || name == "retry-after-ms"
            }
        state.withLock { s in
            s.status = status
            s.limitHeaders = limits
            s.metadata = metadata
        }
    }

    func upstreamDidReceive(_ bytes: UnsafeRawBufferPointer) -> UpstreamFlow {
        var frames: [[UInt8]] = []
        var broken = false
        state.withLock { s in
            guard s.status == 200 else {
                if s.errorBody.count < 256 * 1024 { s.errorBody += bytes.prefix(256 * 1024 - s.errorBody.count) }
                return
            }
            guard let blocks = try? s.framer.feed(bytes) else {
                broken = true
                return
            }
            for block in blocks {
                guard let data = SSEEvent.parse(block: block)?.data, !data.isEmpty,
                    let summary = try? ResponseEventSummary(data: data)
                else { continue }
                if summary.isTerminal { s.terminalSeen = true }
                if let metadata = s.metadata {
                    frames.append(metadata)
                    s.metadata = nil
                }
                frames.append(data)
            }
        }
        if broken { onEvent(.failed(reason: "protocol_error", status: nil, refusal: nil)) }
        if !frames.isEmpty { onEvent(.texts(frames)) }
        return .proceed
    }

    func upstreamDidComplete(_ result: Result<UpstreamCompletion, UpstreamFailure>) {
        let s = state.withLock { $0 }
        switch result {
        case .failure(let failure):
            if !s.terminalSeen { onEvent(.failed(reason: failure.reason.description, status: nil, refusal: nil)) }
        case .success where s.status != 200:
            // The error body's `error` object, wrapped as the backend's WebSocket error frame, with the answer's
            // rate-limit headers as the backend's `headers` object: a 429's reset and retry-after must not be
            // lost on the way (they decide how long the account cools).
            let error =
                (try? JSONTopLevel.scan(s.errorBody))?.rawValue(forKey: "error").map(Array.init)
                ?? Array(#"{"type":"server_error","code":"server_error","message":"Upstream error."}"#.utf8)
            let headers = JSONEncoding.object(s.limitHeaders.map { ($0.0.foldedForHeaders, JSONEncoding.string($0.1)) })
            onEvent(
                .texts([
                    Array(#"{"type":"error","status":"#.utf8) + JSONEncoding.int(s.status) + Array(#","error":"#.utf8)
                        + error + Array(#","headers":"#.utf8) + headers + Array("}".utf8)
                ])
            )
        case .success:
            if !s.terminalSeen { onEvent(.failed(reason: "stream_incomplete", status: nil, refusal: nil)) }
        }
    }
}
