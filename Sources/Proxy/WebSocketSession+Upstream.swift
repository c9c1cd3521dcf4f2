import Foundation
import HTTPServer
import LogRedaction
import WireFormats

extension WebSocketSession {
    /// Frame types that carry no model output: held until the first meaningful event, so a failure right
    /// after them can still be recovered before the client saw anything of the turn.
    static let holdable: Set<String> = [
        "response.created", "response.in_progress", "response.metadata", "codex.rate_limits",
    ]

    func handleUpstream(_ event: WebSocketUpstreamLink.Event, link: WebSocketUpstreamLink) {
        switch event {
        case .opened(let headers):
            ctx.pool.updateQuota(link.account, QuotaSignal.parse(headers: headers.map { ($0.0, $0.1) }))
            logSession(
                "websocket session opened",
                side: "upstream",
                code: nil,
                reason: nil,
                account: ctx.pool.pseudonyms[link.account]
            )
        case .texts(let frames):
            relayingBatch { for frame in frames { handleFrame(frame, link: link) } }
        case .closed(let code, let reason):
            connectionLost(
                link: link,
                reason: code == 1000 || code == 1001 ? "websocket_closed" : "websocket_dropped",
                status: nil,
                detail: reason
            )
        case .failed(let reason, let status, let refusal):
            connectionLost(link: link, reason: reason, status: status, detail: reason, refusal: refusal)
        }
    }

    /// One upstream event frame of the current turn.
    func handleFrame(_ frame: [UInt8], link: WebSocketUpstreamLink) {
        guard var t = turn, t.linkSerial == link.serial else { return }  // nothing asked: a stray frame
        let firstFrame = t.lastFrameAt == nil
        t.lastFrameAt = ctx.monotonic()
        turn = t
        // From the first frame on, the idle limit applies, which may come sooner than the first-frame one.
        if firstFrame { armSilenceTimer() }
        guard let top = try? JSONTopLevel.scan(frame), let summary = try? ResponseEventSummary(top: top) else {
            if t.committed { sendDownstream(frame) }
            return
        }
        // The quota report and the turn state come at once, as an HTTP upstream's head does: the time to the first
        // event is the answer's, as over HTTP and the bridge. Counted from them, a backend slow to start answering
        // read as instant on every WebSocket turn.
        if !t.firstEventSeen, summary.type != "codex.rate_limits", summary.type != "response.metadata" {
            t.firstEventSeen = true
            ctx.metrics.upstreamFirstEvent(transport: "websocket").observe(max(0, ctx.monotonic() - t.sentAt))
        }
        turn = t
        if summary.type == "codex.rate_limits" {
            // The socket's quota report: what the `x-codex-*` headers of each HTTP answer say.
            ctx.pool.updateQuota(link.account, QuotaSignal.parse(rateLimits: top))
        }
        // A `response.failed` before anything reached the client is as recoverable as an error frame, as over HTTP
        // and the bridge: relayed as it came, it ended the turn with the upstream's code (a lost anchor's among them).
        if summary.type == "error" || (summary.type == "response.failed" && !t.committed) {
            handleErrorFrame(frame, top: top, summary: summary, link: link)
            return
        }
        if !t.committed, Self.holdable.contains(summary.type ?? "") {
            turn?.held.append(frame)
            return
        }
        if summary.type == "response.output_item.done", let item = top.rawValue(forKey: "item") {
            turn?.items.append((summary.outputIndex ?? t.items.count, Array(item)))
        }
        commit()
        // A terminal event's attempt is counted before the client can see the end of the turn.
        let failure = summary.type == "response.failed" ? UpstreamErrorClass.of(summary.error) : nil
        if summary.isTerminal { endAttempt(AttemptOutcome.terminal(failure: failure)) }
        if failure != nil {
            // The upstream's own failure after output: its account cools as the same event over HTTP makes it (by
            // the status its code stands for, none for a lost anchor); until 2026-12-08 it cooled nothing here.
            coolAsOverHTTP(UpstreamErrorEvent(top: top, summary: summary), top: top, account: link.account)
        }
        sendDownstream(frame)
        guard summary.isTerminal else { return }
        if let usage = summary.usage { recordUsage(usage) }
        if let failure {
            liveAnchor = nil
            // A turn has no HTTP status; it counts with the one a non-streaming client gets for this failure.
            endTurn(status: ResponseFailureStatus.status(forCode: summary.error?.code), error: failure.rawValue)
            return
        }
        if let responseID = summary.responseID { remember(responseID, link: link) }
        ctx.pool.recordSuccess(link.account, session: turn?.sessionPseudonym, now: ctx.now())
        endTurn(status: 200, error: nil)
    }

