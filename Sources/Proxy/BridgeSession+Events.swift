import Foundation
import HTTPServer
import LogRedaction
import WireFormats

extension BridgeSession {
    func upstream(serial: Int, _ event: WebSocketUpstreamLink.Event) {
        guard let link, link.serial == serial else { return }
        switch event {
        case .opened(let headers):
            ctx.pool.updateQuota(link.account, QuotaSignal.parse(headers: headers.map { ($0.0, $0.1) }))
        case .texts(let frames):
            if var r = request {
                // The first frame puts the idle limit in force, which may end sooner than the first-frame one.
                let first = r.lastFrameAt == nil
                r.lastFrameAt = ctx.monotonic()
                request = r
                if first { armSilenceTimer() }
            }
            // Room for the whole burst as SSE (`event: …` and `data: ` lines around each frame).
            if request != nil { outgoing.reserveCapacity(frames.reduce(0) { $0 + $1.count + 64 }) }
            for frame in frames { handleFrame(frame, link: link) }
            // One write per read: the events of a burst leave together (the terminal one already flushed).
            if let r = request {
                flushOutgoing(r)
                dropIfNotReading(r)
            } else {
                outgoing = []
            }
        case .closed, .failed:
            var status: Int?
            var refusal: UpstreamHandshakeRefusal?
            if case .failed(_, let s, let answer) = event {
                status = s
                refusal = answer
                // Every upgrade that failed, answered or not (`connect_error`), as `WebSocketSession` counts them;
                // until 2026-12-07 only answered ones were counted here.
                if !link.didEverOpen {
                    hub.metrics.upgradeFailures(side: "upstream", reason: WebSocketSession.upgradeFailureReason(s))
                        .increment()
                }
            }
            linkLost(link, status: status, refusal: refusal, reason: "websocket_closed")
        }
    }

    /// The request's socket closed, failed, or was dropped for silence (`reason`).
    func linkLost(_ link: WebSocketUpstreamLink, status: Int?, refusal: UpstreamHandshakeRefusal?, reason: String) {
        self.link = nil
        previous = nil
        guard var r = request else {
            hub.bridge.remove(key: poolKey, session: self)
            return
        }
        // As a WebSocket turn counts it (426 carried nothing: the HTTP path sends the request instead).
        endAttempt(&r, AttemptOutcome.socketLost(status: status, didEverOpen: link.didEverOpen))
        request = r
        if r.committed {
            failAfterCommit(r)
        } else if let refusal, [402, 403, 429].contains(refusal.status) {
            // A quota or access refusal of the upgrade: the account cools as the same answer over HTTP makes
            // it, and the HTTP path serves the request elsewhere (a 401 goes over untouched: it refreshes).
            let parsed = UpstreamErrorBody(bytes: refusal.body)
            let cls = UpstreamErrorClass.classify(code: parsed.code, type: parsed.type, status: refusal.status)
            WebSocketSession.applyAccountConsequences(
                ctx,
                link.account,
                status: refusal.status,
                error: cls,
                parsed: parsed,
                headers: refusal.headers
            )
            handOff(r, reason: "handshake_\(refusal.status)", decision: .pinReset, excluded: link.account)
        } else {
            handOff(r, reason: reason)
        }
    }

