import LogRedaction
import Metrics

/// The one place a recovery decision is recorded: exactly one counter increment
/// (`sightline_recovery_decisions_total{decision,outcome}`), one span event (`sightline.recovery` on the
/// request span) and one log line (event `sightline.recovery`, body "recovery decision"), all built from
/// one `RecoveryRecord` so the three can never disagree.
///
/// A decision is recorded as `attempted` when performed, then once more as `succeeded` or `gave_up`
/// when its result is known, so `attempted = succeeded + gave_up` once requests finish. Decisions that
/// are decided and answered at once (`dead_anchor`, `masked_continuity_loss`, `affinity_miss`) record
/// `attempted` and their result together.
/// Concurrency: stateless; safe from any thread.
struct RecoveryRecorder: Sendable {
    enum Outcome: String, Sendable {
        case attempted, succeeded
        case gaveUp = "gave_up"
    }

    let metrics: SightlineMetrics
    let logger: Logger

    /// `reason` is a closed token (an `UpstreamErrorClass` raw value or a transport failure reason).
    func record(
        _ decision: Decision,
        _ outcome: Outcome,
        reason: String,
        account: String?,
        session: String?,
        attempt: Int,
        span: Span?,
        trace: TraceContext?
    ) {
        guard let label = decision.label else { return }
        metrics.recoveryDecisions(decision: label, outcome: outcome.rawValue).increment()
        var attributes = [
            LogAttribute("sightline.recovery.decision", .string(label)),
            LogAttribute("sightline.recovery.outcome", .string(outcome.rawValue)),
            LogAttribute("error.type", .string(reason)),
            LogAttribute("http.request.resend_count", .int(attempt)),
        ]
        if let account { attributes.append(LogAttribute("sightline.account", .pseudonym(account))) }
        if let session { attributes.append(LogAttribute("sightline.session", .pseudonym(session))) }
        span?.addEvent("sightline.recovery", attributes)
        logger.log(.info, "recovery decision", event: "sightline.recovery", trace: trace, attributes)
    }
}
