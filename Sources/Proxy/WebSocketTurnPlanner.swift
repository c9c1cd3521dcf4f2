/// Decides how one `response.create` turn of a downstream WebSocket reaches the upstream, from where its
/// anchor (`previous_response_id`) can still resolve (recovery-lessons "the anchor rule").
///
/// The upstream keeps only the latest response of a connection, in that connection's memory, so an
/// anchor is forwarded only when it is the last response of the upstream session that is still open.
/// Anything else — the session closed, was recycled, moved to another account, or the id is older — is
/// a dead anchor: the turn is replayed in full from the transcript cache when the proxy holds it, and
/// otherwise answered with the sanitised `previous_response_not_found` that makes Codex resend the
/// whole history. A dead anchor is never sent upstream.
/// Pure: no I/O, no clock, no logging. Concurrency: a value.
struct WebSocketTurnPlanner: Sendable {
    enum Plan: Equatable, Sendable {
        /// Send the frame as it is (apart from the proxy's own field rewrites).
        case forward
        /// Send the full input rebuilt from the transcript, without `previous_response_id`.
        case replay
        /// Answer `previous_response_not_found` (sanitised); send nothing upstream.
        case continuityLoss
    }

    /// - Parameters:
    ///   - anchor: the frame's `previous_response_id`, if any.
    ///   - liveAnchor: the last response of the session's open upstream connection, nil when none is open.
    ///   - hasTranscript: the transcript cache holds `anchor`'s full input and output.
    func plan(anchor: String?, liveAnchor: String?, hasTranscript: Bool) -> Plan {
        guard let anchor else { return .forward }
        if anchor == liveAnchor { return .forward }
        return hasTranscript ? .replay : .continuityLoss
    }

    /// What a failure of the upstream connection itself (closed, dropped, handshake refused, connection
    /// age limit) means for a turn that has not reached the client yet: the connection is gone, so the
    /// anchor it held is dead too, and the turn is planned again as if it had just arrived, with no live
    /// anchor. Bounded by `attempts < maxAttempts`; past that, a retryable 502 (`nil`).
    func replanAfterConnectionLoss(anchor: String?, hasTranscript: Bool, attempts: Int, maxAttempts: Int) -> Plan? {
        guard attempts < maxAttempts else { return nil }
        return plan(anchor: anchor, liveAnchor: nil, hasTranscript: hasTranscript)
    }
}
