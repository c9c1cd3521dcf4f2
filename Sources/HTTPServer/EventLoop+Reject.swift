import CSightlineSys
import Glibc

/// Turning away a fresh connection over a connection limit: one canned OpenAI-shape answer, then close.
extension EventLoop {
    /// Why a fresh connection is turned away before any request is read.
    enum Rejection {
        /// `maxConnections` reached: 503.
        case serverFull
        /// `maxConnectionsPerClient` reached for the peer's address: 429.
        case clientFull
    }

    func reject(_ fd: Int32, _ rejection: Rejection) {
        let head: StaticString
        let body: [UInt8]
        switch rejection {
        case .serverFull:
            core.observer.protocolError(reason: "too_many_connections", status: 503)
            head = "HTTP/1.1 503 Service Unavailable"
            body = OpenAIErrorBody.json(
                message: "The server has too many open connections.",
                type: "server_error",
                code: "too_many_connections"
            )
        case .clientFull:
            core.observer.protocolError(reason: "too_many_client_connections", status: 429)
            head = "HTTP/1.1 429 Too Many Requests"
            body = OpenAIErrorBody.json(
                message: "Too many open connections from this client address; reuse or close connections.",
                type: "rate_limit_error",
                code: "too_many_connections"
            )
        }
        var out: [UInt8] = []
        out.appendASCII(head)
        out.appendASCII("\r\nContent-Type: application/json\r\nRetry-After: 1\r\nContent-Length: ")
        out.appendDecimal(body.count)
        out.appendASCII("\r\nConnection: close\r\n\r\n")
        out.append(contentsOf: body)
        // Best effort: a fresh socket's send buffer takes this at once or not at all.
        _ = out.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
        Glibc.close(fd)
    }
}