    private func handleFrame(_ frame: [UInt8], link: WebSocketUpstreamLink) {
        guard var r = request else { return }
        guard let top = try? JSONTopLevel.scan(frame), let summary = try? ResponseEventSummary(top: top) else { return }
        if summary.type == "codex.rate_limits" {
            // An HTTP answer reports quota in its headers, never as an event: the frame becomes those headers (once
            // the head went out, it only updates the account's quota) and is not relayed.
            r.limitHeaders = QuotaSignal.headers(rateLimits: top)
            ctx.pool.updateQuota(link.account, QuotaSignal.parse(headers: r.limitHeaders))
            request = r
            return
        }
        if summary.type == "response.metadata" {
            // The turn state (`x-codex-turn-state`) an HTTP upstream sends as a response header, which Codex echoes on
            // the turn's next request: the frame's `headers` become the answer's. Relayed as an SSE event (until
            // 2026-12-07) it came before `response.created`, which the SDK's `responses.stream()` refuses, and no
            // HTTP client saw the token. The backend sends it first, so the head has not gone out yet.
            for (name, value) in HeaderPolicy.relayedFrameHeaders(WebSocketSession.frameHeaders(top)) {
                r.metadataHeaders.append((name, value))
            }
            request = r
            return
        }
        if !r.firstEventSeen {
            r.firstEventSeen = true
            ctx.metrics.upstreamFirstEvent(transport: "websocket").observe(max(0, ctx.monotonic() - r.sentAt))
        }
        let type = summary.type ?? ""
        let upstreamError =
            type == "error" || type == "response.failed" ? UpstreamErrorEvent(top: top, summary: summary) : nil
        if let upstreamError, let coolingStatus = upstreamError.coolingStatus {
            // The account cools as the same answer over HTTP makes it, before the stream is committed or after:
            // a quota until the reset the error names (until 2026-12-07 every early `response.failed` cooled its
            // account 5 s as a server error, and a usage limit's reset was lost).
            WebSocketSession.applyAccountConsequences(
                ctx,
                link.account,
                status: coolingStatus,
                error: upstreamError.errorClass,
                parsed: upstreamError.body,
                headers: WebSocketSession.frameHeaders(top)
            )
        }
        // A bare error frame, or a response.failed before anything reached the client: both still recoverable.
        if let upstreamError, type == "error" || !r.committed {
            let decision = r.committed ? nil : decide(upstreamError, r, account: link.account)
            // A `response.failed` nothing recovers is the upstream's answer, relayed below as HTTP relays it; sent
            // again over HTTP (as until 2026-12-07), the model ran twice for the same failure.
            if !(upstreamError.isResponseFailed && decision == .passThrough) {
                endAttempt(
                    &r,
                    upstreamError.isResponseFailed
                        ? AttemptOutcome.failure(UpstreamErrorClass.of(summary.error))
                        : AttemptOutcome.errorFrame(status: upstreamError.status)
                )
                request = r
                guard let decision else { return relayAfterCommit(upstreamError, summary.error, r) }
                // Before the first byte: the plain HTTP path serves the full request, after the decision the
                // HTTP path would have taken on this error (excluding the account), so the fault is neither lost
                // nor retried blindly.
                return handOff(r, after: decision, upstreamError, account: link.account)
            }
        }
        if type == "response.output_item.done", let item = top.rawValue(forKey: "item") {
            r.items.append((summary.outputIndex ?? r.items.count, Array(item)))
        }
        if r.prepared.clientStreaming {
            if !r.committed, WebSocketSession.holdable.contains(type) {
                r.held.append(frame)
                request = r
                return
            }
            if !r.committed {
                r.committed = true
                var h = HTTPHeaders()
                h.set("content-type", "text/event-stream")
                h.set("cache-control", "no-cache")
                // The quota and turn state an HTTP answer reports in its headers, which a WebSocket upstream sends
                // as frames.
                Self.addFrameHeaders(r, to: &h)
                r.responder.beginStream(status: 200, headers: h)
                for held in r.held { write(held, r) }
                r.held = []
            }
            if r.committed { write(frame, r, type: summary.type) }
        } else {
            _ = try? r.aggregator.consume(eventData: frame[...])
        }
        request = r
        guard summary.isTerminal else { return }
        if let usage = summary.usage { recordUsage(usage, r) }
        if type == "response.completed", let id = summary.responseID, let input = r.input {
            previous = BridgeContinuation.Turn(
                fingerprint: r.fingerprint,
                input: input,
                output: r.items.sorted { $0.index < $1.index }.map(\.bytes),
                responseID: id
            )
            ctx.pool.recordSuccess(link.account, session: r.prepared.sessionPseudonym, now: ctx.now())
        }
        // An incomplete response is an anchor a client continues from, as over HTTP and WebSocket; only a
        // completed one is what the next request's history extends (`previous`).
        if type == "response.completed" || type == "response.incomplete", let id = summary.responseID {
            remember(id, r, link: link)
        }
        if type != "response.completed" || summary.responseID == nil { previous = nil }
        // The upstream's own `response.failed` after output went out: relayed above, counted and logged by its
        // class.
        let failure = type == "response.failed" ? UpstreamErrorClass.of(summary.error) : nil
        endAttempt(&r, AttemptOutcome.terminal(failure: failure))
        request = r
        if r.prepared.clientStreaming {
            flushOutgoing(r)
            // Finished (the session back in the pool) before the client can read the end: its next request, sent
            // the moment it does, finds the session idle instead of going over plain HTTP.
            let countedAs = failure.map { _ in ResponseFailureStatus.status(forCode: summary.error?.code) }
            finish(status: 200, error: failure?.rawValue, countedAs: countedAs)
            r.responder.end()
            return
        }
        switch r.aggregator.finish() {
        case .completed(let json), .incomplete(let json):
            var h = HTTPHeaders()
            h.add("content-type", "application/json")
            Self.addFrameHeaders(r, to: &h)
            finish(status: 200, error: nil)  // before the answer, as above
            r.responder.respond(status: 200, headers: h, body: json)
        case .failed(let status, let errorJSON):
            var h = HTTPHeaders()
            h.add("content-type", "application/json")
            r.responder.respond(status: status, headers: h, body: ResponseIDScrubber.scrub(errorJSON))
            finish(status: status, error: failure?.rawValue ?? "response_failed")
        case .truncated:
            ProxyErrorResponse.streamIncomplete.send(r.responder)
            finish(status: 502, error: "stream_incomplete")
        }
    }

