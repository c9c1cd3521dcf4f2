import CCurl
import Foundation
import Glibc
import HTTPServer
import LogRedaction

/// The I/O thread of one `UpstreamWebSocket`: connect, handshake, then the poll loop.
/// Confined to that thread; owns the curl easy handle.
final class UpstreamWebSocketIO {
    private let owner: UpstreamWebSocket
    private var handle: UnsafeMutableRawPointer?
    private var fd: Int32 = -1
    private var inbound: [UInt8] = []
    /// The receive buffer, allocated once: a fresh zeroed 16 KiB per wake-up cost a malloc and a memset for
    /// every frame of a paced stream.
    private var receiveBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    private var closeSent = false
    private var finished = false

    init(owner: UpstreamWebSocket) { self.owner = owner }

    func run() {
        defer { if let handle { curl_easy_cleanup(handle) } }
        guard connect() else { return }
        if owner.sendQueueOverflowed { return fail(UpstreamWebSocket.sendQueueFullReason, nil) }
        let key = WebSocketHandshake.makeKey()
        var path = owner.url.path.isEmpty ? "/" : owner.url.path
        if let query = owner.url.query { path += "?" + query }
        let host = owner.url.host.map { h in owner.url.port.map { "\(h):\($0)" } ?? h } ?? "localhost"
        let head = WebSocketHandshake.requestHead(host: host, path: path, key: key, headers: owner.headers)
        guard sendAll(head) else { return fail(sendFailure("handshake_send_failed"), nil) }
        let (status, headers): (Int, HTTPHeaders)
        switch readHead() {
        case .success(let head): (status, headers) = head
        case .failure(let failure): return fail(sendFailure(failure.rawValue), nil)
        }
        if let failure = WebSocketHandshake.validateResponse(status: status, headers: headers, key: key) {
            let refusal =
                status == 101
                ? nil
                : UpstreamHandshakeRefusal(
                    status: status,
                    headers: headers.map { ($0.name, $0.value) },
                    body: readRefusalBody(headers)
                )
            return fail(failure.reason, status, refusal: refusal)
        }
        owner.eventDelegate.didOpen(headers: headers)
        var reader = WebSocketReader(role: .client, maxMessageBytes: owner.maxMessageBytes)
        reader.append(inbound)
        inbound = []
        loop(&reader)
    }

    /// `send_queue_full` when the send queue overflowed (which is why the write or the wait was abandoned),
    /// `otherwise` else.
    private func sendFailure(_ otherwise: String) -> String {
        owner.sendQueueOverflowed ? UpstreamWebSocket.sendQueueFullReason : otherwise
    }

    private func fail(_ reason: String, _ status: Int?, refusal: UpstreamHandshakeRefusal? = nil) {
        guard !finished else { return }
        finished = true
        owner.eventDelegate.didFail(reason: reason, status: status, refusal: refusal)
    }

