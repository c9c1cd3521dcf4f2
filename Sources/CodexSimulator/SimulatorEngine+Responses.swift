import HTTPServer

extension SimulatorEngine {
    /// Appends the record and returns a complete response; for use under the lock.
    func complete(
        _ rec: inout RequestRecord,
        _ state: inout SimulatorState,
        status: Int,
        headers: HTTPHeaders,
        body: [UInt8]
    ) -> SimulatorOutcome {
        rec.status = status
        var headers = headers
        if !headers.contains("content-type") { headers.add("content-type", "application/json") }
        state.log.append(rec)
        return .complete(status: status, headers: headers, body: body)
    }

    /// The decision for one parsed Responses request, under the lock. Order: authentication, validation,
    /// fault selection, then the answer (cache, usage, reply, events).
    func plan(
        route: Route,
        _ request: SimulatedRequest,
        headers: HTTPHeaders,
        headerFault: SimulatedFault?,
        now: Double,
        rec: inout RequestRecord,
        state: inout SimulatorState
    ) -> SimulatorOutcome {
        let ids = nextIds(&state)
        var out = baseHeaders(model: request.model, requestId: ids.request)
        let auth = state.ledger.authenticate(
            bearer: Self.bearer(headers),
            accountIdHeader: headers["chatgpt-account-id"],
            mode: route.mode,
            now: now
        )
        guard case .ok(let account) = auth else {
            return complete(&rec, &state, status: 401, headers: out, body: Self.authFailureBody(auth))
        }
        rec.account = account
        let plan = state.ledger.tokens(of: account)?.account.plan ?? "plus"
        if !route.compact {
            if request.stream != true {
                let body = ErrorBodies.invalidRequest("Stream must be set to true", param: "stream")
                return complete(&rec, &state, status: 400, headers: out, body: body)
            }
            if request.store == true {
                let body = ErrorBodies.invalidRequest("Store must be set to false", param: "store")
                return complete(&rec, &state, status: 400, headers: out, body: body)
            }
        }
        if let anchor = request.previousResponseId,
            !(configuration.httpAnchorsResolve && state.knows(responseId: anchor, account: account))
        {
            return complete(
                &rec,
                &state,
                status: 400,
                headers: out,
                body: ErrorBodies.previousResponseNotFound(id: anchor)
            )
        }
        // Reasoning and compaction are sealed for the account that produced them, and reasoning sent without its
        // content names an item the backend did not keep.
        if configuration.reasoningItems, let refusal = SimulatedReasoning.refusal(request, account: account) {
            return complete(&rec, &state, status: refusal.status, headers: out, body: refusal.body)
        }
        // Compact answers with JSON, so it must not use up a stream fault it cannot apply.
        let fault = state.faults.next(
            account: account,
            header: headerFault,
            tokenEndpoint: false,
            withoutStream: route.compact
        )
        rec.fault = fault?.name
        var limits = state.usage.snapshot(account: account, now: now)
        if let fault,
            let outcome = statusFault(
                fault,
                anchor: request.previousResponseId,
                plan: plan,
                limits: limits,
                now: now,
                headers: out
            )
        {
            if case .complete(let status, let h, let body) = outcome {
                return complete(&rec, &state, status: status, headers: h, body: body)
            }
            rec.status = 0
            state.log.append(rec)
            return outcome
        }

        // A real answer: the backend saw the prompt, so the cache and the usage windows move.
        let cached = state.cache.observe(
            account: account,
            promptCacheKey: request.promptCacheKey,
            model: request.model,
            toolsDigest: request.toolsDigest,
            canonicalInput: request.canonicalInput
        )
        let inputTokens = PromptCacheModel.inputTokens(request.canonicalInput)
        let reply = ReplyPlanner.plan(request, account: account, textSize: configuration.eventProfile.textSize)
        let outputTokens = Self.outputTokens(reply)
        limits = state.usage.record(account: account, tokens: inputTokens - cached + outputTokens, now: now)
        for (name, value) in UsageMeter.headers(limits) { out.add(name, value) }
        state.remember(responseId: ids.response, account: account)
        rec.cachedTokens = cached
        rec.inputTokens = inputTokens
        rec.responseId = ids.response
        let usage = ResponseEventBuilder.Usage(
            inputTokens: inputTokens,
            cachedTokens: cached,
            outputTokens: outputTokens
        )
        var builder = ResponseEventBuilder(
            responseId: ids.response,
            model: request.model,
            createdAt: Int(now),
            itemSuffix: ids.suffix
        )
        if configuration.reasoningItems {
            builder.reasoning = SimulatedReasoning.outputItem(request, account: account, suffix: ids.suffix)
        }
        if route.compact {
            let body = Self.compactionBody(
                responseId: ids.response,
                request,
                usage: usage,
                suffix: ids.suffix,
                sealedFor: configuration.reasoningItems ? account : nil
            )
            return complete(&rec, &state, status: 200, headers: out, body: body)
        }
        rec.status = 200
        state.log.append(rec)
        // The backend's turn-state token, which Codex echoes on the later requests of the same turn: only streamed
        // answers carry it (the compact JSON above and the errors do not).
        out.add("x-codex-turn-state", Self.turnState(suffix: ids.suffix))
        return .stream(streamPlan(fault, builder: builder, reply: reply, usage: usage, headers: out))
    }