    /// The headers the request's `codex.rate_limits` and `response.metadata` frames stand for, except any the
    /// proxy set itself (`content-type`, `cache-control`): a frame's `headers` object is the upstream's to fill.
    private static func addFrameHeaders(_ r: Request, to h: inout HTTPHeaders) {
        for (name, value) in r.limitHeaders + r.metadataHeaders where !["content-type", "cache-control"].contains(name)
        {
            h.add(name, value)
        }
    }

    /// Records a completed response as the HTTP path does: its affinity (with this upstream session) and
    /// its transcript, so a later request anchored on it can be replayed over either transport.
    private func remember(_ responseID: String, _ r: Request, link: WebSocketUpstreamLink) {
        let now = ctx.now()
        ctx.affinity.record(
            responseID: responseID,
            entry: AffinityMap.Entry(
                accountIndex: link.account,
                upstreamSessionID: link.sessionID,
                createdAt: Int64(now)
            ),
            owner: r.prepared.principalPseudonym
        )
        guard let input = r.prepared.inputItems else { return }
        let output = JSONEncoding.array(r.items.sorted { $0.index < $1.index }.map(\.bytes))
        _ = ctx.transcripts.store(
            responseID: responseID,
            input: input,
            output: output,
            metadata: TranscriptCache.Metadata(
                accountIndex: link.account,
                model: r.prepared.model,
                createdAt: Int64(now),
                owner: r.prepared.principalPseudonym
            )
        )
    }

    /// The recovery policy's decision on an error before the first byte, the bridge's request state put as the
    /// HTTP path would see it.
    /// Whatever the HTTP path could still recover (a refresh, a strip of sealed items) is not `.passThrough`
    /// here, so it is handed over, not relayed: the request state says what the HTTP path would know.
    private func decide(_ error: UpstreamErrorEvent, _ r: Request, account: Int) -> Decision {
        var rs = RecoveryPolicy.RequestState()
        rs.anchorIsImplicit = r.incremental
        rs.hasAnchor = false  // the client sent none; an implicit one is the bridge's to drop
        rs.maxAttempts = ctx.pool.maxAttempts
        rs.canRefresh = ctx.pool.credentials(account).canRefresh
        // The body the HTTP path would send: another account's sealed items in it are strippable there.
        if error.errorClass == .invalidEncryptedContent { rs.noteSealedItems(in: r.prepared.body) }
        return RecoveryPolicy().decide(rs, error.policyEvent)
    }

    private func handOff(_ r: Request, after decision: Decision, _ error: UpstreamErrorEvent, account: Int) {
        let reason = error.errorClass.rawValue
        switch decision {
        case .pinReset where error.status == 401:
            // A credential the HTTP path can refresh: hand over untouched, it refreshes and retries this account.
            handOff(r, reason: reason)
        case .pinReset, .failover:
            handOff(r, reason: reason, decision: decision, excluded: account)
        case .stripRetry:
            handOff(r, reason: reason, decision: .stripRetry, excluded: nil)
        default:
            handOff(r, reason: reason)
        }
    }

    /// Adds `frame` to the events waiting for `flushOutgoing`, as SSE. `type`: the frame's, when the caller
    /// already read it.
    private func write(_ frame: [UInt8], _ r: Request, type: String? = nil) {
        let type = type ?? (try? JSONTopLevel.scan(frame))?.string(forKey: "type") ?? "message"
        SSEEncoder.appendEvent(type: type, json: frame, to: &outgoing)
    }

    /// Sends the events `write` collected in one write to the client.
    private func flushOutgoing(_ r: Request) {
        guard !outgoing.isEmpty else { return }
        let bytes = outgoing
        outgoing = []
        _ = r.responder.write(bytes)
    }

    /// The upstream WebSocket cannot be paused as an HTTP transfer is, so a client that stops reading would hold
    /// the response's whole output in the proxy's memory. Past `limits.maxDownstreamBacklogBytes` queued for it, the
    /// connection is dropped and the request ends as a client that left (499), as `client_not_reading`.
    private func dropIfNotReading(_ r: Request) {
        guard r.responder.queuedBytes > ctx.configuration.maxDownstreamBacklogBytes else { return }
        ctx.metrics.protocolErrors(reason: "client_not_reading").increment()
        r.responder.abort()  // runs no `onClose`: the session's own end follows
        endForAbsentClient(error: "client_not_reading")
    }

    private func failAfterCommit(_ r: Request) {
        link?.retire(reason: "stream_incomplete")
        link = nil
        previous = nil
        write(FailedResponseEvent.streamIncomplete, r)
        flushOutgoing(r)
        r.responder.end()
        finish(status: 200, error: "stream_incomplete", countedAs: ProxyErrorResponse.streamIncomplete.status)
    }

