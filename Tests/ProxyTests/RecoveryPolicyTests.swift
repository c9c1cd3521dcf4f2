import XCTest

@testable import Proxy

/// The policy as a table: every row of docs/recovery.md that the policy decides.
final class RecoveryPolicyTests: XCTestCase {
    typealias S = RecoveryPolicy.RequestState

    func testDecisionTable() {
        let anchored = S(hasAnchor: true)
        let anchoredWithTranscript = S(hasAnchor: true, hasTranscript: true)
        let implicit = S(hasAnchor: true, anchorIsImplicit: true)
        let retried = S(hasAnchor: true, hasTranscript: true, continuityRetried: true)
        let elsewhere = S(hasAnchor: true, anchorElsewhere: true)
        let elsewhereWithTranscript = S(hasAnchor: true, hasTranscript: true, anchorElsewhere: true)
        let fresh = S()
        let refreshable = S(canRefresh: true)
        let refreshed = S(refreshed: true, canRefresh: true)
        let otherRefreshed = S(anyRefreshed: true, canRefresh: true, attempts: 2, maxAttempts: 3)
        let otherRefreshedLast = S(anyRefreshed: true, canRefresh: true, attempts: 3, maxAttempts: 3)
        let lastAttempt = S(attempts: 3, maxAttempts: 3)
        let sealed = S(hasEncryptedReasoning: true)
        let sealedStripped = S(hasEncryptedReasoning: true, reasoningStripped: true)
        let sealedLast = S(hasEncryptedReasoning: true, attempts: 3, maxAttempts: 3)
        let compacted = S(hasSealedCompaction: true, reasoningStripped: true)
        let compactedStripped = S(hasSealedCompaction: true, reasoningStripped: true, compactionStripped: true)
        let pnf = UpstreamErrorClass.previousResponseNotFound
        let iec = UpstreamErrorClass.invalidEncryptedContent
        let rows: [(String, S, UpstreamEvent, Decision)] = [
            ("pnf 400, proxy-added anchor → strip", implicit, .httpError(status: 400, error: pnf), .stripRetry),
            ("pnf in stream, proxy-added anchor → strip", implicit, .inStreamError(pnf), .stripRetry),
            (
                "pnf with transcript → replay", anchoredWithTranscript, .httpError(status: 400, error: pnf),
                .transcriptReplay
            ),
            ("pnf without transcript → masked", anchored, .httpError(status: 400, error: pnf), .maskedContinuityLoss),
            ("pnf after a retry → masked (loop guard)", retried, .inStreamError(pnf), .maskedContinuityLoss),
            (
                "pnf from an account that never held the anchor → transient, anchor kept", elsewhere,
                .httpError(status: 400, error: pnf), .transientFailure
            ),
            (
                "pnf elsewhere with a transcript → replay", elsewhereWithTranscript,
                .httpError(status: 400, error: pnf), .transcriptReplay
            ),
            (
                "401 token invalidated, refreshable → refresh", refreshable,
                .httpError(status: 401, error: .tokenInvalidated), .tokenRefresh
            ),
            ("401 after refresh → pin reset", refreshed, .httpError(status: 401, error: .tokenInvalidated), .pinReset),
            (
                "401 on another account after a refresh, attempts left → refresh", otherRefreshed,
                .httpError(status: 401, error: .tokenExpired), .tokenRefresh
            ),
            (
                "401 on another account after a refresh, no attempt left → pass (a second refresh would exceed them)",
                otherRefreshedLast, .httpError(status: 401, error: .tokenExpired), .passThrough
            ),
            ("401 no refresh token → pin reset", fresh, .httpError(status: 401, error: .unauthorized), .pinReset),
            ("429 usage limit → pin reset", fresh, .httpError(status: 429, error: .usageLimitReached), .pinReset),
            ("429 without code → pin reset", fresh, .httpError(status: 429, error: .rateLimitExceeded), .pinReset),
            ("402 → pin reset", fresh, .httpError(status: 402, error: .paymentRequired), .pinReset),
            ("403 → pin reset", fresh, .httpError(status: 403, error: .forbidden), .pinReset),
            (
                "429 on the last attempt → pass through", lastAttempt,
                .httpError(status: 429, error: .usageLimitReached), .passThrough
            ),
            ("sealed reasoning refused → strip once", sealed, .httpError(status: 400, error: iec), .reasoningStrip),
            ("sealed reasoning refused in stream → strip once", sealed, .inStreamError(iec), .reasoningStrip),
            (
                "sealed reasoning on the last attempt → strip (same account)", sealedLast,
                .httpError(status: 400, error: iec), .reasoningStrip
            ),
            (
                "refused again after a strip → pass through", sealedStripped, .httpError(status: 400, error: iec),
                .passThrough
            ),
            ("refused with nothing to strip → pass through", fresh, .httpError(status: 400, error: iec), .passThrough),
            (
                "refused again with sealed compaction left → strip it", compacted, .httpError(status: 400, error: iec),
                .reasoningStrip
            ),
            (
                "refused after both steps → pass through", compactedStripped, .httpError(status: 400, error: iec),
                .passThrough
            ),
            ("5xx without anchor → failover", fresh, .httpError(status: 500, error: .serverError), .failover),
            ("drop without anchor → failover", fresh, .transportFailure(reason: "connection_reset"), .failover),
            (
                "5xx with anchor → transient 502, anchor kept", anchored, .httpError(status: 502, error: .serverError),
                .transientFailure
            ),
            (
                "timeout with anchor → transient, never continuity loss", anchored,
                .transportFailure(reason: "timeout"), .transientFailure
            ),
            (
                "5xx on the last attempt → transient", lastAttempt, .httpError(status: 503, error: .overloaded),
                .transientFailure
            ),
            ("404 is not a pin reset", anchored, .httpError(status: 404, error: .invalidRequest), .passThrough),
            (
                "400 context length → pass through", fresh, .httpError(status: 400, error: .contextLengthExceeded),
                .passThrough
            ),
            ("in-stream server_error without anchor → failover", fresh, .inStreamError(.serverError), .failover),
        ]
        for (name, state, event, expected) in rows {
            XCTAssertEqual(RecoveryPolicy().decide(state, event), expected, name)
        }
    }

