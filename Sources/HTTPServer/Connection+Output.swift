import CSightlineSys
import Glibc

extension Connection {
    /// Appends bytes that were not counted in `shared.queuedBytes` yet (head, framing, whole bodies).
    func appendOutbound(_ bytes: [UInt8]) {
        outbound.append(contentsOf: bytes)
        shared.queuedBytes.add(bytes.count, ordering: .relaxed)
    }

    func appendOutbound(_ text: StaticString) {
        outbound.appendASCII(text)
        shared.queuedBytes.add(text.utf8CodeUnitCount, ordering: .relaxed)
    }

    /// Writes the status line and headers. Adds only what the handler did not set: `Content-Length` (when
    /// `contentLength` is given), `Transfer-Encoding: chunked` (when `chunked`), and `Connection`.
    func appendHead(status: Int, headers: HTTPHeaders, contentLength: Int? = nil, chunked: Bool = false) {
        let before = outbound.count
        outbound.appendASCII("HTTP/1.1 ")
        outbound.appendDecimal(status)
        outbound.append(ASCII.space)
        outbound.appendASCII(HTTPStatus.reasonPhrase(status))
        outbound.appendASCII("\r\n")
        var hasConnection = false
        var hasContentLength = false
        var hasTransferEncoding = false
        for (name, value) in headers.entries {
            switch name.utf8.count {
            case 10 where HTTPHeaders.equalFold(name, "connection"):
                hasConnection = true
                if value.lowercased().contains("close") { keepAlive = false }
            case 14 where HTTPHeaders.equalFold(name, "content-length"): hasContentLength = true
            case 17 where HTTPHeaders.equalFold(name, "transfer-encoding"): hasTransferEncoding = true
            default: break
            }
            outbound.appendString(name)
            outbound.appendASCII(": ")
            outbound.appendString(value)
            outbound.appendASCII("\r\n")
        }
        if let contentLength, !hasContentLength {
            outbound.appendASCII("Content-Length: ")
            outbound.appendDecimal(contentLength)
            outbound.appendASCII("\r\n")
        }
        if chunked && !hasTransferEncoding { outbound.appendASCII("Transfer-Encoding: chunked\r\n") }
        if !hasConnection {
            if !keepAlive {
                outbound.appendASCII("Connection: close\r\n")
            } else if minorVersion == 0 {
                outbound.appendASCII("Connection: keep-alive\r\n")
            }
        }
        outbound.appendASCII("\r\n")
        shared.queuedBytes.add(outbound.count - before, ordering: .relaxed)
    }

    func markDirty() {
        guard !isDirty, phase != .closed else { return }
        isDirty = true
        loop.dirty.append(self)
    }

