extension HTTPResponder {
    /// Upgrades this request's connection to WebSocket (RFC 6455), or refuses it.
    ///
    /// Validates the handshake (`WebSocketHandshake.validate`). If it is invalid, answers 400 (426 with
    /// `Sec-WebSocket-Version: 13` for a wrong version) in the OpenAI error shape and returns nil. Otherwise
    /// queues `101 Switching Protocols` with `headers` plus the handshake fields (no
    /// `Sec-WebSocket-Extensions`: permessage-deflate is declined), switches the connection to frames on its
    /// loop and returns the handle; `handler.didOpen` receives the same handle on the loop thread.
    /// Like `respond`, this finishes the request: later responder calls are ignored.
    @discardableResult
    public func upgradeToWebSocket(
        request: HTTPRequest,
        headers: HTTPHeaders = HTTPHeaders(),
        configuration: WebSocketConfiguration = WebSocketConfiguration(),
        handler: any WebSocketHandler
    ) -> WebSocketConnection? {
        let accept: String
        switch WebSocketHandshake.validate(method: request.method, headers: request.headers) {
        case .failure(let failure):
            var errorHeaders: HTTPHeaders = ["Content-Type": "application/json"]
            if failure.status == 426 { errorHeaders.add("Sec-WebSocket-Version", "13") }
            respond(
                status: failure.status,
                headers: errorHeaders,
                body: OpenAIErrorBody.json(message: failure.message, code: failure.reason)
            )
            return nil
        case .success(let value):
            accept = value
        }
        guard claimForUpgrade() else { return nil }
        var head = headers
        for name in ["Upgrade", "Connection", "Sec-WebSocket-Accept", "Sec-WebSocket-Extensions", "Content-Length"] {
            head.remove(name)
        }
        head.add("Upgrade", "websocket")
        head.add("Connection", "Upgrade")
        head.add("Sec-WebSocket-Accept", accept)
        let connection = WebSocketConnection(
            loop: loop,
            token: token,
            shared: shared,
            remoteAddress: remoteAddress,
            highWaterMark: writeHighWaterMark
        )
        loop.perform(.upgrade(self, headers: head, connection, handler, configuration))
        return connection
    }
}
