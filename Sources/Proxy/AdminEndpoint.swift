import HTTPServer
import LogRedaction
import WireFormats

/// Serves the operator routes under `/admin/` (docs/configuration.md, "Admin routes"), the way out of a cooling
/// state before its timed exit: reinstate an account whose cooldown the operator knows to be over, purge the
/// dead-anchor tombstones.
///
/// The routes exist only with `admin.tokenSha256` configured; without it every `/admin/` path is the same 404
/// as any unknown path. With it, a request needs that bearer token (`BearerToken`): else 401
/// `invalid_admin_token` and one `sightline_http_protocol_errors_total{reason="admin_unauthorized"}`. Each
/// action taken is one `sightline_admin_actions_total{action}` and one WARN `sightline.admin` record; an
/// account is named by its configured name in the path and by its pseudonym in the log.
/// Concurrency: stateless; runs on the event loop (every action is a few lock-held steps). A reinstatement's
/// write of `accounts.json` runs on the pool's `AccountStateWriter` queue, which sends its answer.
enum AdminEndpoint {
    static let unauthorized = ProxyErrorResponse(
        status: 401,
        type: "invalid_request_error",
        code: "invalid_admin_token",
        message: "Missing or invalid bearer token for the admin routes.",
        headers: [("www-authenticate", "Bearer")]
    )

    static let unknownAccount = ProxyErrorResponse(
        status: 404,
        type: "invalid_request_error",
        code: "unknown_account",
        message: "No account of that name in the pool."
    )

    static func notInRotation(_ state: AccountSnapshot.State) -> ProxyErrorResponse {
        ProxyErrorResponse(
            status: 409,
            type: "invalid_request_error",
            code: state.rawValue,
            message: "The account is \(state.rawValue): only a new login (sightline accounts import) brings it back."
        )
    }

    /// What the handler should do with an `/admin/` request: nil when the routes do not exist (answer the
    /// ordinary 404), else the status sent.
    static func serve(_ request: HTTPRequest, ctx: ProxyContext, responder: HTTPResponder) -> Int? {
        guard let token = ctx.configuration.adminTokenSHA256 else { return nil }
        guard BearerToken.matches(request.headers, sha256: token) else {
            ctx.metrics.protocolErrors(reason: "admin_unauthorized").increment()
            return send(unauthorized, responder)
        }
        guard let action = AdminAction(path: request.path) else { return send(.notFound, responder) }
        guard request.method == "POST" else { return send(.methodNotAllowed("POST"), responder) }
        switch action {
        case .reinstateAccount(let name):
            guard let index = ctx.pool.accounts.firstIndex(where: { $0.name == name }) else {
                return send(unknownAccount, responder)
            }
            // `persisted` only where there was a write: whether `accounts.json` took the cleared cooldown. False
            // still answers 200 (the account is back in rotation now), and the operator learns that a restart
            // before the catch-up write would bring the cooldown back.
            let body = { @Sendable (wasCooling: Bool, persisted: Bool?) in
                JSONEncoding.object(
                    [
                        ("account", JSONEncoding.string(name)), ("state", JSONEncoding.string("active")),
                        ("was_cooling", JSONEncoding.bool(wasCooling)),
                    ] + (persisted.map { [("persisted", JSONEncoding.bool($0))] } ?? [])
                )
            }
            // The answer is sent once the pool's writer has written the file (or failed to), from the writer's
            // queue, while this loop goes on serving. The responder hands it to the loop, which sends it after this
            // handler has returned and counted the request.
            let outcome = ctx.pool.reinstate(index) { written in _ = ok(body(true, written), responder) }
            switch outcome {
            case .refused(let state):
                return send(notInRotation(state), responder)
            case .reinstated(let wasCooling):
                record(
                    action,
                    ctx,
                    [
                        LogAttribute("sightline.account", .pseudonym(ctx.pool.pseudonyms[index])),
                        LogAttribute("sightline.admin.was_cooling", .bool(wasCooling)),
                    ]
                )
                // An account that was not cooling had nothing to write: answered at once.
                if !wasCooling { _ = ok(body(false, nil), responder) }
                return 200
            }
        case .purgeTombstones:
            let purged = ctx.affinity.purgeTombstones()
            record(action, ctx, [LogAttribute("sightline.admin.purged", .int(purged))])
            return ok(JSONEncoding.object([("purged", JSONEncoding.int(purged))]), responder)
        }
    }

    private static func record(_ action: AdminAction, _ ctx: ProxyContext, _ attributes: [LogAttribute]) {
        ctx.metrics.adminActions(action: action.metricLabel).increment()
        ctx.logger.log(
            .warn,
            "admin action",
            event: "sightline.admin",
            [LogAttribute("sightline.admin.action", .string(action.metricLabel))] + attributes
        )
    }

    private static func ok(_ body: [UInt8], _ responder: HTTPResponder) -> Int {
        var h = HTTPHeaders()
        h.add("content-type", "application/json")
        responder.respond(status: 200, headers: h, body: body)
        return 200
    }

    private static func send(_ error: ProxyErrorResponse, _ responder: HTTPResponder) -> Int {
        error.send(responder)
        return error.status
    }
}
