import HTTPServer
import Synchronization

/// The simulator's open WebSocket sessions: gives each its connection id and lets the admin API close
/// them all (`POST /__sim/websocket/close-all`, for "upstream session killed between turns").
///
/// Concurrency: `Sendable`; a `Mutex` guards the table.
final class SimulatorWebSocketRegistry: Sendable {
    private struct Table {
        var next = 0
        var sessions: [String: SimulatorWebSocketSession] = [:]
    }

    private let table = Mutex(Table())

    /// Upgrades `request` after checking its credentials; answers 401 (or a handshake error) otherwise.
    func upgrade(
        _ request: HTTPRequest,
        route: SimulatorEngine.Route,
        engine: SimulatorEngine,
        responder: HTTPResponder
    ) {
        switch engine.webSocketHandshake(route: route, path: request.path, headers: request.headers) {
        case .complete(let status, let headers, let body)?:
            responder.respond(status: status, headers: headers, body: body)
            return
        case .reset?:
            responder.abort()
            return
        default:
            break
        }
        let id = table.withLock { t -> String in
            t.next += 1
            return "ws_\(t.next)"
        }
        let session = SimulatorWebSocketSession(
            id: id,
            engine: engine,
            route: route,
            path: request.path,
            headers: request.headers
        ) { [weak self] session in
            _ = self?.table.withLock { $0.sessions.removeValue(forKey: session.id) }
        }
        table.withLock { $0.sessions[id] = session }
        var headers = HTTPHeaders()
        headers.add("x-models-etag", "sim-models-1")
        headers.add("x-simulator-connection", id)
        // Attach the handle at once (not only in `didOpen`, which runs after the 101 is flushed) so an
        // admin close-all right after the client saw the 101 reaches this socket too.
        if let connection = responder.upgradeToWebSocket(request: request, headers: headers, handler: session) {
            session.didOpen(connection)
        } else {
            _ = table.withLock { $0.sessions.removeValue(forKey: id) }
        }
    }

    /// Closes every open session with 1001; returns how many.
    func closeAll() -> Int {
        let sessions = table.withLock { Array($0.sessions.values) }
        for session in sessions {
            session.connection?.close(code: WebSocketCloseCode.goingAway, reason: "closed by simulator admin")
        }
        return sessions.count
    }

    var openCount: Int { table.withLock { $0.sessions.count } }

    /// The open session with this connection id (`x-simulator-connection`), for tests.
    func session(_ id: String) -> SimulatorWebSocketSession? { table.withLock { $0.sessions[id] } }
}
