/// Decides what to do after one upstream event of one request, before anything reached the client.
///
/// Pure: no I/O, no clock, no logging, no metrics. It does not perform the retry and knows nothing
/// about sockets; `ResponsesExchange` performs each decision and `RecoveryRecorder` records it.
/// After the first byte reached the client no decision is asked for: the transport ends the stream with
/// a terminal `response.failed` instead (counted as a committed failure).
/// Concurrency: a value; never shared.
struct RecoveryPolicy: Sendable {
    /// The request's state as far as recovery is concerned.
    struct RequestState: Equatable, Sendable {
        /// The request carries `previous_response_id` (explicit, from the client).
        var hasAnchor = false
        /// The full input behind the anchor is in the transcript cache.
        var hasTranscript = false
        /// The anchor was added by the proxy (the client's input is complete without it).
        var anchorIsImplicit = false
        /// A strip-retry or replay already happened on this request (the loop guard).
        var continuityRetried = false
        /// The anchor is known to live on another account than the one that answered (an API-key account's
        /// anchor, which resolves on the account that produced it for as long as the API keeps it).
        var anchorElsewhere = false
        /// The current account's token was already refreshed on this request.
        var refreshed = false
        /// A token of any account was refreshed for this request already: a further refresh (another account's)
        /// must fit in the attempts left, so a request never sends more than `maxAttempts` plus its first refresh.
        var anyRefreshed = false
        /// The current account has a refresh token.
        var canRefresh = false
        /// The input holds reasoning items with `encrypted_content` (`EncryptedReasoning`).
        var hasEncryptedReasoning = false
        /// The input holds compaction items with `encrypted_content`.
        var hasSealedCompaction = false
        /// The reasoning items were already stripped on this request (the first step's loop guard).
        var reasoningStripped = false
        /// The compaction items were already stripped too (the second step's loop guard).
        var compactionStripped = false
        /// Attempts made so far, including the one that just failed.
        var attempts = 1
        var maxAttempts = 3

        /// Notes which sealed items `body`'s input holds: only asked of an `invalid_encrypted_content` answer, the
        /// one the strip decides on, so a request's input is scanned only then.
        mutating func noteSealedItems(in body: [UInt8]) {
            let sealed = EncryptedReasoning.kinds(in: body)
            hasEncryptedReasoning = sealed.contains(.reasoning)
            hasSealedCompaction = sealed.contains(.compaction)
        }
    }

    func decide(_ state: RequestState, _ event: UpstreamEvent) -> Decision {
        let error: UpstreamErrorClass
        var status: Int?
        switch event {
        case .httpError(let s, let e):
            error = e
            status = s
        case .inStreamError(let e):
            error = e
        case .transportFailure:
            return transient(state)
        }
        switch error {
        case .previousResponseNotFound:
            if state.continuityRetried { return .maskedContinuityLoss }
            if state.anchorIsImplicit { return .stripRetry }
            if state.hasTranscript { return .transcriptReplay }
            // Asked of an account that never held it (its own was briefly out): that proves nothing about the
            // anchor. Keep it; the client's retry finds its account back.
            if state.anchorElsewhere { return .transientFailure }
            return .maskedContinuityLoss
        case .tokenInvalidated, .tokenExpired, .unauthorized:
            if state.canRefresh && !state.refreshed && (!state.anyRefreshed || state.attempts < state.maxAttempts) {
                return .tokenRefresh
            }
            return state.attempts < state.maxAttempts ? .pinReset : .passThrough
        case .usageLimitReached, .rateLimitExceeded, .paymentRequired, .forbidden:
            return state.attempts < state.maxAttempts ? .pinReset : .passThrough
        case .serverError, .overloaded:
            return transient(state)
        case .other where (status ?? 0) >= 500:
            return transient(state)
        case .invalidEncryptedContent:
            // Sealed by another account: without those items, on the same account: the reasoning first, then the
            // compaction items. Nothing left to strip: the upstream's answer stands.
            let reasoningLeft = state.hasEncryptedReasoning && !state.reasoningStripped
            let compactionLeft = state.hasSealedCompaction && !state.compactionStripped
            return reasoningLeft || compactionLeft ? .reasoningStrip : .passThrough
        case .contextLengthExceeded, .invalidRequest, .other:
            return .passThrough
        }
    }

    /// A 5xx, drop or timeout. Without an anchor another account can serve the request; with one, only
    /// the anchor's own account can, so the client gets a retryable 502 and keeps its anchor.
    private func transient(_ state: RequestState) -> Decision {
        if !state.hasAnchor && state.attempts < state.maxAttempts { return .failover }
        return .transientFailure
    }
}