    /// The body of a refused upgrade, for its error code and reset: by `content-length`, chunked, or up to the
    /// end of the connection; at most `UpstreamHandshakeRefusal.maxBodyBytes`, and whatever arrived within
    /// `bodySeconds` (bounded by the connect timeout) when the rest does not come.
    private func readRefusalBody(_ headers: HTTPHeaders) -> [UInt8] {
        let limit = UpstreamHandshakeRefusal.maxBodyBytes
        let chunked = headers["transfer-encoding"]?.lowercased().contains("chunked") ?? false
        let length = chunked ? nil : headers["content-length"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let want = min(length ?? limit, limit)
        let deadline = MonotonicClock.seconds() + min(owner.connectTimeoutSeconds, UpstreamHandshakeRefusal.bodySeconds)
        var decoder = ChunkedDecoder(maxMetadataBytes: 4096)
        var body: [UInt8] = []
        var open = true
        while true {
            if chunked {
                let (used, result) = inbound.withUnsafeBytes { decoder.decode($0, into: &body, maxBodyBytes: limit) }
                inbound.removeFirst(used)
                if result != .needMore { return body }
            } else if inbound.count >= want || !open {
                return Array(inbound.prefix(want))
            }
            guard open, MonotonicClock.seconds() < deadline, !owner.sendQueueOverflowed else {
                return chunked ? body : Array(inbound.prefix(want))
            }
            _ = wait(Int16(POLLIN), timeoutMs: 50)
            open = drain()
        }
    }

    private func finish(_ code: UInt16, _ reason: String) {
        guard !finished else { return }
        finished = true
        owner.eventDelegate.didClose(code: code, reason: reason)
    }

    private func connect() -> Bool {
        guard let h = curl_easy_init() else {
            fail("curl_init_failed", nil)
            return false
        }
        handle = h
        var components = URLComponents(url: owner.url, resolvingAgainstBaseURL: false)
        if components?.scheme == "wss" { components?.scheme = "https" }
        if components?.scheme == "ws" { components?.scheme = "http" }
        components?.path = "/"
        components?.query = nil
        let target = components?.string ?? owner.url.absoluteString
        _ = sl_easy_setopt_string(h, CURLOPT_URL, target)
        _ = sl_easy_setopt_long(h, CURLOPT_CONNECT_ONLY, 1)
        _ = sl_easy_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = sl_easy_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(owner.connectTimeoutSeconds * 1000))
        // TLS trust and egress exactly as for HTTP transfers (one function sets both).
        var configured = CurlConnectionOptions.apply(owner.clientConfiguration, to: h)
        if owner.clientConfiguration.egressProxy.map({ !$0.isEmpty }) ?? false, configured == CURLE_OK {
            // Through a proxy, the upgrade must travel inside a CONNECT tunnel: without one, CONNECT_ONLY to a
            // `ws://` (plain HTTP) target connects to the proxy itself, which would get our origin-form request.
            configured = sl_easy_setopt_long(h, CURLOPT_HTTPPROXYTUNNEL, 1)
        }
        guard configured == CURLE_OK, curl_easy_perform(h) == CURLE_OK else {
            fail("connect_failed", nil)
            return false
        }
        var socket: curl_socket_t = -1
        guard sl_easy_getinfo_socket(h, CURLINFO_ACTIVESOCKET, &socket) == CURLE_OK, socket >= 0 else {
            fail("no_socket", nil)
            return false
        }
        fd = socket
        return true
    }