    /// The plan of a 200 stream, shaped by a stream fault if one applies.
    func streamPlan(
        _ fault: SimulatedFault?,
        builder: ResponseEventBuilder,
        reply: ReplyPlanner.Reply,
        usage: ResponseEventBuilder.Usage,
        headers: HTTPHeaders
    ) -> StreamPlan {
        var headers = headers
        headers.add("content-type", "text/event-stream")
        headers.add("cache-control", "no-cache")
        let profile = configuration.eventProfile
        let full = builder.completed(reply, usage: usage, deltaCount: profile.deltaCount)
        var plan = StreamPlan(headers: headers, events: full.events, deltaIndices: full.deltaIndices)
        plan.deltaDelayMs = profile.deltaDelayMs
        guard let fault else { return plan }
        switch fault.kind {
        case .streamCut:
            // `after_terminal`: every event, the terminal one included, then the cut (no end of body).
            let afterTerminal = fault.parameters["mode"] == "after_terminal"
            let last = afterTerminal ? full.events.count : full.events.count - 1
            plan.cutAfterEvents = max(0, min(fault.int("after") ?? (afterTerminal ? last : 3), last))
        case .silence:
            plan.silenceMs = fault.int("ms") ?? Int.max
            if fault.parameters["mode"] == "mute" {
                // Not even the quota report: over WebSocket no `codex.rate_limits` frame comes first.
                for name in plan.headers.map(\.name) where name.lowercased().hasPrefix("x-codex-") {
                    plan.headers.remove(name)
                }
            }
        case .slow:
            plan.perEventDelayMs = fault.int("ms") ?? 100
        case .responseFailed:
            let code = fault.parameters["code"] ?? "server_error"
            let message = fault.parameters["message"] ?? "The simulator failed this response (\(code))."
            if let after = fault.int("after") {
                let count = max(0, min(after, full.events.count - 1))
                let events = builder.failure(
                    after: full,
                    count: count,
                    status: fault.int("status") ?? 500,
                    code: code,
                    message: message,
                    asResponseFailed: fault.parameters["mode"] == "failed"
                )
                plan = StreamPlan(headers: headers, events: events.events, deltaIndices: events.deltaIndices)
                plan.deltaDelayMs = profile.deltaDelayMs
            } else {
                let events = builder.failed(
                    code: code,
                    message: message,
                    resetsInSeconds: fault.int("resets_in_seconds")
                )
                plan = StreamPlan(headers: headers, events: events.events)
            }
        case .responseIncomplete:
            let reason = fault.parameters["reason"] ?? "max_output_tokens"
            plan = StreamPlan(headers: headers, events: builder.incomplete(reason: reason).events)
        case .previousResponseNotFoundInStream:
            let id = fault.parameters["id"]
            let message = id.map { "Previous response with id '\($0)' not found." } ?? "Previous response not found."
            let events =
                fault.parameters["mode"] == "error"
                ? builder.bareError(
                    code: "previous_response_not_found",
                    message: message,
                    param: "previous_response_id"
                )
                : builder.failed(code: "previous_response_not_found", message: message)
            plan = StreamPlan(headers: headers, events: events.events)
        default:
            break
        }
        return plan
    }

