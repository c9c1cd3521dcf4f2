import Foundation
import HTTPServer
import LogRedaction
import WireFormats

extension WebSocketSession {
    /// Parses one client frame and decides how it reaches the upstream (on the queue).
    func beginTurn(_ frame: [UInt8]) {
        let now = ctx.now()
        let started = ctx.monotonic()
        let span = ctx.logger.startSpan(.server, "WS response.create", parent: parent)
        // Every turn, a refused frame's included, is in flight until `endTurn` takes it out: counted here, once,
        // so the load-shedding gauge cannot be pushed below zero by frames answered locally.
        ctx.metrics.inFlightRequests.add(1)
        guard let top = try? JSONTopLevel.scan(frame, countingReasoningWithoutContent: true),
            top.string(forKey: "type") == "response.create"
        else {
            turn = WebSocketTurn(
                clientFrame: frame,
                anchor: nil,
                model: nil,
                generate: true,
                newItems: [],
                fullInput: nil,
                continuityKey: nil,
                sessionPseudonym: nil,
                started: started,
                span: span
            )
            answerLocally(
                WebSocketErrorFrame.from(WebSocketErrorFrame.invalidFrame),
                status: 400,
                error: "invalid_websocket_message"
            )
            return
        }
        let anchor = top.string(forKey: "previous_response_id")
        let model = top.string(forKey: "model")
        // A string `input` is one user message, as over HTTP: until 2026-12-07 it read as no items, so its
        // transcript and any replay of it lost the user's words.
        let newItems = RequestPreparer.inputItems(top) ?? Array("[]".utf8)
        let key = ContinuityKey.resolve(
            bodyPromptCacheKey: top.string(forKey: "prompt_cache_key"),
            headers: upgradeHeaders,
            principal: principal,
            model: model,
            pseudonym: { self.ctx.pseudonymizer.pseudonym(.sess, $0) }
        )
        // Another principal's anchor does not exist for this one: nothing about it is looked up or replayed.
        let foreignOwner = anchor.flatMap {
            ctx.foreignOwner(of: $0, requester: principalPseudonym, now: Int64(now))
        }
        var fullInput: [UInt8]? = newItems
        if let anchor, foreignOwner == nil {
            fullInput = hub.transcripts.fullInput(previousResponseID: anchor, newItems: newItems)
        }
        turn = WebSocketTurn(
            clientFrame: frame,
            anchor: anchor,
            model: model,
            generate: top.bool(forKey: "generate") ?? true,
            newItems: newItems,
            fullInput: fullInput,
            continuityKey: key,
            sessionPseudonym: key.map { ctx.pseudonymizer.pseudonym(.sess, $0.value) },
            started: started,
            span: span
        )
        turn?.holdsReasoningWithoutContent = (top.reasoningWithoutContent ?? 0) > 0
        if let foreignOwner {
            ctx.recordForeignAnchor(
                transport: "websocket",
                requester: principalPseudonym,
                owner: foreignOwner,
                span: span,
                trace: span.context
            )
            answerLocally(
                WebSocketErrorFrame.from(.previousResponseNotFound),
                status: 400,
                error: "previous_response_not_found"
            )
            return
        }
        retireIfOld()
        // The session's socket is on an account that has since left rotation (a quota or credential answer on a
        // turn's last attempt): the turn goes where an HTTP request would, never into the same limit again.
        var reason = "socket_gone"
        if let link, !ctx.pool.isInRotation(link.account, now: now) {
            dropLink(reason: "owner_cooling")
            reason = "owner_cooling"
        }
        if let anchor {
            // Counts the lookup (hit / miss / expired); the decision itself is the planner's.
            if case .hit(let entry) = hub.affinity.lookup(responseID: anchor, now: Int64(now)),
                entry.accountIndex < ctx.pool.accounts.count
            {
                turn?.preferredAccount = entry.accountIndex  // a replay stays on the anchor's account (warm cache)
            }
        }
        let plan = WebSocketTurnPlanner().plan(anchor: anchor, liveAnchor: liveAnchor, hasTranscript: fullInput != nil)
        perform(plan, reason: reason)
    }

    /// Carries out a plan for the current turn.
    func perform(_ plan: WebSocketTurnPlanner.Plan, reason: String) {
        guard var t = turn else { return }
        switch plan {
        case .forward:
            send(frame: rewritten(t, replay: false), anchor: t.anchor)
        case .replay:
            if !t.replayed {
                t.replayed = true
                t.pending.append(.transcriptReplay)
                turn = t
                record(.transcriptReplay, .attempted, reason: reason)
            }
            send(frame: rewritten(t, replay: true), anchor: nil)
        case .continuityLoss:
            if let anchor = t.anchor { hub.affinity.markDead(responseID: anchor, now: Int64(ctx.now())) }
            record(.maskedContinuityLoss, .attempted, reason: reason)
            record(.maskedContinuityLoss, .gaveUp, reason: reason)
            answerLocally(
                WebSocketErrorFrame.previousResponseNotFound,
                status: 400,
                error: "previous_response_not_found"
            )
        }
    }

