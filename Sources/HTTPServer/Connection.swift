import CSightlineSys
import Glibc
import LogRedaction

/// One accepted TCP connection: reads and parses requests, dispatches them one at a time, writes responses.
///
/// Confined to its event loop's thread. Requests are served strictly in order: while one is in flight,
/// further (pipelined) bytes are only buffered, up to `pipelineBufferLimit`; then reading pauses but
/// `EPOLLRDHUP` stays registered so a disconnect is still seen at once. Timeouts are deadlines checked by
/// the loop's sweep. Server-generated errors are answered in the OpenAI shape with `Connection: close`.
/// Emits through `HTTPServerObserver`: `bytesReceived`, `bytesSent`, `protocolError`.
/// Does not know about routes or the response's meaning.
final class Connection {
    enum Phase {
        /// Waiting for (more of) a request.
        case reading
        /// A request is with the handler; its response is not finished.
        case responding
        /// The last response is queued; close once it is written.
        case closing
        /// Write side shut down; draining the client's leftovers briefly before closing (avoids an RST
        /// that could destroy the response before the client read it).
        case lingering
        case closed
        /// Upgraded: bytes are WebSocket frames (`Connection+WebSocket.swift`).
        case webSocket
    }

    enum DeadlineKind { case none, idle, header, body, closing, webSocketIdle }

    enum BodyMode { case none, discard, chunked, raw, closeDelimited }

    unowned let loop: EventLoop
    let fd: Int32
    let token: UInt64
    let remoteAddress: String
    let shared = ConnectionShared()
    var phase = Phase.reading
    var parser: HTTPRequestParser
    var inbound: [UInt8] = []
    var inboundStart = 0
    var outbound: [UInt8] = []
    var outboundStart = 0
    var registeredEvents: UInt32
    var readPaused = false
    var isProcessing = false
    var isDirty = false
    var deadline: UInt64 = 0
    var deadlineKind = DeadlineKind.none
    var lingerBytes = 0
    /// The client half-closed while an answer was still going out (`peerClosed`): nothing more is read, and the
    /// connection closes as soon as the answer is written.
    var peerHalfClosed = false

    // The request in flight.
    var current: HTTPResponder?
    var keepAlive = true
    var isHeadRequest = false
    var minorVersion = 1
    var responseStarted = false
    var bodyMode = BodyMode.none
    var writableWaiters: [@Sendable () -> Void] = []
    /// Set once the connection is upgraded.
    var webSocket: WebSocketSession?
    /// The connection was upgraded (`webSocket` is cleared when it closes; this is not).
    var upgraded = false

    var pipelineBufferLimit: Int { max(64 * 1024, loop.core.configuration.maxHeaderBytes) }

    init(loop: EventLoop, fd: Int32, token: UInt64, remoteAddress: String) {
        self.loop = loop
        self.fd = fd
        self.token = token
        self.remoteAddress = remoteAddress
        let configuration = loop.core.configuration
        parser = HTTPRequestParser(
            maxHeaderBytes: configuration.maxHeaderBytes,
            maxBodyBytes: configuration.maxBodyBytes
        )
        registeredEvents = sl_epollin() | sl_epollrdhup()
        setDeadline(.header)
    }

    func setDeadline(_ kind: DeadlineKind) {
        let configuration = loop.core.configuration
        deadlineKind = kind
        let seconds: Double
        switch kind {
        case .none:
            deadline = 0
            return
        case .idle: seconds = configuration.idleTimeoutSeconds
        case .header: seconds = configuration.headerReadTimeoutSeconds
        case .body: seconds = configuration.bodyReadTimeoutSeconds
        case .closing: seconds = webSocket?.configuration.closeTimeoutSeconds ?? 2
        case .webSocketIdle:
            seconds = webSocket?.configuration.idleTimeoutSeconds ?? 0
            if seconds <= 0 {
                deadline = 0
                return
            }
        }
        deadline = loop.now + max(1_000_000, MonotonicClock.nanoseconds(seconds))
    }

    // MARK: Events

    func handleEvents(_ events: UInt32) {
        if events & sl_epollerr() != 0 {
            close()
            return
        }
        if events & sl_epollin() != 0 {
            readAvailable()
            if phase == .closed { return }
        }
        if events & sl_epollout() != 0 {
            flush()
            if phase == .closed { return }
        }
        if events & (sl_epollhup() | sl_epollrdhup()) != 0 {
            // A half-close with bytes still unread comes with EPOLLIN: read on, and the end of the stream arrives
            // as a 0-byte read (`readAvailable`) once everything the client sent before it was taken.
            if events & sl_epollhup() == 0 && events & sl_epollin() != 0 && !readPaused && phase != .closed { return }
            peerClosed(atEndOfStream: false)
        }
    }

