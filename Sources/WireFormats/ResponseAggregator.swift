/// Turns an upstream SSE stream into one Response JSON object, for clients that asked for `stream: false`.
///
/// Feed the JSON `data` of every event in order (`consume`), then call `finish()`. The result is the `response`
/// object of the first terminal event (`response.completed`, `response.incomplete` or `response.failed`; later
/// events are ignored, as Codex does). Some backends send a terminal response whose `output` is empty or
/// missing; then `output` is filled with the `item`s of `response.output_item.done` events in `output_index`
/// order, spliced in with `JSONTopLevel.rewriting` — nothing else is re-serialised.
///
/// Outcomes and the HTTP status the caller should answer with:
/// - `.completed(json)` → 200 with the response object.
/// - `.incomplete(json)` → 200 with the response object (status `incomplete`).
/// - `.failed(status:errorJSON:)` → `status` from `ResponseFailureStatus` (by `error.code`) with the body
///   `{"error":<upstream error object>}` (passed through verbatim). A bare `error` event followed by the end of
///   the stream also yields `.failed`.
/// - `.truncated` → the stream ended without a terminal event; answer 502.
///
/// It does no I/O, keeps copies of the item and terminal bytes only, and does not check SSE framing
/// (use `SSEFramer`/`SSEParser` first). Malformed event JSON makes `consume` throw; the caller decides whether to
/// abort. Concurrency: a mutable value owned by one request.
public struct ResponseAggregator: Sendable {
    public enum Outcome: Sendable, Equatable {
        case completed([UInt8])
        case incomplete([UInt8])
        case failed(status: Int, errorJSON: [UInt8])
        case truncated
    }

    private enum Terminal: Sendable {
        case completed, incomplete, failed
    }

    private var items: [(index: Int, bytes: [UInt8])] = []
    private var terminal: (kind: Terminal, response: [UInt8], summary: ResponseEventSummary)?
    private var bareError: (error: [UInt8]?, summary: ResponseEventSummary)?

    /// The summary of the terminal event, once seen (for logging and metrics).
    public var terminalSummary: ResponseEventSummary? { terminal?.summary ?? bareError?.summary }

    public init() {}

    /// Records one event's JSON data. Returns its summary, which callers can reuse for logs and metrics.
    @discardableResult
    public mutating func consume(eventData: ArraySlice<UInt8>) throws(JSONScanError) -> ResponseEventSummary {
        let top = try JSONTopLevel.scan(object: eventData)
        let summary = try ResponseEventSummary(top: top)
        guard terminal == nil else { return summary }
        switch summary.type {
        case "response.output_item.done":
            if let item = top.rawValue(forKey: "item") {
                items.append((summary.outputIndex ?? items.count, Array(item)))
            }
        case "response.completed", "response.incomplete", "response.failed":
            let kind: Terminal =
                summary.type == "response.completed"
                ? .completed : summary.type == "response.incomplete" ? .incomplete : .failed
            let response = top.value(forKey: "response").flatMap { $0.kind == .object ? Array($0.bytes) : nil }
            terminal = (kind, response ?? Array("{}".utf8), summary)
        case "error":
            let error = top.value(forKey: "error").flatMap { $0.kind == .object ? Array($0.bytes) : nil }
            bareError = (error, summary)
        default:
            break
        }
        return summary
    }

    @discardableResult
    public mutating func consume(eventData: [UInt8]) throws(JSONScanError) -> ResponseEventSummary {
        try consume(eventData: eventData[...])
    }

    /// The outcome for everything consumed so far.
    public func finish() -> Outcome {
        guard let terminal else {
            guard let bareError else { return .truncated }
            return failure(errorObject: bareError.error, summary: bareError.summary)
        }
        switch terminal.kind {
        case .completed: return .completed(filledOutput(terminal.response))
        case .incomplete: return .incomplete(filledOutput(terminal.response))
        case .failed:
            let error = try? JSONTopLevel.scan(terminal.response).value(forKey: "error")
            return failure(
                errorObject: error.flatMap { $0.kind == .object ? Array($0.bytes) : nil },
                summary: terminal.summary
            )
        }
    }

    private func failure(errorObject: [UInt8]?, summary: ResponseEventSummary) -> Outcome {
        let code = summary.error?.code
        let status = ResponseFailureStatus.status(forCode: code)
        let error =
            errorObject
            ?? JSONEncoding.object([
                ("message", JSONEncoding.string(summary.error?.message ?? "upstream response failed")),
                ("type", JSONEncoding.string(status >= 500 ? "server_error" : "invalid_request_error")),
                ("param", JSONEncoding.null),
                ("code", JSONEncoding.optionalString(code)),
            ])
        return .failed(status: status, errorJSON: JSONEncoding.object([("error", error)]))
    }

    /// The response with `output` filled from the collected items when it is empty or missing.
    private func filledOutput(_ response: [UInt8]) -> [UInt8] {
        guard !items.isEmpty, let top = try? JSONTopLevel.scan(response) else { return response }
        if let output = top.value(forKey: "output"), output.kind == .array,
            (try? JSONArray.elements(of: output.bytes))?.isEmpty == false
        {
            return response
        }
        // Ordered by output_index; if an index repeats, the item that arrived last wins.
        var byIndex: [Int: [UInt8]] = [:]
        for item in items { byIndex[item.index] = item.bytes }
        let ordered = byIndex.keys.sorted().map { byIndex[$0]! }
        return top.rewriting(set: [("output", JSONEncoding.array(ordered))])
    }
}
