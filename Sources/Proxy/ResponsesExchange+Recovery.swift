import Foundation
import HTTPServer
import LogRedaction
import WireFormats

extension ResponsesExchange {
    /// The policy's answer for the current request state.
    func policyDecision(_ event: UpstreamEvent) -> Decision {
        let s = state.withLock { $0 }
        var rs = RecoveryPolicy.RequestState()
        rs.hasAnchor = s.anchorInBody
        rs.hasTranscript = s.anchorInBody && prepared.anchor.map { ctx.transcripts.contains($0) } == true
        rs.continuityRetried = s.continuityRetried
        rs.reasoningStripped = s.reasoningStripped
        rs.compactionStripped = s.compactionStripped
        if Self.errorClass(of: event) == .invalidEncryptedContent { rs.noteSealedItems(in: s.body) }
        // An API-key account's anchors live on the account (a ChatGPT one's only in a socket, never over HTTP).
        if s.anchorInBody, let owner = s.anchorOwner, owner != s.account, ctx.pool.accounts[owner].kind == .apikey {
            rs.anchorElsewhere = true
        }
        rs.refreshed = s.account.map { s.refreshedAccounts.contains($0) } ?? false
        rs.anyRefreshed = !s.refreshedAccounts.isEmpty
        rs.canRefresh = s.account.map { ctx.pool.credentials($0).canRefresh } ?? false
        rs.attempts = s.attempt
        rs.maxAttempts = ctx.pool.maxAttempts
        return RecoveryPolicy().decide(rs, event)
    }

    /// Cools the account down for quota and server errors (`AccountPool.applyConsequences`).
    func applyAccountConsequences(
        status: Int,
        error: UpstreamErrorClass,
        resetsAt: Double?,
        headers: [(String, String)]
    ) {
        guard let index = state.withLock({ $0.account }) else { return }
        let now = ctx.now()
        ctx.pool.applyConsequences(
            index,
            status: status,
            error: error,
            resetsAt: resetsAt,
            quota: QuotaSignal.parse(headers: headers),
            retryAfter: RetryAfter.seconds(headers: headers, now: now),
            now: now
        )
    }