    /// Waits for `events` on the socket (and the wake fd); returns the socket's revents, 0 on timeout.
    private func wait(_ events: Int16, timeoutMs: Int32) -> Int16 {
        var fds = [
            pollfd(fd: fd, events: events, revents: 0),
            pollfd(fd: owner.wakeDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        guard poll(&fds, 2, timeoutMs) > 0 else { return 0 }
        if fds[1].revents != 0 {
            var value: UInt64 = 0
            _ = Glibc.read(owner.wakeDescriptor, &value, 8)
        }
        return fds[0].revents
    }

    private func sendAll(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            var n = 0
            let rc = bytes.withUnsafeBytes { curl_easy_send(handle, $0.baseAddress! + offset, $0.count - offset, &n) }
            if rc == CURLE_AGAIN {
                // An upstream that stopped reading blocks us here while frames pile up: give up once they
                // overflow (`send` wakes the wait), or once a close has waited its time (no more frames come
                // then, so the queue can never overflow).
                if owner.sendQueueOverflowed || closeExpired { return false }
                _ = wait(Int16(POLLOUT), timeoutMs: 1000)
                continue
            }
            guard rc == CURLE_OK else { return false }
            offset += n
        }
        return true
    }

    /// Reads everything available into `inbound`, or until it holds `limit` bytes. Returns false at EOF or on
    /// error.
    private func drain(upTo limit: Int = .max) -> Bool {
        while inbound.count < limit {
            var n = 0
            let rc = receiveBuffer.withUnsafeMutableBytes { curl_easy_recv(handle, $0.baseAddress, $0.count, &n) }
            if rc == CURLE_AGAIN { return true }
            guard rc == CURLE_OK, n > 0 else { return false }
            receiveBuffer.withUnsafeBytes { inbound.append(contentsOf: $0[0..<n]) }
        }
        return true
    }

    /// Reads until the response head is complete; a failure reason otherwise (`handshake_no_response`, or
    /// `handshake_too_large` past `UpstreamHandshakeHeadScanner.defaultMaxBytes`). A head that arrived with the
    /// end of the connection still counts: an upstream refusing the upgrade may close right after its answer
    /// (`Connection: close`), and that answer (a 426 that means "use HTTP", a 429 whose body carries the reset)
    /// must not be lost to the EOF that the same read saw. After `close`, the upstream has until the close deadline
    /// to answer, as after an upgrade (`close_timeout`): until 2026-12-08 this wait ran its whole connect timeout for
    /// a socket nobody wanted any more.
    private func readHead() -> Result<(status: Int, headers: HTTPHeaders), HandshakeFailure> {
        let deadline = MonotonicClock.seconds() + owner.connectTimeoutSeconds
        var scanner = UpstreamHandshakeHeadScanner()
        while MonotonicClock.seconds() < deadline, !owner.sendQueueOverflowed {
            if closeExpired { return .failure(.closeTimeout) }
            // No further than the limit: an upstream streaming header lines faster than we read must not keep
            // this drain going.
            let open = drain(upTo: scanner.maxBytes)
            switch scanner.scan(inbound) {
            case .head(let length):
                let head = UpstreamHandshakeHeadScanner.parse(inbound[..<(length - 4)])
                inbound.removeFirst(length)
                return head.map { .success($0) } ?? .failure(.noResponse)
            case .tooLarge:
                return .failure(.tooLarge)
            case .needMore:
                guard open else { return .failure(.noResponse) }
                _ = wait(Int16(POLLIN), timeoutMs: 100)
            }
        }
        return .failure(.noResponse)
    }

    /// Why `readHead` has no head, as the `didFail` reason.
    enum HandshakeFailure: String, Error {
        case noResponse = "handshake_no_response"
        case tooLarge = "handshake_too_large"
        /// `UpstreamWebSocket.closeTimeoutReason`: closed while the upgrade was unanswered.
        case closeTimeout = "close_timeout"
    }

    /// Our close has waited `closeTimeoutSeconds` for the upstream's (see `loop`).
    private var closeExpired: Bool { owner.closeDeadline.map { MonotonicClock.seconds() >= $0 } ?? false }

    /// Hands the messages completed so far to the delegate, before anything that ends the session.
    private func deliver(_ texts: inout [[UInt8]]) {
        guard !texts.isEmpty else { return }
        owner.eventDelegate.didReceiveTexts(texts)
        texts = []
    }

    private func loop(_ reader: inout WebSocketReader) {
        // Monotonic: a wall-clock step back must not stop the pings that keep an idle socket open.
        var nextPing = MonotonicClock.seconds() + owner.pingIntervalSeconds
        while !finished {
            let open = drain()
            reader.append(inbound)
            inbound = []
            var texts: [[UInt8]] = []
            do {
                while let event = try reader.next() {
                    switch event {
                    case .text(let text): texts.append(text)
                    case .binary: break
                    case .ping(let payload): _ = sendAll(WebSocketFrameEncoder.client(.pong, payload))
                    case .pong: break
                    case .close(let code, let reason):
                        deliver(&texts)
                        if !closeSent {
                            let payload = code.map { WebSocketFrameEncoder.closePayload(code: $0, reason: "") } ?? []
                            _ = sendAll(WebSocketFrameEncoder.client(.close, payload))
                        }
                        return finish(code ?? WebSocketCloseCode.noStatus, reason)
                    }
                }
            } catch {
                deliver(&texts)
                let payload = WebSocketFrameEncoder.closePayload(code: error.closeCode, reason: error.reason)
                _ = sendAll(WebSocketFrameEncoder.client(.close, payload))
                return fail("protocol_error_\(error.reason)", nil)
            }
            deliver(&texts)
            guard open else { return finish(WebSocketCloseCode.abnormal, "") }
            let (frames, closing, overflowed) = owner.takeFrames()
            if overflowed { return fail(UpstreamWebSocket.sendQueueFullReason, nil) }
            // Our close ends the session only when the upstream answers it: an upstream that never does (or that
            // stopped reading, so the close frame itself cannot go out) would otherwise keep this thread, its fd
            // and its TLS state forever. The deadline runs from the `close` call, so it also ends a write that
            // was already blocked then.
            for frame in frames where !closeSent {
                guard sendAll(frame.bytes) else {
                    if closeExpired { return finish(WebSocketCloseCode.abnormal, UpstreamWebSocket.closeTimeoutReason) }
                    return fail(sendFailure("send_failed"), nil)
                }
                if let textBytes = frame.textBytes { owner.textWritten?(textBytes) }
            }
            if closing { closeSent = true }
            if closeExpired { return finish(WebSocketCloseCode.abnormal, UpstreamWebSocket.closeTimeoutReason) }
            // No pings once closing: the session is over, and only the upstream's close is awaited.
            if !closeSent, MonotonicClock.seconds() >= nextPing {
                _ = sendAll(WebSocketFrameEncoder.client(.ping, []))
                nextPing = MonotonicClock.seconds() + owner.pingIntervalSeconds
            }
            let until = closeSent ? owner.closeDeadline ?? nextPing : nextPing
            let timeout = max(10, Int32((until - MonotonicClock.seconds()) * 1000))
            _ = wait(Int16(POLLIN), timeoutMs: min(timeout, 1000))
        }
    }
}
