import Foundation
import HTTPServer
import LogRedaction
import WireFormats

extension ResponsesExchange {
    /// Selects an account and sends one upstream attempt. Runs on the loop thread (and for retries after a
    /// token refresh, on the upstream thread; with `upstream.onEventLoops` off, every retry does); never
    /// under the state lock.
    func startAttempt() {
        let now = ctx.now()
        let (excluded, clientGone, owner) = state.withLock { s in (s.excluded, s.clientClosed, s.preferredAccount) }
        let selection = ctx.pool.acquire(
            session: prepared.sessionPseudonym,
            preferred: owner,
            excluded: excluded,
            now: now
        )
        if clientGone {
            if case .account(let index, _) = selection { ctx.pool.release(index) }
            finish(status: 499, error: "client_closed")
            return
        }
        guard case .account(let index, _) = selection else {
            if case .exhausted(_, let atCapacity) = selection {
                respondExhausted(atCapacity: atCapacity, now: now)
            }
            return
        }
        planAnchor(account: index)
        let account = ctx.pool.accounts[index]
        let credentials = ctx.pool.credentials(index)
        let timing = state.withLock { s -> TokenRefreshSchedule.Timing in
            guard !s.refreshedAccounts.contains(index), account.kind == .chatgpt, credentials.canRefresh,
                let entry = ctx.store.entry(named: account.name)
            else { return .notDue }
            let timing = TokenRefreshSchedule.timing(
                expiresAt: entry.expiresAt,
                lastRefresh: entry.lastRefresh,
                now: Int64(now)
            )
            // At most one refresh per request that waits for it, proactive or reactive. A background one does not
            // count: a 401 on this request joins it (single-flight) or finds it done.
            if timing == .beforeSending { s.refreshedAccounts.insert(index) }
            return timing
        }
        switch timing {
        case .notDue:
            send(account: index, now: now)
            return
        case .inBackground:
            // The token still works: the request goes now, and the refresh runs beside it (single-flight per
            // account, so the requests that follow join it or find it done; backing off after a failure). Waiting
            // held every request to the account, its slot taken, for as long as the token endpoint took. Sent
            // first: an upstream that retires the old access token at rotation has then most likely seen it (if
            // not, its 401 finds the new token through the compare-and-set).
            send(account: index, now: now)
            let pool = ctx.pool
            ctx.refresher.refresh(account: account.name, ifGeneration: credentials.generation) { result in
                if case .failure(let error) = result, error.kind == .terminal {
                    pool.markReauthRequired(index, reason: error.reason)
                }
            }
            return
        case .beforeSending:
            break
        }
        // The token has expired: refresh first (single-flight per account), then send with the new one.
        ctx.refresher.refresh(account: account.name, ifGeneration: credentials.generation) { [self] result in
            guard case .failure(let error) = result, error.kind == .terminal else {
                send(account: index, now: ctx.now())
                return
            }
            // The login is dead: its expired token could only earn a 401 and spend an attempt of this request.
            // Like a refresh after a 401 that fails for good, a pin reset to another account; with none left, the
            // answer is the one that 401 would have led to (502), not a usage limit.
            ctx.pool.markReauthRequired(index, reason: error.reason)
            ctx.pool.release(index)
            state.withLock { s in
                s.accountLabel = ctx.pool.pseudonyms[index]  // the decision names the account it leaves
                s.lastEvent = .httpError(status: 401, error: .tokenExpired)
            }
            resetPin(leaving: index, reason: error.reason)
            continueAfterLeavingTheConversationsAccount()
        }
    }

    /// Marks one kind of `reasoning_strip` as taken for this request: true the first time, when the decision is
    /// pending and to be recorded; false on every later attempt that strips the same, so a request is one decision.
    private func firstStrip(_ taken: WritableKeyPath<State, Bool>) -> Bool {
        state.withLock { s in
            guard !s[keyPath: taken] else { return false }
            s[keyPath: taken] = true
            s.pending.append(.reasoningStrip)
            return true
        }
    }

