import HTTPServer

/// What the I/O layer must put on the wire for one request, as decided by `SimulatorEngine`.
///
/// The seam between decisions and transport: the HTTP handler performs these with an `HTTPResponder`;
/// a WebSocket transport (later) would send the same `StreamPlan` events as frames and map `.complete`
/// errors to `{"type":"error","status":…}` frames. Concurrency: values; `Sendable`.
enum SimulatorOutcome: Sendable {
    /// A complete response with a body (errors, JSON routes).
    case complete(status: Int, headers: HTTPHeaders, body: [UInt8])
    /// A 200 `text/event-stream` response written event by event.
    case stream(StreamPlan)
    /// Close the connection without any response (`connection_reset`).
    case reset
}

/// One SSE response: the headers, the pre-built event bytes and how to pace and end them.
///
/// Concurrency: a value type; `Sendable`.
struct StreamPlan: Sendable {
    var headers: HTTPHeaders
    var events: [[UInt8]]
    /// Indices of `response.output_text.delta` (or arguments delta) events, delayed by `deltaDelayMs`.
    var deltaIndices: Range<Int> = 0..<0
    var deltaDelayMs = 0
    /// Delay before every event (`slow` fault).
    var perEventDelayMs = 0
    /// Abort the connection after this many events instead of ending the body (`stream_cut`), even when that is
    /// all of them (`mode=after_terminal`).
    var cutAfterEvents: Int?
    /// Wait this long after the headers before the first event; `Int.max` waits until the client leaves.
    var silenceMs = 0

    /// Milliseconds to wait before writing event `index`.
    func delayBefore(_ index: Int) -> Int {
        var delay = perEventDelayMs
        if deltaIndices.contains(index) { delay += deltaDelayMs }
        if index == 0 { delay = silenceMs == Int.max ? Int.max : delay + silenceMs }
        return delay
    }
}
