import Foundation
import HTTPServer
import LogRedaction
import WireFormats

extension ResponsesExchange {
    /// The policy's answer for the current request state.
    func policyDecision(_ event: UpstreamEvent) -> Decision {
        let s = state.withLock { $0 }
        var rs = RecoveryPolicy.RequestState()
        rs.hasAnchor = prepared.anchor != nil
        rs.hasTranscript = false
        rs.continuityRetried = s.continuityRetried
        rs.refreshed = s.refreshed
        rs.canRefresh = false
        rs.attempts = s.attempt
        rs.maxAttempts = max(1, min(3, ctx.pool.accounts.count))
        return RecoveryPolicy().decide(rs, event)
    }

    /// Cools the account down for quota and server errors (never for client errors or silence).
    func applyAccountConsequences(status: Int, error: UpstreamErrorClass, resetsAt: Double?, headers: [(String, String)]) {
        guard let index = state.withLock({ $0.account }) else { return }
        let now = ctx.now()
        switch status {
        case 429:
            let quota = QuotaSignal.parse(headers: headers)
            if let reset = resetsAt ?? (error == .usageLimitReached ? quota.resetAt : nil), reset > now {
                ctx.pool.coolDown(index, until: reset, reason: "usage_limit")
            } else {
                ctx.pool.coolDown(index, until: now + ctx.pool.bareRateLimitBackoff(index), reason: "rate_limited")
            }
        case 402, 403:
            ctx.pool.coolDown(index, until: now + 3600, reason: "forbidden")
        case 500...:
            ctx.pool.coolDown(index, until: now + 5, reason: "server_error")
        default:
            break
        }
    }

    /// Cancels the current attempt (if still running) and performs `decision`.
    func abandonAttemptAndRecover(attempt: Int, event: UpstreamEvent, decision: Decision) {
        // Mark the attempt abandoned before cancelling, so its completion callback is ignored.
        let (transfer, account, excludedIndex) = state.withLock { s -> (UpstreamTransfer?, String?, Int?) in
            s.liveAttempt = nil
            return (s.transfer, s.accountLabel, s.account)
        }
        let reason = Self.reason(event)
        let outcome: String
        switch event {
        case .httpError(let status, _): outcome = Self.attemptOutcome(status: status)
        case .inStreamError: outcome = "stream_error"
        case .transportFailure(let r): outcome = r.contains("timeout") ? "timeout" : (r == "stream_incomplete" ? "stream_error" : "connect_error")
        }
        transfer?.cancel()
        endAttempt(outcome: outcome, error: reason)
        state.withLock { s in s.lastEvent = event }
        switch decision {
        case .failover, .pinReset:
            ctx.recorder.record(decision, .attempted, reason: reason, account: account, session: prepared.sessionPseudonym, attempt: attemptCount, span: serverSpan, trace: trace)
            state.withLock { s in
                if let i = excludedIndex { s.excluded.insert(i) }
                s.pending.append(decision)
                s.lastFailure = Self.clientError(for: event)
            }
            startAttempt()
        case .maskedContinuityLoss:
            ctx.recorder.record(decision, .attempted, reason: reason, account: account, session: prepared.sessionPseudonym, attempt: attemptCount, span: serverSpan, trace: trace)
            ctx.recorder.record(decision, .gaveUp, reason: reason, account: account, session: prepared.sessionPseudonym, attempt: attemptCount, span: serverSpan, trace: trace)
            respondError(.streamIncomplete)
        case .transientFailure:
            respondError(.upstreamUnavailable)
        case .stripRetry, .transcriptReplay, .tokenRefresh, .deadAnchor, .affinityMiss:
            // Performed by the continuity layer (accounts/recovery issues); until then, a retryable 502.
            respondError(.upstreamUnavailable)
        case .passThrough:
            respondError(Self.clientError(for: event))
        }
    }

    var attemptCount: Int { state.withLock { $0.attempt } }

    /// A failure with no usable upstream answer: before the first byte it is recoverable; after it the
    /// stream ends with a terminal `response.failed` (never a bare `error`, which Codex ignores).
    func failBeforeOrAfterCommit(attempt: Int, event: UpstreamEvent) {
        let committed = state.withLock { $0.committed }
        if !committed {
            abandonAttemptAndRecover(attempt: attempt, event: event, decision: policyDecision(event))
            return
        }
        let reason = Self.reason(event)
        let transfer = state.withLock { s -> UpstreamTransfer? in
            s.liveAttempt = nil
            return s.transfer
        }
        transfer?.cancel()
        endAttempt(outcome: "stream_error", error: reason)
        let failed = SSEEncoder.event(
            type: "response.failed",
            json: Array(#"{"type":"response.failed","response":{"status":"failed","error":{"code":"stream_incomplete","message":"The upstream stream ended before the response completed; retry the request."}}}"#.utf8)
        )
        responder.write(failed)
        responder.end()
        settlePending(.gaveUp)
        finish(status: 200, error: "stream_incomplete")
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

    func completeSuccessfully() {
        let account = state.withLock { s -> Int? in
            s.liveAttempt = nil
            return s.account
        }
        endAttempt(outcome: "success", error: nil)
        if let key = prepared.continuityKey, let account {
            ctx.pool.recordSuccess(account, continuityKey: key.value, now: ctx.now())
        }
        if prepared.clientStreaming {
            responder.end()
            finish(status: 200, error: nil)
            return
        }
        let outcome = state.withLock { $0.aggregator.finish() }
        settlePending(.succeeded)
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
            finish(status: status, error: "response_failed")
        case .truncated:
            respondError(.streamIncomplete)
        }
    }

    func recordUsage(_ usage: ResponseEventSummary.Usage) {
        let first = state.withLock { s -> Bool in
            defer { s.usageRecorded = true }
            return !s.usageRecorded
        }
        guard first else { return }
        let input = max(0, usage.inputTokens ?? 0)
        let cached = max(0, usage.cachedInputTokens ?? 0)
        let output = max(0, usage.outputTokens ?? 0)
        ctx.metrics.tokens(kind: "input").increment(by: UInt64(input))
        ctx.metrics.tokens(kind: "cached_input").increment(by: UInt64(cached))
        ctx.metrics.tokens(kind: "output").increment(by: UInt64(output))
        ctx.metrics.tokens(kind: "reasoning").increment(by: UInt64(max(0, usage.reasoningOutputTokens ?? 0)))
        ctx.metrics.requestInputTokens.observe(Double(input))
        serverSpan.setAttribute("gen_ai.usage.input_tokens", .int(input))
        serverSpan.setAttribute("sightline.usage.cached_input_tokens", .int(cached))
        serverSpan.setAttribute("gen_ai.usage.output_tokens", .int(output))
    }

    /// Records the result of every decision still waiting for one.
    func settlePending(_ outcome: RecoveryRecorder.Outcome) {
        let (pending, account) = state.withLock { s -> ([Decision], String?) in
            defer { s.pending = [] }
            return (s.pending, s.accountLabel)
        }
        for d in pending {
            ctx.recorder.record(d, outcome, reason: "settled", account: account, session: prepared.sessionPseudonym, attempt: attemptCount, span: serverSpan, trace: trace)
        }
    }

    func respondError(_ error: ProxyErrorResponse) {
        settlePending(.gaveUp)
        error.send(responder)
        finish(status: error.status, error: error.code)
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