    /// Cancels the current attempt (if still running) and performs `decision`.
    func abandonAttemptAndRecover(attempt: Int, event: UpstreamEvent, decision: Decision) {
        // Mark the attempt abandoned before cancelling, so its completion callback is ignored.
        let (transfer, failedIndex, generation) = state.withLock { s -> (UpstreamTransfer?, Int?, Int) in
            s.liveAttempt = nil
            return (s.transfer, s.account, s.generation)
        }
        let reason = Self.reason(event)
        let outcome: String
        switch event {
        case .httpError(let status, _): outcome = AttemptOutcome.status(status)
        case .inStreamError: outcome = "stream_error"
        case .transportFailure(let r):
            outcome = r.contains("timeout") ? "timeout" : (r == "stream_incomplete" ? "stream_error" : "connect_error")
        }
        transfer?.cancel()
        endAttempt(outcome: outcome, error: reason)
        state.withLock { s in s.lastEvent = event }
        switch decision {
        case .failover:
            recordNow(.failover, .attempted, reason: reason)
            exclude(failedIndex, pending: .failover)
            startAttempt()
        case .pinReset:
            // The conversation's account failed for credentials or quota: drop its pin and move on; the stale
            // anchor is never forwarded to the new account (planAnchor replays from the transcript instead).
            resetPin(leaving: failedIndex, reason: reason)
            if case .httpError(401, _) = event, let failedIndex {
                ctx.pool.coolUnauthorized(failedIndex, now: ctx.now())
            }
            continueAfterLeavingTheConversationsAccount()
        case .tokenRefresh:
            guard let index = failedIndex else { return respondError(.upstreamUnavailable) }
            recordNow(.tokenRefresh, .attempted, reason: reason)
            state.withLock { _ = $0.refreshedAccounts.insert(index) }
            let name = ctx.pool.accounts[index].name
            ctx.refresher.refresh(account: name, ifGeneration: generation) { [self] result in
                switch result {
                case .success:
                    state.withLock { s in
                        s.pending.append(.tokenRefresh)
                        s.preferredAccount = index
                    }
                    startAttempt()  // the same account is still eligible; the sticky preference brings it back
                case .failure(let error):
                    recordNow(.tokenRefresh, .gaveUp, reason: error.reason)
                    ctx.pool.refreshAfterUnauthorizedFailed(index, error, now: ctx.now())
                    resetPin(leaving: index, reason: error.reason)
                    continueAfterLeavingTheConversationsAccount()
                }
            }
        case .transcriptReplay, .stripRetry:
            guard let anchor = prepared.anchor else { return maskContinuityLoss(reason: reason) }
            ctx.affinity.forget(responseID: anchor)
            if decision == .transcriptReplay {
                guard let replay = replayBody(anchor: anchor) else { return maskContinuityLoss(reason: reason) }
                state.withLock { s in
                    s.body = replay.body
                    s.fullInput = replay.input
                }
            } else {
                let stripped = (try? JSONTopLevel.scan(prepared.body))?.rewriting(
                    set: [],
                    remove: ["previous_response_id"]
                )
                state.withLock { s in s.body = stripped ?? s.body }
            }
            recordNow(decision, .attempted, reason: reason)
            state.withLock { s in
                s.anchorInBody = false
                s.continuityRetried = true
                s.pending.append(decision)
                s.preferredAccount = failedIndex  // same account: keeps its prompt cache warm
            }
            startAttempt()
        case .reasoningStrip:
            // Items another account sealed: once more on this account without them (reasoning first).
            let (body, reasoningDone) = state.withLock { ($0.body, $0.reasoningStripped) }
            let step = EncryptedReasoning.nextStep(
                present: EncryptedReasoning.kinds(in: body),
                reasoningStripped: reasoningDone
            )
            guard let stripped = EncryptedReasoning.stripped(body: body, kinds: step) else {
                return respondError(Self.clientError(for: event))
            }
            recordNow(.reasoningStrip, .attempted, reason: EncryptedReasoning.reason(step))
            state.withLock { s in
                s.body = stripped
                if let full = s.fullInput {
                    s.fullInput = EncryptedReasoning.stripped(input: full[...], kinds: step) ?? full
                }
                s.reasoningStripped = true
                if step.contains(.compaction) { s.compactionStripped = true }
                s.pending.append(.reasoningStrip)
                s.preferredAccount = failedIndex
            }
            // The conversation's later turns on this account go without what it cannot read (`SealedContentMemory`).
            if let session = prepared.sessionPseudonym, let failedIndex {
                ctx.sealed.refused(session: session, account: failedIndex)
            }
            startAttempt()
        case .maskedContinuityLoss:
            maskContinuityLoss(reason: reason)
        case .transientFailure:
            respondError(.upstreamUnavailable)
        case .deadAnchor, .affinityMiss:
            respondError(.upstreamUnavailable)  // decided before any attempt, never after one
        case .passThrough:
            respondError(Self.clientError(for: event))
        }
    }

    /// A pin reset away from `index`: recorded `attempted`, the conversation's pin dropped, the account excluded for
    /// the rest of the request; the caller then moves on (`startAttempt`) or ends it.
    func resetPin(leaving index: Int?, reason: String) {
        recordNow(.pinReset, .attempted, reason: reason)
        ctx.pool.dropSticky(session: prepared.sessionPseudonym)
        exclude(index, pending: .pinReset)
    }

    /// Excludes the failed account for the rest of this request and queues the decision's result.
    private func exclude(_ index: Int?, pending decision: Decision) {
        state.withLock { s in
            if let i = index { s.excluded.insert(i) }
            s.pending.append(decision)
        }
    }

