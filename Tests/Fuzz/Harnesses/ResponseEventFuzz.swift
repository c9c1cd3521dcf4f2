import WireFormats

/// libFuzzer target `response_event`: `ResponseEventSummary` and `ResponseAggregator` over arbitrary event
/// data. Each input line is the JSON of one SSE `data:` field from a Responses stream, in order.
///
/// Invariants beyond "does not crash or hang": the summary `ResponseEventSummary(data:)` builds for a line is
/// the one the aggregator returns for it; and whatever the events, `finish()` answers, with a completed or
/// incomplete response that scans as a JSON object and a failure body that does too (the aggregator splices
/// output items into the terminal response, so a splice bug would show here).
@_cdecl("LLVMFuzzerTestOneInput")
public func responseEventFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var aggregator = ResponseAggregator()
    for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
        let direct = try? ResponseEventSummary(data: line)
        let aggregated = try? aggregator.consume(eventData: line)
        fuzzInvariant(
            direct == aggregated,
            "summaries differ: \(String(describing: direct)) vs \(String(describing: aggregated))"
        )
        _ = direct?.isTerminal
    }
    switch aggregator.finish() {
    case .completed(let json), .incomplete(let json):
        fuzzInvariant((try? JSONTopLevel.scan(json)) != nil, "response does not scan: \(json)")
    case .failed(let status, let json):
        fuzzInvariant((400..<600).contains(status), "status \(status)")
        fuzzInvariant((try? JSONTopLevel.scan(json)) != nil, "error body does not scan: \(json)")
    case .truncated:
        break
    }
    return 0
}
