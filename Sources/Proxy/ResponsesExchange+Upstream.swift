import Foundation
import HTTPServer
import LogRedaction
import WireFormats

extension ResponsesExchange {
    /// Largest upstream error body kept for classification.
    static let maxErrorBody = 256 * 1024

    func didReceiveHead(attempt: Int, status: Int, headers: [(String, String)]) {
        let index = state.withLock { s -> Int? in
            guard s.liveAttempt == attempt else { return nil }
            s.upstreamHeaders = headers
            if status == 200 {
                let isSSE = headers.contains {
                    $0.0.foldedForHeaders == "content-type" && $0.1.isEventStreamMediaType
                }
                s.mode = route == .responses && isSSE ? .sse : .raw
            } else {
                // Every route's refusal is classified, as the responses route's are: relayed with its own status
                // (a compact or models 400 included), or recovered from (a 402/403 account, sealed content).
                // Relayed raw, such an answer went out as 200 and counted as a success.
                s.mode = .errorBody(status: status)
            }
            return s.account
        }
        if let index { ctx.pool.updateQuota(index, QuotaSignal.parse(headers: headers)) }
    }

    func didReceive(attempt: Int, _ bytes: UnsafeRawBufferPointer) -> UpstreamFlow {
        ctx.metrics.upstreamReceivedBytes.increment(by: UInt64(bytes.count))
        let mode = state.withLock { s -> Mode? in s.liveAttempt == attempt ? s.mode : nil }
        switch mode {
        case nil:
            return .proceed
        case .errorBody?:
            state.withLock { s in
                if s.errorBody.count < Self.maxErrorBody {
                    s.errorBody += bytes.prefix(Self.maxErrorBody - s.errorBody.count)
                }
            }
            return .proceed
        case .raw?:
            if responder.queuedBytes > ctx.configuration.writeHighWaterMark { return pause() }
            beginRawAnswerOnce()
            responder.write(contentsOf: bytes, flush: true)
            return .proceed
        case .awaitingHead?:
            return .proceed
        case .sse?:
            return didReceiveSSE(attempt: attempt, bytes)
        }
    }

    /// Sends the head of a 200 answer relayed as it comes (compact, models), once: the upstream's headers as the
    /// policy allows, JSON unless they name a type.
    private func beginRawAnswerOnce() {
        let begin = state.withLock { s -> Bool in
            defer { s.committed = true }
            return !s.committed
        }
        guard begin else { return }
        var headers = HeaderPolicy.relayedResponseHeaders(state.withLock { $0.upstreamHeaders })
        if !headers.contains("content-type") { headers.add("content-type", "application/json") }
        responder.beginStream(status: 200, headers: headers)
    }

    /// Must be returned before any of the chunk is consumed: libcurl delivers the same bytes again on resume.
    private func pause() -> UpstreamFlow {
        let transfer = state.withLock { $0.transfer }
        ctx.metrics.upstreamBackpressurePauses.increment()
        responder.onWritable { transfer?.resume() }
        return .pause
    }

