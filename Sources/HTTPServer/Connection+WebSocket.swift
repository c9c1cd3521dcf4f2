/// Loop-side state of one upgraded connection. Confined to the loop thread.
final class WebSocketSession {
    let handle: WebSocketConnection
    let handler: any WebSocketHandler
    let configuration: WebSocketConfiguration
    var reader: WebSocketReader
    var closeSent = false
    var closeReceived = false
    var closeDelivered = false

    init(handle: WebSocketConnection, handler: any WebSocketHandler, configuration: WebSocketConfiguration) {
        self.handle = handle
        self.handler = handler
        self.configuration = configuration
        reader = WebSocketReader(
            role: .server,
            maxMessageBytes: configuration.maxMessageBytes,
            maxFrameBytes: configuration.maxFrameBytes
        )
    }
}

@available(*, unavailable)
extension WebSocketSession: Sendable {}

/// WebSocket mode of a connection (RFC 6455 server side): after the 101, inbound bytes are frames.
/// Pings are answered with pongs, a client close is echoed and TCP is closed after it (write side shut
/// first, then the usual linger), protocol errors fail the connection with their close code.
extension Connection {
    /// Sends the 101 and switches to WebSocket mode; leftover bytes after the request are frames.
    func upgrade(
        _ responder: HTTPResponder,
        headers: HTTPHeaders,
        handle: WebSocketConnection,
        handler: any WebSocketHandler,
        configuration: WebSocketConfiguration
    ) {
        guard phase == .responding, current === responder, !responseStarted else { return }
        responseStarted = true
        appendHead(status: 101, headers: headers)
        current?.settle()
        current = nil
        phase = .webSocket
        webSocket = WebSocketSession(handle: handle, handler: handler, configuration: configuration)
        upgraded = true
        loop.core.observer.connectionUpgraded()
        keepAlive = false
        if readPaused {
            readPaused = false
            updateInterest()
        }
        setDeadline(.webSocketIdle)
        markDirty()
        loop.deferred.append { handler.didOpen(handle) }
        if !isProcessing { takeOverInbound() }
    }

    /// Feeds bytes buffered while the connection was still HTTP (sent right after the request) as frames.
    func takeOverInbound() {
        guard phase == .webSocket, inboundStart < inbound.count else { return }
        let rest = Array(inbound[inboundStart...])
        inbound = []
        inboundStart = 0
        rest.withUnsafeBytes { webSocketIngest($0) }
    }

    func webSocketIngest(_ bytes: UnsafeRawBufferPointer) {
        guard let session = webSocket, !session.closeReceived else { return }
        session.reader.append(bytes)
        if !session.closeSent { setDeadline(.webSocketIdle) }
        while phase == .webSocket {
            let event: WebSocketEvent?
            do {
                event = try session.reader.next()
            } catch {
                failWebSocket(error)
                return
            }
            guard let event else { return }
            let handler = session.handler
            switch event {
            case .text(let text):
                if !session.closeSent { loop.deferred.append { handler.didReceiveText(text) } }
            case .binary(let bytes):
                if !session.closeSent { loop.deferred.append { handler.didReceiveBinary(bytes) } }
            case .ping(let payload):
                if !session.closeSent { appendOutbound(WebSocketFrameEncoder.server(.pong, payload)) }
                markDirty()
                if pauseReadingForBacklog() { return }  // pongs the client does not read: read no more pings
            case .pong:
                break
            case .close(let code, let reason):
                session.closeReceived = true
                if !session.closeSent {
                    // Echo the client's code (RFC 6455 §5.5.1), then close TCP once it is written.
                    let payload = code.map { WebSocketFrameEncoder.closePayload(code: $0, reason: "") } ?? []
                    appendOutbound(WebSocketFrameEncoder.server(.close, payload))
                    session.closeSent = true
                    deliverClose(code ?? WebSocketCloseCode.noStatus, reason)
                }
                phase = .closing
                setDeadline(.closing)
                markDirty()
            }
        }
    }

    /// Fails the connection (RFC 6455 §7.1.7): close frame with the error's code, then close TCP.
    private func failWebSocket(_ error: WebSocketProtocolError) {
        loop.core.observer.protocolError(reason: "websocket_" + error.reason, status: Int(error.closeCode))
        if let session = webSocket, !session.closeSent {
            let payload = WebSocketFrameEncoder.closePayload(code: error.closeCode, reason: error.reason)
            appendOutbound(WebSocketFrameEncoder.server(.close, payload))
            session.closeSent = true
            deliverClose(error.closeCode, error.reason)
        }
        phase = .closing
        setDeadline(.closing)
        markDirty()
    }

    /// The server starts the close handshake (application `close`, idle timeout, shutdown).
    func webSocketInitiateClose(code: UInt16, reason: String) {
        guard phase == .webSocket, let session = webSocket, !session.closeSent else { return }
        appendOutbound(
            WebSocketFrameEncoder.server(.close, WebSocketFrameEncoder.closePayload(code: code, reason: reason))
        )
        session.closeSent = true
        deliverClose(code, reason)
        setDeadline(.closing)
        markDirty()
    }

    func webSocketClose(_ handle: WebSocketConnection, code: UInt16, reason: String) {
        guard webSocket?.handle === handle else { return }
        webSocketInitiateClose(code: code, reason: reason)
    }

    /// `frame.count` was already added to `shared.queuedBytes` by `WebSocketConnection`.
    func webSocketSend(_ handle: WebSocketConnection, _ frame: [UInt8]) {
        guard phase == .webSocket, let session = webSocket, session.handle === handle, !session.closeSent else {
            shared.queuedBytes.subtract(frame.count, ordering: .relaxed)
            notifyWritableIfBelowLowWater()
            return
        }
        outbound.append(contentsOf: frame)
        markDirty()
    }

    func webSocketAbort(_ handle: WebSocketConnection) {
        guard webSocket?.handle === handle else { return }
        // Frames sent before the abort still go out (best effort, what the socket takes now).
        flush()
        close()
    }

    func webSocketWatchWritable(_ handle: WebSocketConnection, _ callback: @escaping @Sendable () -> Void) {
        guard webSocket?.handle === handle else { return }
        watchWritable(callback)
    }

    private func deliverClose(_ code: UInt16, _ reason: String) {
        guard let session = webSocket, !session.closeDelivered else { return }
        session.closeDelivered = true
        session.handle.markClosing()
        let handler = session.handler
        loop.deferred.append { handler.didClose(code: code, reason: reason) }
    }

    /// The TCP connection is gone: a session that never saw a close frame ends with 1006.
    func webSocketConnectionClosed() {
        guard webSocket != nil else { return }
        deliverClose(WebSocketCloseCode.abnormal, "")
        webSocket = nil
    }
}
