extension Connection {
    private func owns(_ responder: HTTPResponder) -> Bool { phase == .responding && current === responder }

    private static func statusForbidsBody(_ status: Int) -> Bool {
        status == 204 || status == 304 || (100..<200).contains(status)
    }

    func respond(_ responder: HTTPResponder, status: Int, headers: HTTPHeaders, body: [UInt8]) {
        guard owns(responder), !responseStarted else { return }
        responseStarted = true
        let noBody = Self.statusForbidsBody(status)
        appendHead(status: status, headers: headers, contentLength: noBody ? nil : body.count)
        if !noBody && !isHeadRequest { appendOutbound(body) }
        finishResponse()
    }

    func beginStream(_ responder: HTTPResponder, status: Int, headers: HTTPHeaders) {
        guard owns(responder), !responseStarted else { return }
        responseStarted = true
        var chunked = false
        if Self.statusForbidsBody(status) {
            bodyMode = .discard
        } else if headers.contains("content-length") {
            bodyMode = isHeadRequest ? .discard : .raw
        } else if minorVersion >= 1 {
            bodyMode = isHeadRequest ? .discard : .chunked
            chunked = true
        } else {
            // HTTP/1.0 has no chunked coding: the body ends when the connection does.
            bodyMode = isHeadRequest ? .discard : .closeDelimited
            if !isHeadRequest { keepAlive = false }
        }
        appendHead(status: status, headers: headers, chunked: chunked)
        markDirty()
    }

    /// `bytes.count` was already added to `shared.queuedBytes` by the caller of `HTTPResponder.write`.
    func write(_ responder: HTTPResponder, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write(responder, $0) }
    }

    func write(_ responder: HTTPResponder, _ raw: UnsafeRawBufferPointer) {
        guard owns(responder), responseStarted, bodyMode != .none, bodyMode != .discard else {
            shared.queuedBytes.subtract(raw.count, ordering: .relaxed)
            notifyWritableIfBelowLowWater()
            return
        }
        let bytes = raw.assumingMemoryBound(to: UInt8.self)
        if bodyMode == .chunked {
            let before = outbound.count
            outbound.appendHex(bytes.count)
            outbound.appendASCII("\r\n")
            outbound.append(contentsOf: bytes)
            outbound.appendASCII("\r\n")
            shared.queuedBytes.add(outbound.count - before - bytes.count, ordering: .relaxed)
        } else {
            outbound.append(contentsOf: bytes)
        }
        markDirty()
    }

    func end(_ responder: HTTPResponder) {
        guard owns(responder), responseStarted else { return }
        if bodyMode == .chunked { appendOutbound("0\r\n\r\n") }
        finishResponse()
    }

    func abort(_ responder: HTTPResponder) {
        guard owns(responder) else { return }
        close()
    }

    /// Writes what is queued, then closes without the terminating chunk.
    func abortAfterFlush(_ responder: HTTPResponder) {
        guard owns(responder) else { return }
        current?.settle()
        current = nil
        bodyMode = .none
        keepAlive = false
        phase = .closing
        // Timed as `finishResponse` times it: a client that stops reading cannot hold the connection for good
        // (until 2026-12-07 it could, after a cut stream).
        setDeadline(.idle)
        markDirty()
    }

    func watchWritable(_ callback: @escaping @Sendable () -> Void) {
        writableWaiters.append(callback)
        notifyWritableIfBelowLowWater()
    }

    /// The response is complete in the output buffer: serve the next request or close after writing.
    private func finishResponse() {
        current?.settle()
        current = nil
        bodyMode = .none
        markDirty()
        guard keepAlive && !loop.draining else {
            phase = .closing
            // Timed while its answer goes out: a client that stops reading cannot hold the connection for good.
            setDeadline(.idle)
            return
        }
        phase = .reading
        if readPaused {
            readPaused = false
            updateInterest()
        }
        setDeadline(inboundStart < inbound.count ? .header : .idle)
        if pauseReadingForBacklog() { return }
        if !isProcessing { processInbound() }
    }
}
