/// Everything the transport may be told to do after an upstream event. Recorded as
/// `sightline_recovery_decisions_total{decision, outcome}`, whose `decision` label is `label`.
/// `.passThrough` and `.commit` are not recovery decisions and are never recorded.
enum Decision: Equatable, Sendable {
    /// The anchor's owner is unknown or expired; the request is routed by the selection policy.
    case affinityMiss
    /// Retry once on the same account without the anchor; the input is already complete.
    case stripRetry
    /// Retry once without the anchor, with the full input rebuilt from the transcript cache.
    case transcriptReplay
    /// The conversation's account failed for credentials or quota: drop the pin, cool the account,
    /// and reselect (without forwarding the stale anchor).
    case pinReset
    /// Continuity cannot be recovered: answer a retryable, sanitised error.
    case maskedContinuityLoss
    /// The anchor is known to be gone: answer at once, no upstream call.
    case deadAnchor
    /// Try another account; nothing has reached the client yet.
    case failover
    /// Refresh this account's token, then retry once.
    case tokenRefresh
    /// The account refused reasoning another account sealed: retry once on it without those items.
    case reasoningStrip
    /// Forward the upstream's answer as it is (sanitised).
    case passThrough
    /// A transient failure while the anchor may still be valid: retryable 502, anchor kept.
    case transientFailure

    /// The metric label; nil for decisions that are not recovery decisions.
    var label: String? {
        switch self {
        case .affinityMiss: "affinity_miss"
        case .stripRetry: "strip_retry"
        case .transcriptReplay: "transcript_replay"
        case .pinReset: "pin_reset"
        case .maskedContinuityLoss: "masked_continuity_loss"
        case .deadAnchor: "dead_anchor"
        case .failover: "failover"
        case .tokenRefresh: "token_refresh"
        case .reasoningStrip: "reasoning_strip"
        case .passThrough, .transientFailure: nil
        }
    }
}