    func testDecisionLabelsMatchTheMetricCatalog() {
        let labelled: [Decision] = [
            .affinityMiss, .stripRetry, .transcriptReplay, .pinReset, .maskedContinuityLoss, .deadAnchor, .failover,
            .tokenRefresh,
        ]
        XCTAssertEqual(
            labelled.compactMap(\.label),
            [
                "affinity_miss", "strip_retry", "transcript_replay", "pin_reset",
                "masked_continuity_loss", "dead_anchor", "failover", "token_refresh",
            ]
        )
        XCTAssertNil(Decision.passThrough.label)
        XCTAssertNil(Decision.transientFailure.label)
    }

    func testErrorClassMappingIsClosed() {
        XCTAssertEqual(
            UpstreamErrorClass.classify(code: "previous_response_not_found", type: nil, status: 400),
            .previousResponseNotFound
        )
        XCTAssertEqual(
            UpstreamErrorClass.classify(code: nil, type: "usage_limit_reached", status: 429),
            .usageLimitReached
        )
        XCTAssertEqual(UpstreamErrorClass.classify(code: "something-new", type: nil, status: 429), .rateLimitExceeded)
        XCTAssertEqual(UpstreamErrorClass.classify(code: "something-new", type: nil, status: 418), .invalidRequest)
        XCTAssertEqual(UpstreamErrorClass.classify(code: "something-new", type: nil, status: nil), .other)
        XCTAssertEqual(UpstreamErrorClass.classify(code: nil, type: nil, status: 503), .serverError)
    }
}