    /// Sends the held frames and marks the turn committed: from here on failures are not recovered.
    func commit() {
        guard var t = turn, !t.committed else { return }
        t.committed = true
        let held = t.held
        t.held = []
        turn = t
        settlePending(.succeeded)
        for frame in held { sendDownstream(frame) }
    }

    /// Records a completed response: the link's live anchor, its affinity, and its transcript.
    func remember(_ responseID: String, link: WebSocketUpstreamLink) {
        guard let t = turn else { return }
        liveAnchor = link.viaHTTP ? nil : responseID  // over HTTP nothing stays anchored
        let now = ctx.now()
        hub.affinity.record(
            responseID: responseID,
            entry: AffinityMap.Entry(
                accountIndex: link.account,
                upstreamSessionID: link.sessionID,
                createdAt: Int64(now)
            ),
            owner: principalPseudonym
        )
        guard let input = t.fullInput else { return }
        let output = JSONEncoding.array(t.items.sorted { $0.index < $1.index }.map(\.bytes))
        hub.transcripts.store(
            responseID: responseID,
            input: input,
            output: output,
            metadata: TranscriptCache.Metadata(
                accountIndex: link.account,
                model: t.model,
                createdAt: Int64(now),
                owner: principalPseudonym
            )
        )
    }

    /// The statuses that refuse the proxy's own account (its login, its plan, its quota), not the client's request: a
    /// handshake refused with one is a pin reset, and an error frame with one never reaches the client as it came.
    static let accountRefusalStatuses: Set<Int> = [401, 402, 403, 429]

    /// Cools `account` as the same answer over HTTP would (`coolingStatus`: none for a `response.failed` whose code
    /// names no status, such as a lost anchor), with the frame's own reset and `headers` object.
    func coolAsOverHTTP(_ upstreamError: UpstreamErrorEvent, top: JSONTopLevel, account: Int) {
        guard let coolingStatus = upstreamError.coolingStatus else { return }
        applyAccountConsequences(
            account,
            status: coolingStatus,
            error: upstreamError.errorClass,
            parsed: upstreamError.body,
            headers: Self.frameHeaders(top)
        )
    }

