import Foundation
import HTTPServer
import LogRedaction
import Metrics
import WireFormats

/// The proxy's `HTTPHandler`: routes each request, answers local routes (`/healthz`, `/readyz`,
/// `/metrics`) itself, authenticates the rest and hands them to a `ResponsesExchange`.
///
/// Runs on event-loop threads and never blocks: body decoding and the top-level field rewrite are
/// single passes over the bytes; the upstream transfer runs on the same loop, driven by its sockets, and
/// transcript compression on a Dispatch queue.
/// Emits: `sightline_client_auth_failures_total`, `sightline_http_protocol_errors_total{reason="invalid_json"|
/// "unsupported_media_type"|"proxy_at_capacity"|"metrics_unauthorized"|"admin_unauthorized"}`, and for locally answered
/// requests `sightline_requests_total`.
final class ProxyHandler: HTTPHandler {
    let ctx: ProxyContext
    let draining: @Sendable () -> Bool
    /// Downstream Responses WebSockets (upgrades on the responses paths).
    let webSockets: WebSocketHub

    init(ctx: ProxyContext, draining: @escaping @Sendable () -> Bool) {
        self.ctx = ctx
        self.draining = draining
        webSockets = WebSocketHub(ctx: ctx)
    }

    func handle(_ request: HTTPRequest, responder: HTTPResponder) {
        let route = ProxyRoute.classify(method: request.method, path: request.path, prefixes: ctx.prefixes)
        switch route {
        case .health:
            respondLocal(
                route,
                responder,
                status: 200,
                contentType: "application/json",
                body: Array(#"{"status":"ok"}"#.utf8)
            )
        case .ready:
            let ready = !draining() && !ctx.pool.accounts.isEmpty
            respondLocal(
                route,
                responder,
                status: ready ? 200 : 503,
                contentType: "application/json",
                body: Array((ready ? #"{"status":"ready"}"# : #"{"status":"not_ready"}"#).utf8)
            )
        case .metrics where ctx.configuration.metricsOnMainListener:
            countLocal(route, MetricsAccess.serve(request, ctx: ctx, responder: responder))
        case .metrics:
            // Served only on `metrics.listen`: this listener does not reveal that /metrics exists.
            localError(.notFound, responder, .notFound)
        case .admin:
            // Without an admin token the routes do not exist: the same 404 as any unknown path.
            guard let status = AdminEndpoint.serve(request, ctx: ctx, responder: responder) else {
                return localError(.notFound, responder, .notFound)
            }
            countLocal(route, status)
        case .notFound:
            localError(route, responder, .notFound)
        case .methodNotAllowed(let allowed):
            localError(route, responder, .methodNotAllowed(allowed))
        case .responses, .responsesCompact, .models:
            proxied(route, request, responder)
        }
    }

    private func proxied(_ route: ProxyRoute, _ request: HTTPRequest, _ responder: HTTPResponder) {
        let principal: String
        switch ctx.authenticator.authenticate(request.headers) {
        case .admitted(let p):
            principal = p
        case .rejected:
            ctx.metrics.clientAuthFailures.increment()
            if request.isWebSocketUpgrade { webSockets.refused("unauthorized") }
            localError(route, responder, .unauthorized)
            return
        }
        if route == .responses && request.isWebSocketUpgrade {
            if draining() {
                webSockets.refused("draining")
                localError(route, responder, .draining)
            } else {
                webSockets.accept(request, responder: responder, route: route, principal: principal)
            }
            return
        }
        if route == .responses && request.method == "GET" {
            localError(route, responder, .methodNotAllowed("POST"))
            return
        }
        if draining() {
            localError(route, responder, .draining)
            return
        }
        let inFlightLimit = ctx.configuration.maxInFlightRequests
        if inFlightLimit > 0 && ctx.metrics.inFlightRequests.value >= Double(inFlightLimit) {
            // The gauge is read without a reservation, so concurrent loops may overshoot by at most one
            // request each: a soft cap, which is all a load-shedding limit needs.
            ctx.metrics.protocolErrors(reason: "proxy_at_capacity").increment()
            localError(route, responder, .inFlightLimit)
            return
        }
        let prepared: ResponsesExchange.Prepared
        switch RequestPreparer(ctx: ctx).prepare(route: route, request: request, principal: principal) {
        case .success(let p):
            prepared = p
        case .failure(let e):
            if e.code == "invalid_json" { ctx.metrics.protocolErrors(reason: "invalid_json").increment() }
            if e.status == 415 { ctx.metrics.protocolErrors(reason: "unsupported_media_type").increment() }
            if e.code == "invalid_content_encoding" || e.code == "body_too_large" {
                ctx.metrics.protocolErrors(reason: e.code).increment()
            }
            localError(route, responder, e)
            return
        }
        let incoming = request.headers["traceparent"].flatMap { TraceContext(traceparent: $0) }
        let server = ctx.logger.startSpan(.server, "POST \(route.metricLabel)", parent: incoming)
        if webSockets.carry(
            route: route,
            query: request.query,
            prepared: prepared,
            responder: responder,
            trace: server.context,
            serverSpan: server
        ) {
            return
        }
        let exchange = ResponsesExchange(
            ctx: ctx,
            route: route,
            responder: responder,
            query: request.query,
            prepared: prepared,
            trace: server.context,
            serverSpan: server
        )
        exchange.start()
    }

    private func respondLocal(
        _ route: ProxyRoute,
        _ responder: HTTPResponder,
        status: Int,
        contentType: String,
        body: [UInt8]
    ) {
        var h = HTTPHeaders()
        h.add("content-type", contentType)
        countLocal(route, status)
        responder.respond(status: status, headers: h, body: body)
    }

    private func localError(_ route: ProxyRoute, _ responder: HTTPResponder, _ error: ProxyErrorResponse) {
        countLocal(route, error.status)
        error.send(responder)
        ctx.logger.log(
            .info,
            "request rejected",
            event: "sightline.request",
            [
                LogAttribute("http.route", .string(route.metricLabel)),
                LogAttribute("http.response.status_code", .int(error.status)),
                LogAttribute("error.type", .string(error.code)),
            ]
        )
    }

    private func countLocal(_ route: ProxyRoute, _ status: Int) {
        ctx.metrics.requests(
            route: route.metricLabel,
            transport: "http",
            statusClass: ResponsesExchange.statusClass(status)
        ).increment()
    }
}