    /// Continuity cannot be recovered: a retryable, sanitised 502 (never the raw code, never a `resp_` id),
    /// and the anchor is tombstoned so a client resending it is answered at once, without an upstream call.
    func maskContinuityLoss(reason: String) {
        recordNow(.maskedContinuityLoss, .attempted, reason: reason)
        recordNow(.maskedContinuityLoss, .gaveUp, reason: reason)
        if let anchor = prepared.anchor {
            ctx.affinity.forget(responseID: anchor)
            ctx.affinity.markDead(responseID: anchor, now: Int64(ctx.now()))
        }
        respondError(.streamIncomplete)
    }

    var attemptCount: Int { state.withLock { $0.attempt } }

    /// A failure with no usable upstream answer: before the first byte it is recoverable; after it an event
    /// stream ends with a terminal `response.failed` (never a bare `error`, which Codex ignores), and an answer
    /// relayed as it came (a compaction's JSON) is cut as the upstream's was: what arrived goes out, then the
    /// connection closes without the end chunk, so the client's HTTP library reports the cut. Until 2026-12-08 that
    /// JSON got an SSE `response.failed` appended and a clean end, a body no parser could read.
    func failBeforeOrAfterCommit(attempt: Int, event: UpstreamEvent) {
        let committed = state.withLock { $0.committed }
        if !committed {
            abandonAttemptAndRecover(attempt: attempt, event: event, decision: policyDecision(event))
            return
        }
        let reason = Self.reason(event)
        let (transfer, relayedRaw) = state.withLock { s -> (UpstreamTransfer?, Bool) in
            s.liveAttempt = nil
            if case .raw = s.mode { return (s.transfer, true) }
            return (s.transfer, false)
        }
        transfer?.cancel()
        endAttempt(outcome: "stream_error", error: reason)
        if relayedRaw {
            responder.abortAfterFlush()
        } else {
            responder.write(FailedResponseEvent.sse(FailedResponseEvent.streamIncomplete))
            responder.end()
        }
        settlePending(.gaveUp)
        finish(status: 200, error: "stream_incomplete", countedAs: ProxyErrorResponse.streamIncomplete.status)
    }

    /// The upstream's own error, relayed with its status. Continuity errors never get here (they are
    /// masked); response ids are scrubbed from the body anyway as a last filter at the boundary.
    func relayUpstreamError(status: Int, body: [UInt8], headers: [(String, String)], error: UpstreamErrorClass) {
        var h = HeaderPolicy.relayedResponseHeaders(headers)
        if !h.contains("content-type") { h.set("content-type", "application/json") }
        let clean = ResponseIDScrubber.scrub(body)
        settlePending(.gaveUp)
        responder.respond(status: status, headers: h, body: clean)
        finish(status: status, error: error.rawValue)
    }

    /// The stream reached its terminal event. `response.completed` (or `response.incomplete`, the model's
    /// answer cut by a limit) is a success; the upstream's own `response.failed` or `error` is relayed like
    /// any other event but counted as the failure it is: by its class in the attempt outcome and the request's
    /// `error.type`, and without renewing the conversation's stickiness.
    func completeAtTerminal() {
        let (account, responseID, fullInput, inputIsComplete, anchorForwarded, failure) = state.withLock {
            s -> (Int?, String?, [UInt8]?, Bool, Bool, UpstreamErrorClass?) in
            s.liveAttempt = nil
            return (s.account, s.responseID, s.fullInput, s.inputIsComplete, s.anchorInBody, s.terminalFailure)
        }
        endAttempt(outcome: AttemptOutcome.terminal(failure: failure), error: failure?.rawValue)
        // Storing a transcript digests the whole history and may deflate all of it: milliseconds for a large
        // one. Such a store, and the answer after it, run off the event loop (which serves every connection on
        // it). The answer still waits for the store, so a client's next turn always finds the transcript of
        // this one. A history up to `inlineTranscriptBytes` costs tens of microseconds, less than handing it
        // to another thread and waking it (docs/benchmarks.md, sixth pass), so it is stored in place. The
        // body bounds the input without finding it, which may take a scan of the body.
        //
        // An anchor forwarded as it came (to the API-key account that owns it) is stored too, as the anchor's
        // transcript plus the new items: until 2026-12-07 such a turn was not, so when its account later failed
        // the conversation could not be replayed and was masked as lost. Expanding the anchor's chain costs
        // about its whole history, so that store always runs off the loop.
        let expandsAnchor =
            anchorForwarded && fullInput == nil && prepared.anchor.map { ctx.transcripts.contains($0) } == true
        let storesTranscript = responseID != nil && (fullInput != nil || inputIsComplete || expandsAnchor)
        let recordAndAnswer: @Sendable () -> Void = { [self] in
            // The request's own input is read from its body here: off the loop when the store is.
            var input = storesTranscript ? fullInput.map { $0[...] } ?? prepared.inputSlice : nil
            if storesTranscript, expandsAnchor, let anchor = prepared.anchor {
                input = ctx.transcripts.fullInput(previousResponseID: anchor, newItems: prepared.inputItems)?[...]
            }
            self.recordAndAnswer(account: account, responseID: responseID, fullInput: input, failure: failure)
        }
        if storesTranscript, expandsAnchor || (fullInput?.count ?? prepared.body.count) > Self.inlineTranscriptBytes {
            Self.completions.async(execute: recordAndAnswer)
        } else {
            recordAndAnswer()
        }
    }

