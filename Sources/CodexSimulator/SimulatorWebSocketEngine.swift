import Foundation
import HTTPServer

/// The simulator's decisions for WebSocket mode (codex-protocol.md §5): handshake authentication and one
/// `response.create` frame at a time. Reuses the HTTP path (`plan`): the same faults, cache, usage and
/// events; only anchors differ, since they resolve against the connection's own `SimulatorWebSocketAnchor`.
/// Does no I/O; `SimulatorWebSocketSession` performs the outcome as frames.
extension SimulatorEngine {
    /// Checks the handshake's credentials as for HTTP, then takes a handshake fault (`stage=handshake`): nil when
    /// the upgrade goes ahead, else the answer instead of the 101 (the 401, the fault's status answer with its
    /// quota headers, or a reset). Every refused upgrade is logged (method `GET`).
    func webSocketHandshake(route: Route, path: String, headers: HTTPHeaders) -> SimulatorOutcome? {
        let now = clock()
        return state.withLock { state -> SimulatorOutcome? in
            let auth = state.ledger.authenticate(
                bearer: Self.bearer(headers),
                accountIdHeader: headers["chatgpt-account-id"],
                mode: route.mode,
                now: now
            )
            var rec = record(method: "GET", path: path, headers: headers, bodyBytes: 0)
            rec.transport = "websocket"
            guard case .ok(let account) = auth else {
                return complete(&rec, &state, status: 401, headers: HTTPHeaders(), body: Self.authFailureBody(auth))
            }
            guard let fault = state.faults.next(account: account, header: nil, tokenEndpoint: false, handshake: true)
            else { return nil }
            rec.account = account
            rec.fault = fault.name
            let outcome = statusFault(
                fault,
                anchor: nil,
                plan: state.ledger.tokens(of: account)?.account.plan ?? "plus",
                limits: state.usage.snapshot(account: account, now: now),
                now: now,
                headers: baseHeaders(model: nil, requestId: nextIds(&state).request)
            )
            switch outcome {
            case .complete(let status, let h, let body)?:
                return complete(&rec, &state, status: status, headers: h, body: body)
            case .reset?:
                rec.status = 0
                state.log.append(rec)
                return .reset
            default:
                return nil  // a stream fault has nothing to say to a handshake
            }
        }
    }

    /// The outcome of one text frame, and the connection's anchor afterwards.
    func webSocketResponse(
        route: Route,
        path: String,
        frame: [UInt8],
        headers: HTTPHeaders,
        connectionId: String,
        anchor: SimulatorWebSocketAnchor?
    ) -> (outcome: SimulatorOutcome, anchor: SimulatorWebSocketAnchor?) {
        var rec = record(method: "WS", path: path, headers: headers, bodyBytes: frame.count)
        rec.transport = "websocket"
        rec.connection = connectionId
        let root = (try? JSONSerialization.jsonObject(with: Data(frame))) as? [String: Any]
        guard let root, root["type"] as? String == "response.create" else {
            let body = ErrorBodies.invalidRequest("Expected a response.create message.", param: "type")
            return (finish(&rec, status: 400, headers: HTTPHeaders(), body: body), anchor)
        }
        var parsed: SimulatedRequest
        do {
            parsed = try SimulatedRequest.parse(body: frame, headers: headers, path: path)
        } catch {
            let message = (error as? SimulatorRequestError)?.message ?? "Bad request."
            return (
                finish(&rec, status: 400, headers: HTTPHeaders(), body: ErrorBodies.invalidRequest(message)), anchor
            )
        }
        rec.model = parsed.model
        rec.promptCacheKey = parsed.promptCacheKey
        rec.sessionId = headers["session-id"] ?? headers["session_id"]
        rec.hasPreviousResponseId = parsed.previousResponseId != nil
        rec.inputItemCount = parsed.inputItemCount
        rec.stream = parsed.stream
        rec.turnState = parsed.clientMetadataTurnState
        if let previous = parsed.previousResponseId {
            guard let anchor, anchor.responseId == previous else {
                let body = ErrorBodies.previousResponseNotFound(id: previous)
                return (finish(&rec, status: 400, headers: HTTPHeaders(), body: body), anchor)
            }
            parsed = anchor.chained(parsed)
        }
        // A frame is always streamed; Codex may omit `stream` on WebSocket.
        if parsed.stream == nil { parsed.stream = true }
        rec.inputBytes = parsed.canonicalInput.count
        let now = clock()
        if root["generate"] as? Bool == false {
            return prewarm(route: route, parsed, headers: headers, now: now, rec: rec, anchor: anchor)
        }
        var local = rec
        let outcome = state.withLock { state in
            plan(route: route, parsed, headers: headers, headerFault: nil, now: now, rec: &local, state: &state)
        }
        guard case .stream = outcome, let id = local.responseId else { return (outcome, anchor) }
        return (
            outcome,
            SimulatorWebSocketAnchor(
                responseId: id,
                canonicalInput: parsed.canonicalInput,
                lastUserText: parsed.lastUserText
            )
        )
    }

