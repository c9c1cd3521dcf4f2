import Dispatch
import HTTPServer
import Synchronization

/// Routes each HTTP request to `SimulatorEngine` and performs the outcome on the connection.
///
/// Routes: `POST /backend-api/codex/responses[/compact]` (ChatGPT-account mode), `POST /v1/responses[/compact]`
/// (API-key mode), `GET …/models`, `POST /oauth/token`, the admin routes under `/__sim/`, and WebSocket
/// upgrades on `…/codex/responses` and `/v1/responses` (`SimulatorWebSocketRegistry`); an upgrade on any other
/// responses path (`/compact`) gets 426. Everything else is 404. Emits no metrics and no logs: the request log
/// is `/__sim/requests`.
/// Concurrency: `Sendable`; called on event-loop threads and never blocks them (delayed writes go through
/// `StreamWriter`'s timer queue).
final class SimulatorHTTPHandler: HTTPHandler, Sendable {
    let engine: SimulatorEngine
    /// Streams in progress, so shutdown can end silent ones at once.
    private let active = Mutex<[ObjectIdentifier: StreamWriter]>([:])
    let webSockets = SimulatorWebSocketRegistry()

    init(engine: SimulatorEngine) { self.engine = engine }

    func handle(_ request: HTTPRequest, responder: HTTPResponder) {
        if request.isWebSocketUpgrade, request.path == "/backend-api/codex/responses" || request.path == "/v1/responses"
        {
            let mode: TokenLedger.Mode = request.path == "/v1/responses" ? .apiKey : .chatgpt
            webSockets.upgrade(request, route: .init(mode: mode, compact: false), engine: engine, responder: responder)
            return
        }
        let latency = engine.configuration.tokenLatencyMs
        if latency > 0, request.method == "POST", request.path == "/oauth/token" {
            Self.tokenTimers.asyncAfter(deadline: .now() + .milliseconds(latency)) { [self] in
                // The rotation commits only when the reply can still reach a connected client.
                guard !responder.isFinished else { return }
                route(request, sink: responder)
            }
            return
        }
        route(request, sink: responder)
    }

    private static let tokenTimers = DispatchQueue(label: "sightline.simulator.token-latency")

    func route(_ request: HTTPRequest, sink: any SimulatorResponseSink) {
        perform(outcome(for: request), sink: sink)
    }

    func outcome(for request: HTTPRequest) -> SimulatorOutcome {
        let path = request.path
        if request.method == "POST" && path == "/__sim/websocket/close-all" {
            let body = Array("{\"closed\":\(webSockets.closeAll())}".utf8)
            return .complete(status: 200, headers: ["content-type": "application/json"], body: body)
        }
        if path.hasPrefix("/__sim/") { return engine.admin(method: request.method, path: path, body: request.body) }
        let responsesRoutes: [String: SimulatorEngine.Route] = [
            "/backend-api/codex/responses": .init(mode: .chatgpt, compact: false),
            "/backend-api/codex/responses/compact": .init(mode: .chatgpt, compact: true),
            "/v1/responses": .init(mode: .apiKey, compact: false),
            "/v1/responses/compact": .init(mode: .apiKey, compact: true),
        ]
        if let route = responsesRoutes[path] {
            if request.method == "POST" {
                return engine.responses(route: route, path: path, headers: request.headers, body: request.body)
            }
            if request.isWebSocketUpgrade {
                let body = ErrorBodies.invalidRequest("WebSocket is not served on this path; use HTTP.")
                return .complete(status: 426, headers: ["content-type": "application/json"], body: body)
            }
            return methodNotAllowed()
        }
        switch (request.method, path) {
        case ("GET", "/backend-api/codex/models"): return SimulatorEngine.models(chatgpt: true)
        case ("GET", "/v1/models"): return SimulatorEngine.models(chatgpt: false)
        case ("POST", "/oauth/token"): return engine.token(headers: request.headers, body: request.body)
        default:
            let body = ErrorBodies.invalidRequest("Unknown route \(request.method) \(path).")
            return .complete(status: 404, headers: ["content-type": "application/json"], body: body)
        }
    }

    private func methodNotAllowed() -> SimulatorOutcome {
        .complete(
            status: 405,
            headers: ["content-type": "application/json"],
            body: ErrorBodies.invalidRequest("Method not allowed.")
        )
    }

    func perform(_ outcome: SimulatorOutcome, sink: any SimulatorResponseSink) {
        switch outcome {
        case .complete(let status, let headers, let body):
            sink.respond(status: status, headers: headers, body: body)
        case .reset:
            sink.abort()
        case .stream(let plan):
            let writer = StreamWriter(plan: plan, sink: sink) { [weak self] writer in
                _ = self?.active.withLock { $0.removeValue(forKey: ObjectIdentifier(writer)) }
            }
            active.withLock { $0[ObjectIdentifier(writer)] = writer }
            writer.start()
        }
    }

    /// Aborts every stream still in progress (silent or slow ones), for shutdown.
    func cancelActiveStreams() {
        let writers = active.withLock { Array($0.values) }
        for writer in writers { writer.cancel() }
    }
}
