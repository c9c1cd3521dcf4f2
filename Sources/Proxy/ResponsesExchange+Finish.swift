import Foundation
import HTTPServer
import LogRedaction

extension ResponsesExchange {
    /// Records the end of the request exactly once: request counter and duration, the SERVER span, and
    /// the access-log record "request finished". `status` 499 means the client went away first.
    ///
    /// `countedAs` is set for a stream that ended in failure after its 200 head: the status a non-streaming
    /// client gets for the same failure. The request counter, the span status and the record's level go by it,
    /// so a Codex turn cut mid-stream counts as the 5xx it is, not as a 2xx; the record keeps the status sent.
    func finish(status: Int, error: String?, countedAs: Int? = nil) {
        let s = state.withLock { s -> State? in
            guard !s.finished else { return nil }
            s.finished = true
            s.liveAttempt = nil
            s.status = status
            return s
        }
        guard let s else { return }
        // Decisions still open settle with the request, whichever path ended it (a client gone during a retry or a
        // token refresh ends it here directly): `attempted = succeeded + gave_up` holds after every request.
        settlePending(error == nil ? .succeeded : .gaveUp)
        let duration = max(0, ctx.monotonic() - started)
        ctx.metrics.inFlightRequests.add(-1)
        let counted = countedAs ?? status
        ctx.metrics.requests(route: route.metricLabel, transport: "http", statusClass: Self.statusClass(counted))
            .increment()
        // Only what went upstream is timed: a request answered at once (a dead or foreign anchor, an exhausted pool)
        // is not, as a local 401 or 404 is not. Observed, each client retry of a dead conversation pulled the latency
        // quantiles towards 0 while requests were failing.
        if s.attempt > 0 {
            ctx.metrics.requestDuration(route: route.metricLabel, transport: "http").observe(duration)
        }
        var attributes = [
            LogAttribute("http.request.method", .string(route == .models ? "GET" : "POST")),
            LogAttribute("http.route", .string(route.metricLabel)),
            LogAttribute("http.response.status_code", .int(status)),
            LogAttribute("sightline.transport", .string("http")),
            LogAttribute("sightline.stream", .bool(prepared.clientStreaming)),
            LogAttribute("sightline.recovery.attempts", .int(s.attempt)),
            LogAttribute("sightline.duration_seconds", .double(duration)),
        ]
        if let a = s.accountLabel { attributes.append(LogAttribute("sightline.account", .pseudonym(a))) }
        if let p = prepared.sessionPseudonym { attributes.append(LogAttribute("sightline.session", .pseudonym(p))) }
        if let p = prepared.principalPseudonym { attributes.append(LogAttribute("sightline.principal", .pseudonym(p))) }
        if let source = prepared.continuityKey?.source ?? (route == .responses ? .account : nil) {
            attributes.append(LogAttribute("sightline.continuity_key.source", .string(source.rawValue)))
        }
        if let error { attributes.append(LogAttribute("error.type", .string(error))) }
        for a in attributes { serverSpan.setAttribute(a.key, a.value) }
        serverSpan.end(status: error == nil || counted < 500 && counted != 499 ? (error == nil ? .ok : .unset) : .error)
        ctx.logger.log(
            counted >= 500 ? .warn : .info,
            "request finished",
            event: "sightline.request",
            trace: trace,
            attributes
        )
    }

    static func statusClass(_ status: Int) -> String {
        switch status {
        case ..<200: "1xx"
        case 200..<300: "2xx"
        case 300..<400: "3xx"
        case 400..<500: "4xx"
        default: "5xx"
        }
    }
}
