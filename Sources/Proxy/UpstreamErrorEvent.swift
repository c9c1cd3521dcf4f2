import WireFormats

/// An upstream error that arrives as a WebSocket message: an `{"type":"error","status":…}` frame, or a
/// `response.failed` event. Read once, as the HTTP path reads the same answer, so a WebSocket turn and a bridged
/// request decide it alike (docs/recovery.md).
/// Concurrency: a value.
struct UpstreamErrorEvent {
    /// A `response.failed`, decided by its code alone; otherwise an error frame, decided by its status.
    let isResponseFailed: Bool
    /// An error frame's own status; for a `response.failed`, the one its code stands for (502 when unknown).
    let status: Int
    /// The status whose consequences the account takes (`AccountPool.applyConsequences`): nil for a
    /// `response.failed` whose code names no status, such as a lost anchor, which says nothing about the account.
    let coolingStatus: Int?
    /// The error itself: under `response` in a `response.failed`, at the top of an error frame.
    let body: UpstreamErrorBody
    /// The class, not the upstream's own code: `error.type` stays a closed, low-cardinality set.
    let errorClass: UpstreamErrorClass

    init(top: JSONTopLevel, summary: ResponseEventSummary) {
        isResponseFailed = summary.type == "response.failed"
        let code = summary.error?.code
        status = isResponseFailed ? ResponseFailureStatus.status(forCode: code) : top.int(forKey: "status") ?? 500
        coolingStatus = isResponseFailed ? code.flatMap { ResponseFailureStatus.table[$0] } : status
        body = UpstreamErrorBody(event: top)
        errorClass = UpstreamErrorClass.classify(
            code: body.code ?? code,
            type: body.type ?? summary.error?.type,
            status: isResponseFailed ? nil : status
        )
    }

    /// What the recovery policy is asked about.
    var policyEvent: UpstreamEvent {
        isResponseFailed ? .inStreamError(errorClass) : .httpError(status: status, error: errorClass)
    }
}