    /// `generate:false`: authenticate, then just `response.created` + `response.completed` with no output.
    ///
    /// A fault that answers before the body (a usage limit, a 5xx, a 401) answers the prewarm too, as the
    /// backend refuses a warm-up for an account it would refuse a turn; one that shapes a stream stays queued for
    /// the next turn, as for `/responses/compact`. Until 2026-12-07 a prewarm took no fault, so a proxy's handling
    /// of a refused prewarm went untested. A refused prewarm leaves the connection's `anchor` as it was, as a refused
    /// turn does.
    private func prewarm(
        route: Route,
        _ request: SimulatedRequest,
        headers: HTTPHeaders,
        now: Double,
        rec: RequestRecord,
        anchor: SimulatorWebSocketAnchor?
    ) -> (outcome: SimulatorOutcome, anchor: SimulatorWebSocketAnchor?) {
        var rec = rec
        return state.withLock { state in
            let ids = nextIds(&state)
            let auth = state.ledger.authenticate(
                bearer: Self.bearer(headers),
                accountIdHeader: headers["chatgpt-account-id"],
                mode: route.mode,
                now: now
            )
            guard case .ok(let account) = auth else {
                return (
                    complete(&rec, &state, status: 401, headers: HTTPHeaders(), body: Self.authFailureBody(auth)),
                    anchor
                )
            }
            rec.account = account
            let fault = state.faults.next(account: account, header: nil, tokenEndpoint: false, withoutStream: true)
            rec.fault = fault?.name
            if let fault,
                let outcome = statusFault(
                    fault,
                    anchor: request.previousResponseId,
                    plan: state.ledger.tokens(of: account)?.account.plan ?? "plus",
                    limits: state.usage.snapshot(account: account, now: now),
                    now: now,
                    headers: baseHeaders(model: request.model, requestId: ids.request)
                )
            {
                if case .complete(let status, let h, let body) = outcome {
                    return (complete(&rec, &state, status: status, headers: h, body: body), anchor)
                }
                rec.status = 0  // a connection fault: no answer to record, as for a turn
                state.log.append(rec)
                return (outcome, anchor)
            }
            rec.responseId = ids.response
            rec.status = 200
            state.remember(responseId: ids.response, account: account)
            state.log.append(rec)
            let response =
                "{\"id\":\(JSONText.quote(ids.response)),\"object\":\"response\",\"created_at\":\(Int(now)),"
                + "\"model\":\(JSONText.quote(request.model)),\"status\":"
            let usage = ResponseEventBuilder.Usage(inputTokens: 0, cachedTokens: 0, outputTokens: 0).json
            let events = [
                SimulatorSSEEncoder.event(
                    type: "response.created",
                    json: "{\"type\":\"response.created\",\"sequence_number\":0,\"response\":\(response)"
                        + "\"in_progress\",\"output\":[],\"usage\":null}}"
                ),
                SimulatorSSEEncoder.event(
                    type: "response.completed",
                    json: "{\"type\":\"response.completed\",\"sequence_number\":1,\"response\":\(response)"
                        + "\"completed\",\"output\":[],\"usage\":\(usage)}}"
                ),
            ]
            let anchor = SimulatorWebSocketAnchor(
                responseId: ids.response,
                canonicalInput: request.canonicalInput,
                lastUserText: request.lastUserText
            )
            return (.stream(StreamPlan(headers: HTTPHeaders(), events: events)), anchor)
        }
    }

    /// `{"type":"error","status":S,"error":{…},"headers":{…}}`: how the backend wraps an HTTP error on
    /// WebSocket. `body` is an OpenAI error body (`{"error":{…}}`).
    static func webSocketErrorFrame(status: Int, headers: HTTPHeaders, body: [UInt8]) -> [UInt8] {
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        let error = object?["error"] ?? ["type": "server_error", "message": "Unknown error."]
        var headerMap: [String: String] = [:]
        for (name, value) in headers.entries where name.lowercased() != "content-type" {
            headerMap[name.lowercased()] = value
        }
        let frame: [String: Any] = ["type": "error", "status": status, "error": error, "headers": headerMap]
        let data = (try? JSONSerialization.data(withJSONObject: frame, options: [.sortedKeys])) ?? Data()
        return Array(data)
    }
}