    /// The outcome of a fault that answers before any stream (status codes, reset), or nil for a stream
    /// fault that `streamPlan` shapes instead. `anchor`: the request's `previous_response_id`.
    func statusFault(
        _ fault: SimulatedFault,
        anchor: String?,
        plan: String,
        limits: UsageMeter.Snapshot,
        now: Double,
        headers: HTTPHeaders
    ) -> SimulatorOutcome? {
        var h = headers
        func withLimits(_ resetAt: Int? = nil) {
            for (name, value) in UsageMeter.headers(limits, primaryExhaustedUntil: resetAt) { h.add(name, value) }
        }
        let status: Int
        let body: [UInt8]
        switch fault.kind {
        case .usageLimit:
            // Within ten years either way: the sum below cannot overflow.
            let seconds = max(-315_360_000, min(fault.int("resets_in_seconds") ?? 3600, 315_360_000))
            let resetsAt = Int(now) + seconds
            withLimits(resetsAt)
            // `resets_at=<number>`: an upstream that names an odd reset (`1e400`, `1e20`), verbatim in the body
            // and the primary reset header; anything but a JSON number is ignored.
            let raw = fault.parameters["resets_at"].flatMap { JSONText.isNumber($0) ? $0 : nil }
            if let raw { h.set("x-codex-primary-reset-at", raw) }
            h.add("x-codex-rate-limit-reached-type", "primary")
            return .complete(
                status: 429,
                headers: h,
                body: ErrorBodies.usageLimit(plan: plan, resetsAt: raw ?? String(resetsAt), resetsInSeconds: seconds)
            )
        case .rateLimitNoCode:
            status = 429
            if let retry = fault.parameters["retry_after"] { h.add("retry-after", retry) }
            body = ErrorBodies.openAI(message: "Rate limit reached. Please try again later.", type: "requests")
        case .tokenInvalidated:
            status = 401
            body = ErrorBodies.invalidRequest(
                "Your authentication token has been invalidated. Please try signing in again.",
                code: "token_invalidated"
            )
        case .unauthorized:
            status = 401
            body = ErrorBodies.invalidRequest("Unauthorized.")
        case .paymentRequired:
            status = 402
            body = ErrorBodies.invalidRequest("Payment required for this workspace.", code: "payment_required")
        case .forbidden:
            status = 403
            body = ErrorBodies.invalidRequest("You do not have access to this resource.", code: "forbidden")
        case .serverError:
            status = 500
            body = ErrorBodies.openAI(
                message: "An error occurred while processing your request.",
                type: "server_error",
                code: "server_error"
            )
        case .badGateway:
            status = 502
            body = ErrorBodies.openAI(message: "Bad gateway.", type: "server_error", code: "bad_gateway")
        case .overloaded:
            status = 503
            body = ErrorBodies.openAI(
                message: "Our servers are currently overloaded. Please try again later.",
                type: "server_error",
                code: "server_is_overloaded"
            )
        case .previousResponseNotFound:
            status = 400
            body = ErrorBodies.previousResponseNotFound(id: fault.parameters["id"] ?? anchor)
        case .connectionReset:
            return .reset
        default:
            return nil
        }
        withLimits()
        return .complete(status: status, headers: h, body: body)
    }

    static func outputTokens(_ reply: ReplyPlanner.Reply) -> Int {
        switch reply {
        case .text(let text): return max(1, text.utf8.count / PromptCacheModel.bytesPerToken)
        case .toolCall(_, let arguments): return max(1, arguments.utf8.count / PromptCacheModel.bytesPerToken)
        }
    }

    static func authFailureBody(_ outcome: TokenLedger.AuthOutcome) -> [UInt8] {
        switch outcome {
        case .missing:
            return ErrorBodies.invalidRequest("Missing bearer authentication in header.", code: "missing_authorization")
        case .unknownToken:
            return ErrorBodies.invalidRequest("Incorrect API key or access token provided.", code: "invalid_api_key")
        case .invalidated:
            return ErrorBodies.invalidRequest(
                "Your authentication token has been invalidated. Please try signing in again.",
                code: "token_invalidated"
            )
        case .expired:
            return ErrorBodies.invalidRequest("Provided authentication token is expired.", code: "token_expired")
        case .accountMismatch:
            return ErrorBodies.invalidRequest(
                "The chatgpt-account-id header does not match the access token.",
                code: "account_mismatch"
            )
        case .ok:
            return []
        }
    }

    /// The non-streamed answer of `/responses/compact`: a summary message plus an opaque compaction item.
    static func compactionBody(
        responseId: String,
        _ request: SimulatedRequest,
        usage: ResponseEventBuilder.Usage,
        suffix: String,
        sealedFor account: String? = nil
    ) -> [UInt8] {
        let summary = "Simulated compaction of \(request.inputItemCount) input items."
        let message =
            "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\(JSONText.quote(summary))}]}"
        // Sealed like reasoning when `reasoningItems` is on: only `account` can read it back.
        let sealed =
            account.map { SimulatedReasoning.sealPrefix($0) + "compaction-" + suffix } ?? "sim-compaction-\(suffix)"
        let compaction = "{\"type\":\"compaction\",\"encrypted_content\":\(JSONText.quote(sealed))}"
        let json =
            "{\"id\":\(JSONText.quote(responseId)),\"object\":\"response.compaction\","
            + "\"output\":[\(message),\(compaction)],\"usage\":\(usage.json)}"
        return Array(json.utf8)
    }
}