    private func readAvailable() {
        let scratch = loop.readScratch
        for _ in 0..<4 {
            let n = recv(fd, scratch.baseAddress, scratch.count, 0)
            if n > 0 {
                loop.core.observer.bytesReceived(n)
                ingest(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
                if phase == .closed || readPaused || n < scratch.count { return }
            } else if n == 0 {
                peerClosed(atEndOfStream: true)
                return
            } else {
                let e = errno
                if e == EINTR { continue }
                if e != EAGAIN && e != EWOULDBLOCK { close() }
                return
            }
        }
    }

    /// The client closed (or half-closed) its side. A response in flight is abandoned (its `onClose`
    /// runs). An answer already complete in the output buffer is still sent in full: a client that half-closes
    /// after its request may be reading it. The connection then stops reading and closes once the answer is out,
    /// bounded by the idle timeout (and by `EPIPE` if the client is gone). Until 2026-12-07 the answer got one
    /// write and the rest was dropped, so a client saw 3.5 of 4 MiB and no error.
    ///
    /// `atEndOfStream`: a read returned 0, so everything the client sent was read and parsed. Only then is a
    /// partial request left over bad input, answered 400 `incomplete_request` (a half-closed client can read it)
    /// and counted; until 2026-12-07 the connection closed without either. Line breaks alone between requests are
    /// not a request.
    private func peerClosed(atEndOfStream: Bool) {
        if atEndOfStream, phase == .reading, parser.isReadingBody || holdsPartialRequest {
            sendError(.incompleteRequest)
        }
        let answered = phase == .reading || phase == .closing
        if answered && outboundStart < outbound.count {
            flush()
            guard phase != .closed else { return }
            if outboundStart < outbound.count {
                keepAlive = false
                peerHalfClosed = true
                phase = .closing
                // Renewed by each write's progress (`flush`), unlike the fixed `.closing` deadline of an error.
                setDeadline(.idle)
                updateInterest()
                return
            }
            if phase == .lingering { return }  // the flush finished the answer and already began to close
        }
        close()
    }

    /// Bytes of a next request are buffered, other than the line breaks a client may send between requests.
    private var holdsPartialRequest: Bool {
        inbound[inboundStart...].contains { $0 != 0x0D && $0 != 0x0A }
    }

    private func ingest(_ bytes: UnsafeRawBufferPointer) {
        switch phase {
        case .closed, .closing:
            return
        case .webSocket:
            webSocketIngest(bytes)
        case .lingering:
            lingerBytes += bytes.count
            if lingerBytes > 1 << 20 { close() }
        case .responding:
            inbound.appendRaw(bytes)
            if inbound.count - inboundStart >= pipelineBufferLimit {
                readPaused = true
                updateInterest()
            }
        case .reading:
            if deadlineKind == .idle { setDeadline(.header) }
            if inboundStart == inbound.count {
                // Fast path: parse straight from the read buffer; keep only what is left over.
                let consumed = parseLoop(bytes)
                if phase == .reading || phase == .responding || phase == .webSocket, consumed < bytes.count {
                    inbound.appendRaw(UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
                    // Part of the next request is here: its head is timed, not the idle keep-alive.
                    if phase == .reading, !readPaused, deadlineKind == .idle { setDeadline(.header) }
                }
                compactInbound()
                takeOverInbound()
            } else {
                inbound.appendRaw(bytes)
                processInbound()
            }
        }
    }

    /// Parses buffered bytes while no request is in flight.
    func processInbound() {
        guard !isProcessing, phase == .reading, !readPaused, inboundStart < inbound.count else { return }
        // Parse from a moved-out copy so callbacks reached from the handler never overlap an access to
        // `inbound`; nothing appends to it while the parse loop runs (no reads happen in between).
        let local = inbound
        inbound = []
        let start = inboundStart
        let consumed = local.withUnsafeBytes { parseLoop(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        guard phase != .closed else { return }
        inbound = local
        inboundStart = start + consumed
        if phase == .reading, !readPaused, deadlineKind == .idle, inboundStart < inbound.count { setDeadline(.header) }
        compactInbound()
        takeOverInbound()
    }

    private func compactInbound() {
        if inboundStart >= inbound.count {
            // Keep a buffer the size of a request head, not of the last body: a Codex history is tens of KB,
            // and a thousand streaming connections would each hold one while their response runs.
            inbound.removeAll(keepingCapacity: inbound.capacity <= 16 * 1024)
            inboundStart = 0
        } else if inboundStart >= 4096 && inboundStart * 2 >= inbound.count {
            inbound.removeSubrange(0..<inboundStart)
            inboundStart = 0
        }
    }

    /// Runs the parser over `bytes` until a request is in flight, input runs out or the request fails.
    /// Returns the bytes consumed.
    private func parseLoop(_ bytes: UnsafeRawBufferPointer) -> Int {
        isProcessing = true
        defer { isProcessing = false }
        var offset = 0
        // `readPaused`: answers the client is not reading have piled up (`pauseReadingForBacklog`); the rest waits.
        while phase == .reading, !readPaused {
            let (consumed, event) = parser.parse(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            offset += consumed
            switch event {
            case .needMore:
                return offset
            case .head(let expectsContinue):
                setDeadline(.body)
                if expectsContinue {
                    appendOutbound("HTTP/1.1 100 Continue\r\n\r\n")
                    markDirty()
                }
            case .request(var request, let keepAlive):
                request.remoteAddress = remoteAddress
                dispatch(request, keepAlive: keepAlive)
            case .failed(let error):
                sendError(error)
                return offset
            }
        }
        return offset
    }

    private func dispatch(_ request: HTTPRequest, keepAlive: Bool) {
        phase = .responding
        setDeadline(.none)
        let configuration = loop.core.configuration
        let responder = HTTPResponder(
            loop: loop,
            token: token,
            shared: shared,
            remoteAddress: remoteAddress,
            highWaterMark: configuration.writeHighWaterMark
        )
        current = responder
        self.keepAlive = keepAlive && !loop.draining
        isHeadRequest = request.method == "HEAD"
        minorVersion = request.minorVersion
        responseStarted = false
        bodyMode = .none
        loop.core.handler.handle(request, responder: responder)
    }

    /// Answers a request the server refuses by itself, then closes.
    func sendError(_ error: HTTPParseError) {
        loop.core.observer.protocolError(reason: error.reason, status: error.status)
        let body = OpenAIErrorBody.json(message: error.message, code: error.reason)
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        keepAlive = false
        isHeadRequest = false
        appendHead(status: error.status, headers: headers, contentLength: body.count)
        appendOutbound(body)
        phase = .closing
        setDeadline(.closing)
        markDirty()
    }

    func deadlineExpired() {
        switch deadlineKind {
        case .none:
            deadline = 0
        case .idle:
            // Nothing is sent: status 0, so the close counts as a protocol event, never as a request answered.
            loop.core.observer.protocolError(reason: "idle_timeout", status: 0)
            close()
        case .header:
            if phase != .reading { return setDeadline(.none) }
            if inboundStart == inbound.count {
                // Nothing of a request arrived: an idle connection, closed without an answer.
                loop.core.observer.protocolError(reason: "idle_timeout", status: 0)
                close()
            } else {
                sendError(.headerTimeout)
            }
        case .body:
            if phase == .reading { sendError(.bodyTimeout) } else { setDeadline(.none) }
        case .closing:
            close()
        case .webSocketIdle:
            webSocketInitiateClose(code: WebSocketCloseCode.goingAway, reason: "idle timeout")
        }
    }

    /// Shutdown began: idle connections close now; a request in flight finishes, then the connection closes.
    func beginDrain() {
        switch phase {
        case .reading where !parser.isReadingBody && outboundStart < outbound.count:
            // An answer is still going out: it finishes (bounded by the drain deadline), then the connection closes.
            keepAlive = false
            phase = .closing
            setDeadline(.idle)
        case .reading where !parser.isReadingBody:
            close()
        case .reading, .responding:
            keepAlive = false
        case .webSocket:
            webSocketInitiateClose(code: WebSocketCloseCode.goingAway, reason: "server shutting down")
        case .closing, .lingering, .closed:
            break
        }
    }

    func close() {
        guard phase != .closed else { return }
        phase = .closed
        deadline = 0
        Glibc.close(fd)
        shared.closed.store(true, ordering: .releasing)
        loop.remove(self)
        if let responder = current {
            current = nil
            if !responder.finishedByCaller { loop.deferred.append { responder.connectionClosed() } }
        }
        webSocketConnectionClosed()
        writableWaiters.removeAll()
        outbound = []
        outboundStart = 0
        inbound = []
        inboundStart = 0
    }
}

@available(*, unavailable)
extension Connection: Sendable {}