    /// The frame to send: the client's, with `prompt_cache_key` filled in when absent (as over HTTP) and,
    /// for a replay, the full input instead of the anchor.
    func rewritten(_ t: WebSocketTurn, replay: Bool) -> [UInt8] {
        guard let top = try? JSONTopLevel.scan(t.clientFrame) else { return t.clientFrame }
        var set: [(key: String, rawJSON: [UInt8])] = []
        var remove: [String] = []
        if let key = t.continuityKey, !top.hasKey("prompt_cache_key") {
            set.append((key: "prompt_cache_key", rawJSON: JSONEncoding.string(key.value)))
        }
        if replay, let full = t.fullInput {
            set.append((key: "input", rawJSON: full))
            remove.append("previous_response_id")
        }
        return set.isEmpty && remove.isEmpty ? t.clientFrame : top.rewriting(set: set, remove: remove)
    }

    /// Sends the turn's frame on the session's upstream, opening one (on a newly selected account) first
    /// when none is open.
    func send(frame: [UInt8], anchor: String?) {
        guard var t = turn else { return }
        let reused = link != nil
        if link == nil {
            guard openLink(for: &t) else { return }
        }
        guard let link else { return }
        var frame = frame
        var leftOut = false
        // A prewarm on an HTTP-only account is answered locally (`answerPrewarmLocally`): nothing goes upstream.
        if ctx.pool.accounts[link.account].kind == .chatgpt, t.generate || !link.viaHTTP,
            t.holdsReasoningWithoutContent,
            let stripped = EncryptedReasoning.withoutReferenceOnly(body: frame)
        {
            // As over HTTP: a ChatGPT account stores nothing to look reasoning without content up in, on a socket too.
            // Even beside a live anchor such an item only repeats what the anchor already carries.
            frame = stripped
            leftOut = !t.referenceOnlyStripped
            if leftOut {
                t.referenceOnlyStripped = true
                t.pending.append(.reasoningStrip)
            }
        }
        link.holdSlotForTurn()
        t.attempts += 1
        t.sentAnchor = anchor
        t.sentAt = ctx.monotonic()
        t.linkSerial = link.serial
        t.reusedSession = reused
        t.accountLabel = ctx.pool.pseudonyms[link.account]
        t.firstEventSeen = false
        t.lastFrameAt = nil
        t.held = []
        t.items = []
        turn = t
        if leftOut { record(.reasoningStrip, .attempted, reason: "reference_only") }
        if link.viaHTTP, !t.generate {
            answerPrewarmLocally(link: link)
            return
        }
        turn?.attemptAccount = link.account
        if link.viaHTTP {
            metrics.httpFallbacks.increment()
        } else {
            metrics.upstreamTurns(session: reused ? "reused" : "new", client: "websocket").increment()
        }
        link.send(frame)
        armSilenceTimer()
    }

    /// Watches the attempt just sent for silence, as libcurl's timeouts watch an HTTP one: no frame within
    /// `upstream.firstByteTimeoutSeconds` of the send, or none within `upstream.idleTimeoutSeconds` of the last.
    /// Keyed by the turn's start and attempt, so a timer outlives neither.
    func armSilenceTimer() {
        guard let t = turn else { return }
        let (started, attempt) = (t.started, t.attempts)
        let deadline = silenceDeadline(t)
        guard deadline.isFinite else { return }  // that limit is off (0), as libcurl reads it over HTTP
        let remaining = deadline - ctx.monotonic()
        queue.asyncAfter(deadline: .now() + max(0.005, remaining)) { [weak self] in
            guard let self, let t = turn, t.started == started, t.attempts == attempt else { return }
            guard ctx.monotonic() >= silenceDeadline(t) else { return armSilenceTimer() }
            guard let link, link.serial == t.linkSerial else { return }
            // A silent socket is dropped, its anchor with it, and the turn goes on as after any lost connection:
            // another account before output, `stream_incomplete` after. Silence cools no account.
            connectionLost(
                link: link,
                reason: UpstreamSilence.reason(lastFrameAt: t.lastFrameAt),
                status: nil,
                detail: nil
            )
        }
    }

    private func silenceDeadline(_ t: WebSocketTurn) -> Double {
        UpstreamSilence.deadline(
            sentAt: t.sentAt,
            lastFrameAt: t.lastFrameAt,
            firstByteSeconds: ctx.configuration.upstreamFirstByteTimeoutSeconds,
            idleSeconds: ctx.configuration.upstreamIdleTimeoutSeconds
        )
    }