    /// The longest input whose transcript is stored on the thread that completed the request.
    static let inlineTranscriptBytes = 64 * 1024

    private static let completions = DispatchQueue(
        label: "sightline.completions",
        qos: .userInitiated,
        attributes: .concurrent
    )

    /// After the conversation's account was left (a pin reset, a refresh that failed or died): the stale anchor is
    /// never forwarded to another account. Without a transcript to replay it from, the loss is masked at once;
    /// otherwise the next attempt (`planAnchor` replays it). Until 2026-12-07 the two refresh-failure paths started
    /// the next attempt with the anchor still in the body, and another account saw it (and answered 400).
    func continueAfterLeavingTheConversationsAccount() {
        if state.withLock({ $0.anchorInBody }), let anchor = prepared.anchor, !ctx.transcripts.contains(anchor) {
            maskContinuityLoss(reason: "anchor_on_reset_account")
            return
        }
        startAttempt()
    }

    private func recordAndAnswer(
        account: Int?,
        responseID: String?,
        fullInput: ArraySlice<UInt8>?,
        failure: UpstreamErrorClass?
    ) {
        let items = state.withLock { $0.outputItems }
        if ctx.sealed.isUsed, let account, failure == nil, let session = prepared.sessionPseudonym {
            ctx.sealed.produced(
                session: session,
                account: account,
                blobs: EncryptedReasoning.reasoningContent(of: items.map(\.item))
            )
        }
        if let account, failure == nil {
            let now = ctx.now()
            ctx.pool.recordSuccess(account, session: prepared.sessionPseudonym, now: now)
            if let responseID {
                // Written only after success: a failed turn never becomes an anchor anyone is routed by.
                ctx.affinity.record(
                    responseID: responseID,
                    entry: AffinityMap.Entry(accountIndex: account, createdAt: Int64(now)),
                    owner: prepared.principalPseudonym
                )
                if let fullInput {
                    let output = JSONEncoding.array(items.sorted { $0.index < $1.index }.map(\.item))
                    // Both arrays are well-formed by construction: the request's scanned `input` value (or a
                    // replay built from cached items) and the output items joined by `JSONEncoding.array`.
                    ctx.transcripts.store(
                        responseID: responseID,
                        scannedInput: fullInput,
                        output: output,
                        metadata: TranscriptCache.Metadata(
                            accountIndex: account,
                            model: prepared.model,
                            createdAt: Int64(now),
                            owner: prepared.principalPseudonym
                        ),
                        // A session's next turn usually resends this history plus a little: stored as a link.
                        session: prepared.sessionPseudonym
                    )
                }
            }
        }
        if prepared.clientStreaming {
            responder.end()
            finish(status: 200, error: failure?.rawValue, countedAs: state.withLock { $0.terminalFailureStatus })
            return
        }
        // Decisions settle with the answer (`finish`): `succeeded` for a response, `gave_up` for the upstream's own
        // failure (until 2026-12-08 both settled `succeeded` here, before the answer was read).
        let outcome = state.withLock { $0.aggregator.finish() }
        switch outcome {
        case .completed(let json), .incomplete(let json):
            var h = HTTPHeaders()
            h.add("content-type", "application/json")
            let headers = state.withLock { $0.upstreamHeaders }
            for (k, v) in HeaderPolicy.relayedResponseHeaders(headers) where k.hasPrefix("x-") || k == "openai-model" {
                h.add(k, v)
            }
            responder.respond(status: 200, headers: h, body: json)
            finish(status: 200, error: nil)
        case .failed(let status, let errorJSON):
            var h = HTTPHeaders()
            h.add("content-type", "application/json")
            responder.respond(status: status, headers: h, body: ResponseIDScrubber.scrub(errorJSON))
            finish(status: status, error: failure?.rawValue ?? "response_failed")
        case .truncated:
            respondError(.streamIncomplete)
        }
    }