    /// A bare `error` frame after the first byte, ended as the HTTP path ends the same event: a terminal
    /// `response.failed` with the upstream's code and message (Codex ignores a bare `error` over SSE and classifies a
    /// `response.failed` by its code), counted as the status the frame carries. Until 2026-12-08 it became
    /// `stream_incomplete`, which Codex retries: a fatal failure such as `context_length_exceeded` ran the model again.
    private func relayAfterCommit(_ error: UpstreamErrorEvent, _ info: ResponseEventSummary.ErrorInfo?, _ r: Request) {
        previous = nil
        outgoing += ResponsesExchange.failedEvent(for: info)
        flushOutgoing(r)
        finish(status: 200, error: error.errorClass.rawValue, countedAs: error.status)
        r.responder.end()
    }

    private func recordUsage(_ usage: ResponseEventSummary.Usage, _ r: Request) {
        UsageRecorder.record(usage, metrics: ctx.metrics, span: r.serverSpan)
    }

    /// Counts the outcome of the request's upstream send once, as the HTTP path counts its attempts; nil drops
    /// it uncounted.
    func endAttempt(_ r: inout Request, _ outcome: String?) {
        guard let account = r.attemptAccount else { return }
        r.attemptAccount = nil
        if let outcome { ctx.pool.accountMetrics[account].attempts(outcome: outcome).increment() }
    }

    /// Records the end of the bridged request exactly once and gives the session back to the pool. `countedAs`:
    /// as in `ResponsesExchange.finish`, the status a stream that failed after its 200 head counts with.
    func finish(status: Int, error: String?, countedAs: Int? = nil) {
        guard var r = request else { return }
        // What no event settled: the client left mid-request, or it ended otherwise.
        endAttempt(&r, AttemptOutcome.unsettled(status: status, error: error))
        if r.referenceOnlyStripped { recordReferenceOnly(error == nil ? .succeeded : .gaveUp, r) }
        request = nil
        link?.releaseSlotBetweenTurns()
        let duration = max(0, ctx.monotonic() - r.started)
        ctx.metrics.inFlightRequests.add(-1)
        ctx.metrics.requests(
            route: r.route.metricLabel,
            transport: "http",
            statusClass: ResponsesExchange.statusClass(countedAs ?? status)
        )
        .increment()
        ctx.metrics.requestDuration(route: r.route.metricLabel, transport: "http").observe(duration)
        var attributes = [
            LogAttribute("http.request.method", .string("POST")),
            LogAttribute("http.route", .string(r.route.metricLabel)),
            LogAttribute("http.response.status_code", .int(status)),
            LogAttribute("sightline.transport", .string("http")),
            LogAttribute("sightline.bridge", .bool(true)),
            LogAttribute("sightline.bridge.incremental", .bool(r.incremental)),
            LogAttribute("sightline.websocket.session_reused", .bool(r.reused)),
            LogAttribute("sightline.stream", .bool(r.prepared.clientStreaming)),
            // One send: a bridged request that fails before its first byte is handed to the HTTP path, which logs it.
            LogAttribute("sightline.recovery.attempts", .int(1)),
            LogAttribute("sightline.duration_seconds", .double(duration)),
        ]
        if let a = r.accountLabel { attributes.append(LogAttribute("sightline.account", .pseudonym(a))) }
        if let p = r.prepared.sessionPseudonym { attributes.append(LogAttribute("sightline.session", .pseudonym(p))) }
        // As the plain HTTP path logs them (`ResponsesExchange.finish`): without these, turning the bridge on hid a
        // principal's requests and their continuity key's source from the access log.
        if let p = r.prepared.principalPseudonym {
            attributes.append(LogAttribute("sightline.principal", .pseudonym(p)))
        }
        if let source = r.prepared.continuityKey?.source {
            attributes.append(LogAttribute("sightline.continuity_key.source", .string(source.rawValue)))
        }
        if let error { attributes.append(LogAttribute("error.type", .string(error))) }
        for a in attributes { r.serverSpan.setAttribute(a.key, a.value) }
        r.serverSpan.end(status: error == nil ? .ok : ((countedAs ?? status) >= 500 ? .error : .unset))
        ctx.logger.log(
            (countedAs ?? status) >= 500 ? .warn : .info,
            "request finished",
            event: "sightline.request",
            trace: r.trace,
            attributes
        )
        if status == 499 || error != nil {
            hub.bridge.remove(key: poolKey, session: self)
            // Out of the pool, nothing reaches this session again: its socket goes with it, or it pings on for an hour.
            link?.retire(reason: "request_failed")
            link = nil
            previous = nil
        }
        hub.bridge.checkin(key: poolKey, session: self, now: ctx.monotonic())
    }
}