    /// Over HTTP an anchor only resolves where its upstream connection still lives, which a ChatGPT
    /// backend never offers over HTTP, and another account never can: when the transcript holds the
    /// anchor, the request is replayed with its full input instead of forwarding the anchor.
    private func planAnchor(account index: Int) {
        let (anchorInBody, owner, retried) = state.withLock {
            ($0.anchorInBody, $0.preferredAccount, $0.continuityRetried)
        }
        guard anchorInBody, !retried, let anchor = prepared.anchor,
            ctx.pool.accounts[index].kind == .chatgpt || owner != index,
            let replay = replayBody(anchor: anchor)
        else { return }
        state.withLock { s in
            s.body = replay.body
            s.fullInput = replay.input
            s.anchorInBody = false
            s.continuityRetried = true
            s.pending.append(.transcriptReplay)
        }
        recordNow(.transcriptReplay, .attempted, reason: "anchor_unresolvable")
    }

    /// Sends one attempt on `index` with its current credentials and the current body.
    private func send(account index: Int, now: Double) {
        let account = ctx.pool.accounts[index]
        let pseudonym = ctx.pool.pseudonyms[index]
        let credentials = ctx.pool.credentials(index)
        let (attemptNumber, preparedBody) = state.withLock { s -> (Int, [UInt8]) in
            s.attempt += 1
            s.liveAttempt = s.attempt
            s.account = index
            s.accountLabel = pseudonym
            s.generation = credentials.generation
            s.mode = .awaitingHead
            s.upstreamHeaders = []
            s.framer = SSEFramer()
            s.aggregator = ResponseAggregator()
            s.errorBody = []
            s.held = []
            s.firstEventSeen = false
            s.terminalSeen = false
            s.outputItems = []
            s.responseID = nil
            s.attemptStarted = ctx.monotonic()
            return (s.attempt, s.body)
        }
        let clientSpan = ctx.logger.startSpan(
            .client,
            "POST \(route.upstreamSuffix ?? "")",
            parent: serverSpan.context,
            [
                LogAttribute("sightline.account", .pseudonym(pseudonym)),
                LogAttribute("http.request.resend_count", .int(attemptNumber)),
            ]
        )
        var body = preparedBody
        if let session = prepared.sessionPseudonym,
            let readable = ctx.sealed.readable(session: session, account: index),
            let stripped = EncryptedReasoning.stripped(body: body, keepingReadable: readable)
        {
            // This account refused another account's sealed reasoning in this conversation before: it gets only
            // the reasoning it produced itself, and no refusal to recover from.
            body = stripped
            if firstStrip(\.sealedStripped) { recordNow(.reasoningStrip, .attempted, reason: "sealed_elsewhere") }
        }
        if route != .models, account.kind == .chatgpt, prepared.holdsReasoningWithoutContent,
            let stripped = EncryptedReasoning.withoutReferenceOnly(body: body)
        {
            // Reasoning without content is only an id, which the upstream can look up only among the items of a stored
            // response, and a ChatGPT account stores none (`store:false`): sent, the request is a 404 the client cannot
            // get past, since it resends the same history. Left out here, per attempt, so an API-key attempt of the
            // same request still sends the client's input as it came.
            body = stripped
            if firstStrip(\.referenceOnlyStripped) {
                recordNow(.reasoningStrip, .attempted, reason: "reference_only")
            }
        }
        if route == .responses, account.kind == .chatgpt, !ctx.pool.isChatGPTOnly,
            let top = try? JSONTopLevel.scan(body), top.bool(forKey: "store") != false
        {
            // A pool of ChatGPT accounts only has `store:false` set once for all (`RequestPreparer`); in a mixed
            // pool it is set per attempt, on the ChatGPT account's, which refuses `store:true` (until 2026-12-07
            // such a request failed with a 400 whenever the selection picked a ChatGPT account).
            body = top.rewriting(set: [(key: "store", rawJSON: Array("false".utf8))])
        }
        if prepared.continuityKey == nil, route == .responses, let top = try? JSONTopLevel.scan(body) {
            // Last step of the continuity-key precedence: nothing identifies the conversation, so the
            // account's pseudonym keys its prompt cache (never a raw id).
            body = top.rewriting(set: [(key: "prompt_cache_key", rawJSON: JSONEncoding.string(pseudonym))])
        }
        // The proxy sets these two, so the client's own go: both went upstream twice, a repeated singleton field
        // (RFC 9110) an edge may join into `application/json, application/json` and refuse.
        var headers = prepared.forwardedHeaders.filter {
            $0.0 != "content-type" && !(route == .responses && $0.0 == "accept")
        }
        headers.append(("content-type", "application/json"))
        if route == .responses { headers.append(("accept", "text/event-stream")) }
        if let authorization = credentials.authorization { headers.append(("authorization", authorization)) }
        if account.kind == .chatgpt, let id = credentials.accountID { headers.append(("chatgpt-account-id", id)) }
        if !headers.contains(where: { $0.0 == "originator" }) { headers.append(("originator", "codex_cli_rs")) }
        if let key = prepared.continuityKey, !headers.contains(where: { $0.0 == "session-id" }) {
            headers.append(("session-id", key.value))
        }
        headers.append(("traceparent", clientSpan.context.traceparent))
        var url = account.baseURL + (route.upstreamSuffix ?? "")
        if let q = requestQuery { url += "?" + q }
        let request = UpstreamRequest(
            url: url,
            method: route == .models ? "GET" : "POST",
            headers: headers,
            body: route == .models ? [] : body
        )
        ctx.metrics.upstreamSentBytes.increment(by: UInt64(request.body.count))
        let transfer = ctx.upstream.start(
            request,
            on: ctx.configuration.upstreamOnEventLoops ? responder.eventLoop : nil,
            delegate: AttemptDelegate(exchange: self, attempt: attemptNumber)
        )
        let cancelNow = state.withLock { s -> Bool in
            s.transfer = transfer
            s.attemptSpan = clientSpan
            return s.clientClosed
        }
        if cancelNow { transfer.cancel() }
    }