    /// Writes as much queued output as the socket takes; arms `EPOLLOUT` for the rest.
    func flush() {
        isDirty = false
        guard phase != .closed else { return }
        while outboundStart < outbound.count {
            let start = outboundStart
            let sent = outbound.withUnsafeBytes { buffer in
                send(fd, buffer.baseAddress! + start, buffer.count - start, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                outboundStart += sent
                shared.queuedBytes.subtract(sent, ordering: .relaxed)
                loop.core.observer.bytesSent(sent)
                // The client is reading: the keep-alive idle time runs from the last progress, not from when the
                // answer was queued (a large answer to a slow reader was cut off mid-body).
                if deadlineKind == .idle { setDeadline(.idle) }
                continue
            }
            let e = errno
            if sent < 0 && e == EINTR { continue }
            if sent < 0 && (e == EAGAIN || e == EWOULDBLOCK) { break }
            close()  // EPIPE, ECONNRESET, …: the client is gone.
            return
        }
        if outboundStart >= outbound.count {
            outbound.removeAll(keepingCapacity: outbound.capacity <= 1 << 20)
            outboundStart = 0
        } else if outboundStart >= 1 << 16 && outboundStart * 2 >= outbound.count {
            outbound.removeSubrange(0..<outboundStart)
            outboundStart = 0
        }
        if phase == .responding { timeStalledAnswer() }
        notifyWritableIfBelowLowWater()
        resumeReadingAfterBacklog()
        if phase == .closing && outbound.isEmpty {
            startLinger()
        } else {
            updateInterest()
        }
    }

    /// While an answer is still being produced, output the client leaves unread is timed by the idle limit, renewed
    /// by every write it takes (above), as a finished answer's is: a client that stops reading pauses the upstream
    /// transfer (`onWritable` never comes), and until 2026-12-08 one that never read again held the request, its
    /// paused transfer and its account slot for as long as it kept the connection open. Nothing queued: no limit
    /// (the handler may wait on the upstream as long as its own timeouts allow).
    private func timeStalledAnswer() {
        if outboundStart < outbound.count {
            if deadlineKind == .none { setDeadline(.idle) }
        } else if deadlineKind == .idle {
            setDeadline(.none)
        }
    }

    func notifyWritableIfBelowLowWater() {
        guard !writableWaiters.isEmpty,
            shared.queuedBytes.load(ordering: .relaxed) < loop.core.configuration.writeLowWaterMark
        else { return }
        loop.deferred.append(contentsOf: writableWaiters)
        writableWaiters.removeAll()
    }

    /// Answers the client is not reading have piled past `writeHighWaterMark` (pipelined requests answered at once,
    /// pongs to a ping flood): stop reading, so no more are parsed, until they drain. Without it one client that
    /// sent and never read grew the proxy's memory without bound. Returns whether reading is now paused.
    @discardableResult
    func pauseReadingForBacklog() -> Bool {
        guard phase == .reading || phase == .webSocket,
            outbound.count - outboundStart > loop.core.configuration.writeHighWaterMark
        else { return false }
        if !readPaused { loop.core.observer.readingPaused(webSocket: phase == .webSocket) }
        readPaused = true
        updateInterest()
        // Timed like any wait on the client: the idle limit, renewed by every write it takes.
        if phase == .reading { setDeadline(.idle) }
        return true
    }

    /// The backlog drained below `writeLowWaterMark`: read and parse again.
    private func resumeReadingAfterBacklog() {
        guard readPaused, phase == .reading || phase == .webSocket,
            outbound.count - outboundStart < loop.core.configuration.writeLowWaterMark
        else { return }
        readPaused = false
        updateInterest()
        if phase == .webSocket {
            webSocketIngest(UnsafeRawBufferPointer(start: nil, count: 0))  // frames read before the pause
        } else if !isProcessing {
            setDeadline(inboundStart < inbound.count ? .header : .idle)
            processInbound()
        }
    }

    func updateInterest() {
        guard phase != .closed else { return }
        // After the client's half-close both stay off: they are level-triggered and would report it on every wait.
        var wanted = peerHalfClosed ? 0 : sl_epollrdhup()
        if !readPaused && !peerHalfClosed { wanted |= sl_epollin() }
        if outboundStart < outbound.count { wanted |= sl_epollout() }
        guard wanted != registeredEvents else { return }
        registeredEvents = wanted
        _ = sl_epoll_ctl(loop.epollFD, Int32(EPOLL_CTL_MOD), fd, wanted, token)
    }

    /// Everything is written: send FIN and read (discarding) until the client closes or a short deadline.
    private func startLinger() {
        // A client that half-closed has nothing left to send: nothing to linger for.
        if peerHalfClosed { return close() }
        Glibc.shutdown(fd, Int32(SHUT_WR))
        phase = .lingering
        readPaused = false
        lingerBytes = 0
        setDeadline(.closing)
        updateInterest()
    }
}

/// Reason phrases for the status line.
enum HTTPStatus {
    static func reasonPhrase(_ status: Int) -> StaticString {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 499: "Client Closed Request"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status"
        }
    }
}