    /// An upstream `{"type":"error","status":…}` frame for the current turn, or a `response.failed` before the
    /// turn was committed (its error under `response`, its status the one its code stands for).
    func handleErrorFrame(
        _ frame: [UInt8],
        top: JSONTopLevel,
        summary: ResponseEventSummary,
        link: WebSocketUpstreamLink
    ) {
        guard let t = turn else { return }
        // A `response.failed` is decided as the same event over HTTP is (`inStreamError`): by its code alone, so an
        // unknown code passes through rather than reading as a 5xx; it cools its account only when its code stands
        // for a status (a lost anchor does not), and its reset comes from the error under `response`.
        let upstreamError = UpstreamErrorEvent(top: top, summary: summary)
        let failedEvent = upstreamError.isResponseFailed
        let status = upstreamError.status
        let parsed = upstreamError.body
        let cls = upstreamError.errorClass
        let ageCap = parsed.code == "websocket_connection_limit_reached"
        endAttempt(
            failedEvent
                ? AttemptOutcome.terminal(failure: UpstreamErrorClass.of(summary.error))
                : AttemptOutcome.errorFrame(status: status, connectionAgeCap: ageCap)
        )
        // Whatever is decided, the account cools as the same answer over HTTP makes it: a 429 on the turn's last
        // attempt too (until 2026-12-07 only a pin reset or failover cooled it, so a one-account pool sent every
        // later turn into the same limit and answered the client's 429 without a reset time), and one after output
        // reached the client (until 2026-12-08 it cooled nothing, unlike over HTTP and the bridge).
        coolAsOverHTTP(upstreamError, top: top, account: link.account)
        if t.committed {
            // A refusal of the proxy's own account (401–403, a 429 limit) says nothing the client can act on, and
            // Codex reads such a frame as its own: a 401 sends it to refresh its login, a usage limit ends its turn for
            // good while other accounts have room. It gets the retryable 502 `stream_incomplete` instead, as before the
            // first event it gets a 502 and never the refusal (until 2026-12-08 the refusal went to it as it came).
            if Self.accountRefusalStatuses.contains(status) {
                sendDownstream(WebSocketErrorFrame.from(.streamIncomplete))
                endTurn(status: ProxyErrorResponse.streamIncomplete.status, error: cls.rawValue)
            } else {
                sendDownstream(WebSocketErrorFrame.relayed(frame))
                endTurn(status: status, error: cls.rawValue)
            }
            return
        }
        if ageCap {
            // The connection hit its age cap: it is gone, and so is its anchor.
            connectionLost(link: link, reason: "websocket_connection_limit_reached", status: nil, detail: nil)
            return
        }
        var rs = RecoveryPolicy.RequestState()
        rs.hasAnchor = t.sentAnchor != nil
        rs.hasTranscript = t.fullInput != nil
        rs.continuityRetried = t.replayed
        rs.refreshed = t.refreshedAccounts.contains(link.account)
        rs.anyRefreshed = !t.refreshedAccounts.isEmpty
        rs.canRefresh =
            ctx.pool.accounts[link.account].kind == .chatgpt && ctx.pool.credentials(link.account).canRefresh
        rs.attempts = t.attempts
        rs.maxAttempts = maxAttempts
        rs.reasoningStripped = t.reasoningStripped
        rs.compactionStripped = t.compactionStripped
        if cls == .invalidEncryptedContent { rs.noteSealedItems(in: rewritten(t, replay: t.replayed)) }
        let decision = RecoveryPolicy().decide(rs, upstreamError.policyEvent)
        switch decision {
        case .pinReset, .failover:
            record(decision, .attempted, reason: cls.rawValue)
            // A 401 a refresh did not cure (or could not try), as over HTTP.
            if decision == .pinReset, status == 401, !failedEvent {
                ctx.pool.coolUnauthorized(link.account, now: ctx.now())
            }
            turn?.pending.append(decision)
            moveToAnotherAccount(link: link, reason: cls.rawValue)
        case .transcriptReplay:
            // The upstream lost the anchor although the connection lives: replay once, same connection.
            liveAnchor = nil
            if let anchor = t.sentAnchor { hub.affinity.markDead(responseID: anchor, now: Int64(ctx.now())) }
            perform(.replay, reason: cls.rawValue)
        case .maskedContinuityLoss, .stripRetry, .deadAnchor:
            liveAnchor = nil
            perform(.continuityLoss, reason: cls.rawValue)
        case .passThrough where status == 429:
            ctx.metrics.poolExhausted.increment()
            let now = ctx.now()
            let error = ProxyErrorResponse.usageLimitReached(
                resetsAt: ctx.pool.earliestAvailability(now: now),
                now: now
            )
            answerLocally(WebSocketErrorFrame.from(error), status: 429, error: cls.rawValue)
        case .passThrough where (401...403).contains(status) && !failedEvent:
            // The proxy's own account was refused, out of attempts: the client's credentials are fine, so it must
            // not see the upstream's 401/403 (a Codex client would refresh or drop its own login), as over HTTP.
            // Until 2026-12-07 the frame was relayed as it came.
            answerLocally(WebSocketErrorFrame.from(.upstreamUnavailable), status: 502, error: cls.rawValue)
        case .passThrough where failedEvent:
            // Nothing to recover: the turn ends as it would have, the held events first, then the failure. Its decisions
            // gave up (the turn ends with the upstream's failure); `commit` would settle them as succeeded.
            liveAnchor = nil
            settlePending(.gaveUp)
            commit()
            sendDownstream(frame)
            endTurn(status: status, error: UpstreamErrorClass.of(summary.error).rawValue)
        case .passThrough:
            answerLocally(WebSocketErrorFrame.relayed(frame), status: status, error: cls.rawValue)
        case .tokenRefresh:
            refreshAndRetry(link: link, reason: cls.rawValue)
        case .reasoningStrip:
            // Items another account sealed: the same frame once more on this socket without them (reasoning
            // first).
            let step = EncryptedReasoning.nextStep(
                present: EncryptedReasoning.kinds(in: rewritten(t, replay: t.replayed)),
                reasoningStripped: t.reasoningStripped
            )
            var stripped = t
            stripped.reasoningStripped = true
            if step.contains(.compaction) { stripped.compactionStripped = true }
            stripped.clientFrame = EncryptedReasoning.stripped(body: t.clientFrame, kinds: step) ?? t.clientFrame
            if let full = t.fullInput {
                stripped.fullInput = EncryptedReasoning.stripped(input: full[...], kinds: step) ?? full
            }
            stripped.pending.append(.reasoningStrip)
            turn = stripped
            record(.reasoningStrip, .attempted, reason: EncryptedReasoning.reason(step))
            send(frame: rewritten(stripped, replay: stripped.replayed), anchor: stripped.sentAnchor)
        case .transientFailure, .affinityMiss:
            // The connection (and the anchor on it) may still be fine: retryable, anchor kept.
            answerLocally(WebSocketErrorFrame.from(.upstreamUnavailable), status: 502, error: cls.rawValue)
        }
    }