    /// No account can take the request. A pool that is out of quota answers 429 `usage_limit_reached`
    /// with the earliest reset (what Codex shows as "try again at …"); local concurrency caps answer a
    /// retryable 503; when this request's own attempts failed for other reasons, their error stands.
    func respondExhausted(atCapacity: Bool, now: Double) {
        let lastEvent = state.withLock { $0.lastEvent }
        if atCapacity {
            respondError(.atCapacity)
            return
        }
        switch lastEvent {
        case nil, .httpError(429, _)?, .inStreamError(.usageLimitReached)?, .inStreamError(.rateLimitExceeded)?:
            ctx.metrics.poolExhausted.increment()
            respondError(.usageLimitReached(resetsAt: ctx.pool.earliestAvailability(now: now), now: now))
        case let event?:
            respondError(Self.clientError(for: event))
        }
    }

    /// Ends the current attempt's bookkeeping: account slot, attempt metric, client span.
    func endAttempt(outcome: String, error: String?) {
        let (index, span) = state.withLock { s -> (Int?, Span?) in
            let r = (s.account, s.attemptSpan)
            s.account = nil
            s.attemptSpan = nil
            s.transfer = nil
            return r
        }
        if let index {
            ctx.pool.release(index)
            ctx.pool.accountMetrics[index].attempts(outcome: outcome).increment()
        }
        if let error { span?.setAttribute("error.type", .string(error)) }
        span?.end(status: error == nil ? .ok : .error)
    }
}

/// Routes one attempt's upstream callbacks to its exchange, tagged with the attempt number so callbacks
/// of a cancelled attempt (e.g. after a strip-retry started the next one) are ignored.
final class AttemptDelegate: UpstreamDelegate, Sendable {
    let exchange: ResponsesExchange
    let attempt: Int

    init(exchange: ResponsesExchange, attempt: Int) {
        self.exchange = exchange
        self.attempt = attempt
    }

    func upstreamDidReceiveHead(status: Int, headers: [(String, String)]) {
        exchange.didReceiveHead(attempt: attempt, status: status, headers: headers)
    }

    func upstreamDidReceive(_ bytes: UnsafeRawBufferPointer) -> UpstreamFlow {
        exchange.didReceive(attempt: attempt, bytes)
    }

    func upstreamDidComplete(_ result: Result<UpstreamCompletion, UpstreamFailure>) {
        exchange.didComplete(attempt: attempt, result)
    }
}
