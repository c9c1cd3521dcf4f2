import Foundation
import HTTPServer
import Synchronization

/// One simulated backend WebSocket (codex-protocol.md §5): takes `response.create` frames one at a time,
/// answers each with the same events as SSE (one JSON text frame per event) or an error frame, and keeps
/// the connection's anchor so `previous_response_id` resolves only here.
///
/// Frames that arrive while a response is streaming wait their turn. A connection older than
/// `webSocketConnectionLimitSeconds` answers its next frame with `websocket_connection_limit_reached`
/// and closes. Emits nothing but frames; requests are recorded by `SimulatorEngine` with
/// `transport: "websocket"`.
/// Concurrency: `Sendable`; callbacks come on the connection's loop thread, stream ends on timer threads;
/// state is behind a `Mutex` and no engine or connection call is made while holding it.
final class SimulatorWebSocketSession: WebSocketHandler {
    private struct State {
        var connection: WebSocketConnection?
        var queue: [[UInt8]] = []
        var busy = false
        var anchor: SimulatorWebSocketAnchor?
        /// The close callbacks of each response still in progress, by its number: dropped when it ends, so a
        /// long-lived connection does not keep every answer's `StreamWriter` (and its plan) alive.
        var closeCallbacks: [Int: [@Sendable () -> Void]] = [:]
        var responses = 0
        var closed = false
    }

    let id: String
    let engine: SimulatorEngine
    let route: SimulatorEngine.Route
    let path: String
    let headers: HTTPHeaders
    let openedAt: Double
    private let state = Mutex(State())
    private let onFinish: @Sendable (SimulatorWebSocketSession) -> Void

    init(
        id: String,
        engine: SimulatorEngine,
        route: SimulatorEngine.Route,
        path: String,
        headers: HTTPHeaders,
        onFinish: @escaping @Sendable (SimulatorWebSocketSession) -> Void
    ) {
        self.id = id
        self.engine = engine
        self.route = route
        self.path = path
        self.headers = headers
        self.openedAt = engine.clock()
        self.onFinish = onFinish
    }

    var connection: WebSocketConnection? { state.withLock { $0.connection } }

    func didOpen(_ connection: WebSocketConnection) { state.withLock { $0.connection = connection } }

    func didReceiveText(_ text: [UInt8]) {
        state.withLock { $0.queue.append(text) }
        pump()
    }

    func didReceiveBinary(_ bytes: [UInt8]) {
        connection?.close(code: WebSocketCloseCode.unsupportedData, reason: "binary frames are not supported")
    }

    func didClose(code: UInt16, reason: String) {
        let callbacks = state.withLock { s -> [@Sendable () -> Void] in
            s.closed = true
            s.queue.removeAll()
            defer { s.closeCallbacks = [:] }
            return s.closeCallbacks.values.flatMap { $0 }
        }
        for callback in callbacks { callback() }
        onFinish(self)
    }

    /// Starts the next queued frame unless one is in progress.
    private func pump() {
        let next = state.withLock { s -> ([UInt8], WebSocketConnection, SimulatorWebSocketAnchor?, Int)? in
            guard !s.busy, !s.closed, let connection = s.connection, !s.queue.isEmpty else { return nil }
            s.busy = true
            s.responses += 1
            return (s.queue.removeFirst(), connection, s.anchor, s.responses)
        }
        guard let (frame, connection, anchor, number) = next else { return }
        if engine.clock() - openedAt >= engine.configuration.webSocketConnectionLimitSeconds {
            let body = ErrorBodies.invalidRequest(
                "Responses websocket connection limit reached (60 minutes). Create a new websocket connection to continue.",
                code: "websocket_connection_limit_reached"
            )
            connection.sendText(SimulatorEngine.webSocketErrorFrame(status: 400, headers: HTTPHeaders(), body: body))
            connection.close(code: WebSocketCloseCode.normal, reason: "connection limit reached")
            return
        }
        let result = engine.webSocketResponse(
            route: route,
            path: path,
            frame: frame,
            headers: headers,
            connectionId: id,
            anchor: anchor
        )
        state.withLock { $0.anchor = result.anchor }
        let sink = SimulatorWebSocketSink(
            connection: connection,
            onEnd: { [self] in responseFinished(number) },
            onClose: { [self] callback in
                let runNow = state.withLock { s -> Bool in
                    if s.closed { return true }
                    s.closeCallbacks[number, default: []].append(callback)
                    return false
                }
                if runNow { callback() }
            }
        )
        switch result.outcome {
        case .complete(let status, let headers, let body):
            sink.respond(status: status, headers: headers, body: body)
        case .reset:
            connection.abort()
        case .stream(let plan):
            StreamWriter(plan: plan, sink: sink) { _ in }.start()
        }
    }

    private func responseFinished(_ number: Int) {
        state.withLock { s in
            s.busy = false
            s.closeCallbacks[number] = nil
        }
        pump()
    }

    /// Close callbacks still registered (tests: one response's at most, never one per answer).
    var closeCallbackCount: Int { state.withLock { $0.closeCallbacks.values.reduce(0) { $0 + $1.count } } }
}