    /// A 401 the account's refresh token can fix: refresh (single-flight), then send the turn again on
    /// the same account over a new upstream session (with the new token) — replayed without the anchor,
    /// which died with the old session. A failed refresh resets the pin instead.
    func refreshAndRetry(link old: WebSocketUpstreamLink, reason: String) {
        let index = old.account
        turn?.refreshedAccounts.insert(index)
        record(.tokenRefresh, .attempted, reason: reason)
        // Pending from now on: a client that leaves during the refresh ends the turn, which settles it.
        turn?.pending.append(.tokenRefresh)
        dropLink(reason: reason)
        let started = turn?.started
        let pool = ctx.pool
        let clock = ctx.now
        ctx.refresher.refresh(account: ctx.pool.accounts[index].name, ifGeneration: old.generation) {
            [weak self] result in
            // The account's fate does not depend on the turn: a dead login leaves rotation even when the client
            // left (or the session ended) during the refresh. It stayed in rotation then, until a restart.
            if case .failure(let error) = result { pool.refreshAfterUnauthorizedFailed(index, error, now: clock()) }
            guard let self else { return }
            queue.async { [self] in
                guard let t = turn, t.started == started else { return }  // the turn ended meanwhile
                switch result {
                case .success:
                    turn?.preferredAccount = index
                case .failure(let error):
                    if let i = turn?.pending.lastIndex(of: .tokenRefresh) { turn?.pending.remove(at: i) }
                    record(.tokenRefresh, .gaveUp, reason: error.reason)
                    record(.pinReset, .attempted, reason: error.reason)
                    turn?.pending.append(.pinReset)
                    turn?.excluded.insert(index)
                    turn?.preferredAccount = nil
                }
                perform(
                    WebSocketTurnPlanner().plan(anchor: t.anchor, liveAnchor: nil, hasTranscript: t.fullInput != nil),
                    reason: reason
                )
            }
        }
    }

    var maxAttempts: Int { ctx.pool.maxAttempts }

    /// Closes the pinned session, excludes its account for this turn and sends the turn again on another
    /// account — in full from the transcript when it had an anchor (the new account never sees it).
    func moveToAnotherAccount(link old: WebSocketUpstreamLink, reason: String) {
        turn?.excluded.insert(old.account)
        dropLink(reason: reason)
        guard let t = turn else { return }
        perform(
            WebSocketTurnPlanner().plan(anchor: t.anchor, liveAnchor: nil, hasTranscript: t.fullInput != nil),
            reason: reason
        )
    }