    func recordUsage(_ usage: ResponseEventSummary.Usage) {
        let first = state.withLock { s -> Bool in
            defer { s.usageRecorded = true }
            return !s.usageRecorded
        }
        if first { UsageRecorder.record(usage, metrics: ctx.metrics, span: serverSpan) }
    }

    /// Records the result of every decision still waiting for one.
    func settlePending(_ outcome: RecoveryRecorder.Outcome) {
        let (pending, account) = state.withLock { s -> ([Decision], String?) in
            defer { s.pending = [] }
            return (s.pending, s.accountLabel)
        }
        for d in pending {
            ctx.recorder.record(
                d,
                outcome,
                reason: "settled",
                account: account,
                session: prepared.sessionPseudonym,
                attempt: attemptCount,
                span: serverSpan,
                trace: trace
            )
        }
    }

    func respondError(_ error: ProxyErrorResponse) {
        settlePending(.gaveUp)
        error.send(responder)
        finish(status: error.status, error: error.code)
    }

    /// The upstream's error class, nil for a transport failure.
    static func errorClass(of event: UpstreamEvent) -> UpstreamErrorClass? {
        switch event {
        case .httpError(_, let e), .inStreamError(let e): e
        case .transportFailure: nil
        }
    }

    static func reason(_ event: UpstreamEvent) -> String {
        switch event {
        case .httpError(_, let e), .inStreamError(let e): e.rawValue
        case .transportFailure(let r): r
        }
    }

    /// What a client sees when recovery gives up on `event`.
    static func clientError(for event: UpstreamEvent) -> ProxyErrorResponse {
        switch event {
        case .httpError(429, _), .inStreamError(.usageLimitReached), .inStreamError(.rateLimitExceeded):
            return .usageLimitReached(resetsAt: nil, now: 0)
        default:
            return .upstreamUnavailable
        }
    }
}

extension ResponsesExchange {
    /// Records one outcome of a decision with this request's identity.
    func recordNow(_ decision: Decision, _ outcome: RecoveryRecorder.Outcome, reason: String) {
        let account = state.withLock { $0.accountLabel }
        ctx.recorder.record(
            decision,
            outcome,
            reason: reason,
            account: account,
            session: prepared.sessionPseudonym,
            attempt: attemptCount,
            span: serverSpan,
            trace: trace
        )
    }

    /// The body without `previous_response_id`, whose `input` is the anchor's transcript plus this
    /// request's new items. Nil when the transcript does not hold the anchor.
    func replayBody(anchor: String) -> (body: [UInt8], input: [UInt8])? {
        guard let full = ctx.transcripts.fullInput(previousResponseID: anchor, newItems: prepared.inputItems),
            let top = try? JSONTopLevel.scan(prepared.body)
        else { return nil }
        return (top.rewriting(set: [(key: "input", rawJSON: full)], remove: ["previous_response_id"]), full)
    }
}
