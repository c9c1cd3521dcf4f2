import Foundation
import HTTPServer
import LogRedaction
import WireFormats

extension WebSocketSession {
    /// Ends the turn with a frame the proxy wrote (an error frame), nothing else having been sent.
    func answerLocally(_ frame: [UInt8], status: Int, error: String) {
        settlePending(.gaveUp)
        sendDownstream(frame)
        endTurn(status: status, error: error)
    }

    /// Counts the outcome of the turn's current upstream send in `sightline_upstream_attempts_total`, once, as
    /// the HTTP path counts its attempts; nil drops it uncounted (an upgrade refused with 426 carried nothing).
    func endAttempt(_ outcome: String?) {
        guard let account = turn?.attemptAccount else { return }
        turn?.attemptAccount = nil
        if let outcome { ctx.pool.accountMetrics[account].attempts(outcome: outcome).increment() }
    }

    /// Records the end of the current turn exactly once (request counter and duration, span, the
    /// "request finished" record) and starts the next queued frame.
    func endTurn(status: Int, error: String?) {
        // What no event or error frame settled: the client left mid-turn, or the turn ended otherwise.
        endAttempt(AttemptOutcome.unsettled(status: status, error: error))
        guard let t = turn else { return }
        settlePending(error == nil ? .succeeded : .gaveUp)
        turn = nil
        turnsServed += 1
        link?.releaseSlotBetweenTurns()
        let duration = max(0, ctx.monotonic() - t.started)
        ctx.metrics.inFlightRequests.add(-1)
        ctx.metrics.requests(
            route: route.metricLabel,
            transport: "websocket",
            statusClass: ResponsesExchange.statusClass(status)
        )
        .increment()
        // As over HTTP, only a turn sent upstream is timed (not an invalid frame, a foreign or lost anchor, an exhausted
        // pool).
        if t.attempts > 0 {
            ctx.metrics.requestDuration(route: route.metricLabel, transport: "websocket").observe(duration)
        }
        var attributes = [
            LogAttribute("http.route", .string(route.metricLabel)),
            LogAttribute("http.response.status_code", .int(status)),
            LogAttribute("sightline.transport", .string("websocket")),
            LogAttribute("sightline.websocket.session", .string(id)),
            LogAttribute("sightline.websocket.session_reused", .bool(t.reusedSession)),
            LogAttribute("sightline.websocket.prewarm", .bool(!t.generate)),
            LogAttribute("sightline.websocket.anchor_sent", .bool(t.sentAnchor != nil)),
            LogAttribute("sightline.recovery.attempts", .int(t.attempts)),
            LogAttribute("sightline.duration_seconds", .double(duration)),
        ]
        if let a = t.accountLabel { attributes.append(LogAttribute("sightline.account", .pseudonym(a))) }
        if let p = t.sessionPseudonym { attributes.append(LogAttribute("sightline.session", .pseudonym(p))) }
        if let p = principalPseudonym { attributes.append(LogAttribute("sightline.principal", .pseudonym(p))) }
        if let source = t.continuityKey?.source {
            attributes.append(LogAttribute("sightline.continuity_key.source", .string(source.rawValue)))
        }
        if let error { attributes.append(LogAttribute("error.type", .string(error))) }
        for a in attributes { t.span.setAttribute(a.key, a.value) }
        t.span.end(status: error == nil ? .ok : (status >= 500 ? .error : .unset))
        ctx.logger.log(
            status >= 500 ? .warn : .info,
            "request finished",
            event: "sightline.request",
            trace: t.span.context,
            attributes
        )
        // The next waiting frame starts in a block of its own: started here, a frame answered without going
        // upstream (invalid, a foreign or lost anchor) ended its turn inside this call and started the next, one
        // stack frame deeper per frame, and some 800 queued frames overflowed the stack (SIGSEGV, every session and
        // request of the process with it).
        queue.async { [self] in pump() }
    }

    func record(_ decision: Decision, _ outcome: RecoveryRecorder.Outcome, reason: String) {
        guard let t = turn else { return }
        ctx.recorder.record(
            decision,
            outcome,
            reason: reason,
            account: t.accountLabel,
            session: t.sessionPseudonym,
            attempt: t.attempts,
            span: t.span,
            trace: t.span.context
        )
    }

    /// Records the result of every decision still waiting for one.
    func settlePending(_ outcome: RecoveryRecorder.Outcome) {
        guard let pending = turn?.pending, !pending.isEmpty else { return }
        turn?.pending = []
        for d in pending { record(d, outcome, reason: "settled") }
    }

    func recordUsage(_ usage: ResponseEventSummary.Usage) {
        guard let t = turn else { return }
        UsageRecorder.record(usage, metrics: ctx.metrics, span: t.span)
    }

    /// Cools the account for quota and credential classes, as the HTTP path does (never for 401 alone,
    /// which a refresh can fix, nor for client errors or silence).
    func applyAccountConsequences(
        _ index: Int,
        status: Int,
        error: UpstreamErrorClass,
        parsed: UpstreamErrorBody?,
        headers: [(String, String)]
    ) {
        Self.applyAccountConsequences(ctx, index, status: status, error: error, parsed: parsed, headers: headers)
    }

    /// The same, for the HTTP bridge. `headers` are the answer's: an error frame's `headers` object
    /// (`frameHeaders`), or a refused upgrade's own.
    static func applyAccountConsequences(
        _ ctx: ProxyContext,
        _ index: Int,
        status: Int,
        error: UpstreamErrorClass,
        parsed: UpstreamErrorBody?,
        headers: [(String, String)]
    ) {
        let now = ctx.now()
        ctx.pool.applyConsequences(
            index,
            status: status,
            error: error,
            resetsAt: parsed?.resetsAt ?? parsed?.resetsInSeconds.map { now + $0 },
            quota: QuotaSignal.parse(headers: headers),
            retryAfter: RetryAfter.seconds(headers: headers, now: now),
            now: now
        )
    }

    /// The rate-limit headers an upstream error frame carries in its `headers` object.
    static func frameHeaders(_ frame: JSONTopLevel) -> [(String, String)] {
        guard let object = try? frame.object(forKey: "headers") else { return [] }
        return object.fields.compactMap { field in object.string(forKey: field.key).map { (field.key, $0) } }
    }
}