    private func didReceiveSSE(attempt: Int, _ chunk: UnsafeRawBufferPointer) -> UpstreamFlow {
        // Checked before the framer sees a byte: a paused chunk comes again, and framing it twice would
        // duplicate its events.
        if state.withLock({ $0.committed }), responder.queuedBytes > ctx.configuration.writeHighWaterMark {
            return pause()
        }
        var bytes = chunk
        var events = 0
        // What framed events yield for the client is gathered and written in one go: one hand-off to the
        // event loop per upstream chunk, not per event.
        var out: [UInt8] = []
        func send(flush: Bool) {
            guard !out.isEmpty else { return }
            responder.write(out, flush: flush)
            out.removeAll(keepingCapacity: true)
        }
        defer {
            send(flush: true)
            ctx.metrics.upstreamSSEEvents.increment(by: UInt64(events))
        }
        // One event at a time through the framer, and whenever it is idle on a committed stream, the run of
        // whole text deltas that follows (most of a stream) straight from libcurl's buffer to the client's
        // output, with no array per event (see SSEDeltaRun). Events split across chunks are what the framer
        // completes; an unpaced stream arrives in large chunks that rarely end on an event boundary.
        while !bytes.isEmpty {
            let (committed, framerIdle) = state.withLock { s in (s.committed, s.framer.isIdle) }
            let forwardDeltas = committed && prepared.clientStreaming
            if forwardDeltas && framerIdle {
                let run = SSEDeltaRun.prefix(of: bytes)
                if run.bytes > 0 {
                    // Queued, not sent: the run's flushed write below takes both in one send.
                    send(flush: false)
                    responder.write(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[..<run.bytes]), flush: true)
                    events += run.events
                    bytes = UnsafeRawBufferPointer(rebasing: bytes[run.bytes...])
                    continue
                }
            }
            let next = state.withLock { s in try? s.framer.feedFirst(bytes) }
            guard let next else {
                // What this chunk completed goes first: after a commit, the failure ends the stream.
                send(flush: true)
                failBeforeOrAfterCommit(attempt: attempt, event: .transportFailure(reason: "protocol_error"))
                return .proceed
            }
            bytes = UnsafeRawBufferPointer(rebasing: bytes[next.consumed...])
            guard let block = next.block else { break }
            events += 1
            // Once the stream is committed, text deltas and part markers need nothing but forwarding.
            if forwardDeltas && (Self.isDelta(block) || SSEForwardOnly.contains(block)) {
                out += block
                continue
            }
            guard handleEvent(attempt: attempt, block, into: &out) else { return .proceed }
        }
        return .proceed
    }

    /// True for one whole text-delta block (`event: response.….delta` first line; see `SSEDeltaRun`), checked
    /// on bytes, no parsing.
    static func isDelta(_ block: [UInt8]) -> Bool {
        block.withUnsafeBytes { SSEDeltaRun.prefix(of: $0).bytes == block.count } && !block.isEmpty
    }

    /// Handles one complete SSE event block, appending what the client should get to `out`; false when
    /// the attempt was abandoned.
    private func handleEvent(attempt: Int, _ block: [UInt8], into out: inout [UInt8]) -> Bool {
        let data = SSEEvent.parse(block: block)?.data ?? []
        // Scanned once: the summary and a finished item's bytes both come from `top`.
        let top = data.isEmpty ? nil : try? JSONTopLevel.scan(object: data[...])
        guard let top, let summary = try? ResponseEventSummary(top: top) else {
            // Comments and keepalives: forwarded once the stream is committed, dropped before.
            if prepared.clientStreaming, state.withLock({ $0.committed }) { out += block }
            return true
        }
        let (first, committed, started) = state.withLock { s -> (Bool, Bool, Double) in
            defer { s.firstEventSeen = true }
            return (!s.firstEventSeen, s.committed, s.attemptStarted)
        }
        if first { ctx.metrics.upstreamFirstEvent(transport: "http").observe(max(0, ctx.monotonic() - started)) }
        let isError = summary.type == "error" || summary.type == "response.failed"
        if isError, let code = summary.error?.code, let status = ResponseFailureStatus.table[code] {
            // The account cools as the same error answered with its HTTP status makes it (a quota until its reset,
            // a server error briefly), before the stream is committed or after, as WebSocket error frames already
            // do. Codes without a status (a lost anchor) say nothing about the account. The reset is the event's own.
            let parsed = UpstreamErrorBody(event: top)
            applyAccountConsequences(
                status: status,
                error: UpstreamErrorClass.classify(code: code, type: summary.error?.type, status: status),
                resetsAt: parsed.resetsAt ?? parsed.resetsInSeconds.map { ctx.now() + $0 },
                headers: state.withLock { $0.upstreamHeaders }
            )
        }
        if !committed, isError {
            let cls = UpstreamErrorClass.classify(code: summary.error?.code, type: summary.error?.type, status: nil)
            let decision = policyDecision(.inStreamError(cls))
            if decision != .passThrough {
                abandonAttemptAndRecover(attempt: attempt, event: .inStreamError(cls), decision: decision)
                return false
            }
        }
        if prepared.clientStreaming {
            if !committed {
                if summary.type == "response.created" || summary.type == "response.in_progress" {
                    state.withLock { $0.held.append(block) }
                    return true
                }
                let (headers, held) = state.withLock { s -> ([(String, String)], [[UInt8]]) in
                    s.committed = true
                    defer { s.held = [] }
                    return (s.upstreamHeaders, s.held)
                }
                var h = HeaderPolicy.relayedResponseHeaders(headers)
                h.set("content-type", "text/event-stream")
                h.set("cache-control", "no-cache")
                responder.beginStream(status: 200, headers: h)
                // The upstream's own failure relayed as the stream's first event is the request's end, not a recovery:
                // its decisions settle with the request (`finish`, `gave_up`), as the same refusal with an HTTP status.
                if !isError { settlePending(.succeeded) }
                for b in held { out += b }
            }
            // Codex ignores a bare `error` event over SSE and waits for the end of the stream: the client gets
            // the terminal `response.failed` it acts on, with the upstream's code (docs/recovery.md).
            out += summary.type == "error" ? Self.failedEvent(for: summary.error) : block
        } else {
            state.withLock { s in _ = try? s.aggregator.consume(eventData: data) }
        }
        if summary.type == "response.output_item.done", let index = summary.outputIndex,
            let item = top.rawValue(forKey: "item")
        {
            state.withLock { $0.outputItems.append((index: index, item: Array(item))) }
        }
        if summary.isTerminal || summary.type == "error" {
            let failure = isError ? UpstreamErrorClass.of(summary.error) : nil
            state.withLock { s in
                s.terminalSeen = true
                s.terminalFailure = failure
                s.terminalFailureStatus = isError ? ResponseFailureStatus.status(forCode: summary.error?.code) : nil
                // An incomplete response (cut by `max_output_tokens`) is an answer a client continues from: an
                // anchor like a completed one (until 2026-12-07 it was not, so continuing it was a masked loss).
                if summary.type == "response.completed" || summary.type == "response.incomplete" {
                    s.responseID = summary.responseID
                }
            }
            if let usage = summary.usage { recordUsage(usage) }
        }
        return true
    }

    /// The terminal `response.failed` standing for a bare upstream `error` event: its code and message.
    static func failedEvent(for error: ResponseEventSummary.ErrorInfo?) -> [UInt8] {
        FailedResponseEvent.sse(
            FailedResponseEvent.json(
                code: error?.code ?? UpstreamErrorClass.serverError.rawValue,
                message: error?.message ?? "The upstream failed this response."
            )
        )
    }

    func didComplete(attempt: Int, _ result: Result<UpstreamCompletion, UpstreamFailure>) {
        let snapshot = state.withLock {
            s -> (
                current: Bool, mode: Mode, terminal: Bool, committed: Bool, body: [UInt8], headers: [(String, String)]
            ) in
            (s.liveAttempt == attempt, s.mode, s.terminalSeen, s.committed, s.errorBody, s.upstreamHeaders)
        }
        guard snapshot.current else { return }
        switch (result, snapshot.mode) {
        case (.failure(let failure), _) where failure.reason == .cancelled:
            endAttempt(outcome: "cancelled", error: "cancelled")
            finish(status: 499, error: "client_closed")
        case (.failure, .sse) where snapshot.terminal:
            // The terminal event arrived and the connection broke only after it (no end of the chunked body): the
            // answer is whole. Failing it would append a failure to a completed stream, or for `stream:false` run
            // the whole request again on another account.
            completeAtTerminal()
        case (.failure(let failure), _):
            failBeforeOrAfterCommit(attempt: attempt, event: .transportFailure(reason: failure.reason.description))
        case (.success, .errorBody(let status)):
            let parsed = UpstreamErrorBody(bytes: snapshot.body)
            let cls = UpstreamErrorClass.classify(code: parsed.code, type: parsed.type, status: status)
            applyAccountConsequences(
                status: status,
                error: cls,
                resetsAt: parsed.resetsAt ?? parsed.resetsInSeconds.map { ctx.now() + $0 },
                headers: snapshot.headers
            )
            let decision = policyDecision(.httpError(status: status, error: cls))
            if decision == .passThrough && status == 429 {
                // Out of attempts on quota errors: the pool's answer, with its earliest reset, not one account's.
                endAttempt(outcome: AttemptOutcome.status(status), error: cls.rawValue)
                state.withLock { $0.lastEvent = .httpError(status: status, error: cls) }
                respondExhausted(atCapacity: false, now: ctx.now())
            } else if decision == .passThrough && (401...403).contains(status) {
                // The proxy's own account was refused: the client's credentials are fine, so it must not
                // see a 401/403; out of attempts, it gets a retryable 502.
                endAttempt(outcome: AttemptOutcome.status(status), error: cls.rawValue)
                respondError(.upstreamUnavailable)
            } else if decision == .passThrough {
                endAttempt(outcome: AttemptOutcome.status(status), error: cls.rawValue)
                relayUpstreamError(status: status, body: snapshot.body, headers: snapshot.headers, error: cls)
            } else {
                abandonAttemptAndRecover(
                    attempt: attempt,
                    event: .httpError(status: status, error: cls),
                    decision: decision
                )
            }
        case (.success, .raw):
            endAttempt(outcome: "success", error: nil)
            settlePending(.succeeded)
            beginRawAnswerOnce()  // an empty body sent no head yet: without one, `end()` would leave the client waiting
            responder.end()
            finish(status: 200, error: nil)
        case (.success, .sse) where snapshot.terminal:
            completeAtTerminal()
        case (.success, _):
            failBeforeOrAfterCommit(attempt: attempt, event: .transportFailure(reason: "stream_incomplete"))
        }
    }
}