    /// A prewarm (`generate:false`) on an HTTP-only account: HTTP has no prewarm, so the proxy answers
    /// `response.created` + `response.completed` with empty output itself, under an id of its own whose
    /// (empty) transcript makes the next turn replayable.
    func answerPrewarmLocally(link: WebSocketUpstreamLink) {
        let id = "resp_sightline_prewarm_\(link.serial)_\(turnsServed)"
        let response =
            #"{"id":"\#(id)","object":"response","status":"completed","output":[],"#
            + #""usage":{"input_tokens":0,"output_tokens":0,"total_tokens":0}}"#
        commit()
        sendDownstream(
            Array(#"{"type":"response.created","response":{"id":"\#(id)","status":"in_progress","output":[]}}"#.utf8)
        )
        sendDownstream(Array(#"{"type":"response.completed","response":\#(response)}"#.utf8))
        remember(id, link: link)
        endTurn(status: 200, error: nil)
    }

    /// Selects an account and starts an upstream WebSocket on it; answers the client and ends the turn
    /// when no account is available.
    func openLink(for t: inout WebSocketTurn) -> Bool {
        let now = ctx.now()
        let selection = ctx.pool.acquire(
            session: t.sessionPseudonym,
            preferred: t.preferredAccount,
            excluded: t.excluded,
            now: now
        )
        guard case .account(let index, _) = selection else {
            turn = t
            if case .exhausted(_, let atCapacity) = selection, atCapacity {
                answerLocally(WebSocketErrorFrame.from(.atCapacity), status: 503, error: "proxy_at_capacity")
            } else {
                ctx.metrics.poolExhausted.increment()
                let error = ProxyErrorResponse.usageLimitReached(
                    resetsAt: ctx.pool.earliestAvailability(now: now),
                    now: now
                )
                answerLocally(WebSocketErrorFrame.from(error), status: 429, error: "usage_limit_reached")
            }
            return false
        }
        let account = ctx.pool.accounts[index]
        let (serial, linkID) = hub.makeLinkID()
        let credentials = ctx.pool.credentials(index)
        let newLink = WebSocketUpstreamLink(
            serial: serial,
            sessionID: linkID,
            account: index,
            generation: credentials.generation,
            pool: ctx.pool,
            metrics: metrics,
            receivedBytes: ctx.metrics.upstreamReceivedBytes,
            sentBytes: ctx.metrics.upstreamSentBytes,
            monotonic: ctx.monotonic,
            onEvent: { [weak self] serial, event in self?.upstreamEvent(serial: serial, event) }
        )
        var headers = HTTPHeaders()
        for (name, value) in HeaderPolicy.forwardedRequestHeaders(upgradeHeaders) { headers.add(name, value) }
        if let authorization = credentials.authorization { headers.set("authorization", authorization) }
        if account.kind == .chatgpt, let id = credentials.accountID { headers.set("chatgpt-account-id", id) }
        if !(headers["openai-beta"] ?? "").contains("responses_websockets") {
            headers.set("openai-beta", "responses_websockets=2026-02-06")
        }
        if headers["originator"] == nil { headers.set("originator", "codex_cli_rs") }
        if let key = t.continuityKey, headers["session-id"] == nil { headers.set("session-id", key.value) }
        headers.set("traceparent", t.span.context.traceparent)
        link = newLink
        liveAnchor = nil
        guard let url = URL(string: account.baseURL + (route.upstreamSuffix ?? "/responses")) else {
            newLink.retire()
            link = nil
            answerLocally(WebSocketErrorFrame.from(.upstreamUnavailable), status: 502, error: "invalid_upstream_url")
            return false
        }
        if httpOnlyAccounts.contains(index) {
            var httpHeaders = headers.map { ($0.0, $0.1) }.filter { $0.0 != "openai-beta" }
            httpHeaders.append(("content-type", "application/json"))
            httpHeaders.append(("accept", "text/event-stream"))
            newLink.startHTTP(client: ctx.upstream, url: url.absoluteString, headers: httpHeaders)
            return true
        }
        newLink.start(
            url: url,
            headers: headers,
            pingIntervalSeconds: hub.pingIntervalSeconds,
            connectTimeoutSeconds: ctx.configuration.upstreamConnectTimeoutSeconds,
            clientConfiguration: ctx.upstream.configuration
        )
        return true
    }

    /// Replaces an upstream session older than the recycle age between turns (its anchors die with it).
    func retireIfOld() {
        guard let link, ctx.monotonic() - link.createdAt >= hub.recycleSeconds else { return }
        dropLink(reason: "recycled")
    }

    /// Forgets the current upstream session: its last anchor is tombstoned, its account slot released.
    func dropLink(reason: String) {
        guard let old = link else { return }
        if let anchor = liveAnchor { hub.affinity.markDead(responseID: anchor, now: Int64(ctx.now())) }
        link = nil
        liveAnchor = nil
        old.retire(reason: reason)
        logSession(
            "websocket session closed",
            side: "upstream",
            code: nil,
            reason: reason,
            account: ctx.pool.pseudonyms[old.account]
        )
    }
}