    /// The upstream connection ended or could not be opened; `refusal` is the upstream's answer to a refused
    /// upgrade.
    func connectionLost(
        link old: WebSocketUpstreamLink,
        reason: String,
        status: Int?,
        detail: String?,
        refusal: UpstreamHandshakeRefusal? = nil
    ) {
        let wasOpen = turn?.linkSerial == old.serial
        let account = old.account
        if !old.didEverOpen {
            metrics.upgradeFailures(side: "upstream", reason: Self.upgradeFailureReason(status)).increment()
        }
        dropLink(reason: reason)
        guard wasOpen, let t = turn else { return }  // between turns: the next turn plans without it
        endAttempt(AttemptOutcome.socketLost(status: status, didEverOpen: old.didEverOpen))
        if t.committed {
            sendDownstream(WebSocketErrorFrame.from(.streamIncomplete))
            endTurn(status: 502, error: reason)
            return
        }
        if status == 401, !t.refreshedAccounts.contains(account), ctx.pool.accounts[account].kind == .chatgpt,
            ctx.pool.credentials(account).canRefresh
        {
            // An expired token refused the upgrade: refresh it and open the socket again on the same account, as an
            // error frame's 401 and an HTTP 401 do. Read as a pin reset, a one-account pool failed every new socket.
            refreshAndRetry(link: old, reason: "handshake_401")
            return
        }
        if status == 426 {
            // The account speaks HTTP only: carry this session's turns for it over HTTP (not a failover).
            httpOnlyAccounts.insert(account)
        } else {
            turn?.excluded.insert(account)
        }
        if let status, Self.accountRefusalStatuses.contains(status) {
            // Read like the same answer over HTTP: a 429's body and headers say how long the account cools.
            let parsed = refusal.map { UpstreamErrorBody(bytes: $0.body) }
            applyAccountConsequences(
                account,
                status: status,
                error: UpstreamErrorClass.classify(code: parsed?.code, type: parsed?.type, status: status),
                parsed: parsed,
                headers: refusal?.headers ?? []
            )
            // A 401 a refresh did not cure (or could not try), as an error frame's and an HTTP 401 are.
            if status == 401 { ctx.pool.coolUnauthorized(account, now: ctx.now()) }
            record(.pinReset, .attempted, reason: "handshake_\(status)")
            turn?.pending.append(.pinReset)
        }
        let planner = WebSocketTurnPlanner()
        let replanned =
            status == 426
            ? planner.plan(anchor: t.anchor, liveAnchor: nil, hasTranscript: t.fullInput != nil)
            : planner.replanAfterConnectionLoss(
                anchor: t.anchor,
                hasTranscript: t.fullInput != nil,
                attempts: t.attempts,
                maxAttempts: maxAttempts
            )
        guard let plan = replanned else {
            if status == 429 {
                // Out of accounts on a quota refusal: the pool's answer with its earliest reset, as a 429 error frame
                // on the last attempt gets; a 502 told a one-account pool's client to retry into the same limit.
                ctx.metrics.poolExhausted.increment()
                let now = ctx.now()
                let error = ProxyErrorResponse.usageLimitReached(
                    resetsAt: ctx.pool.earliestAvailability(now: now),
                    now: now
                )
                answerLocally(WebSocketErrorFrame.from(error), status: 429, error: reason)
                return
            }
            answerLocally(WebSocketErrorFrame.from(.upstreamUnavailable), status: 502, error: reason)
            return
        }
        // `turn`, not the snapshot `t`: a pin reset recorded just above is this refusal's decision, not a failover too,
        // and a turn moves once per decision of its own. Other pending decisions (a reasoning strip made before the
        // first send) do not stand for this move: until 2026-12-07 any of them hid the failover.
        let moved = turn?.pending.contains { $0 == .pinReset || $0 == .failover } ?? false
        if plan == .forward, !moved, status != 426 {
            record(.failover, .attempted, reason: reason)
            turn?.pending.append(.failover)
        }
        perform(plan, reason: reason)
    }

    static func upgradeFailureReason(_ status: Int?) -> String {
        switch status {
        case nil: "connect_error"
        case 426?: "status_426"
        case 401?: "status_401"
        case 429?: "status_429"
        case let s? where s >= 500: "status_5xx"
        default: "status_4xx"
        }
    }
}
