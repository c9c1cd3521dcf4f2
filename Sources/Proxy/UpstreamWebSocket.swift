import CCurl
import CSightlineSys
import Foundation
import Glibc
import HTTPServer
import Synchronization

/// Receives what one `UpstreamWebSocket` produces, on its I/O thread (must not block for long).
public protocol UpstreamWebSocketDelegate: AnyObject, Sendable {
    /// The 101 arrived and was validated; `headers` are the upstream's (rate limits, `x-models-etag`, …).
    func didOpen(headers: HTTPHeaders)
    func didReceiveText(_ text: [UInt8])
    /// A close frame ended the session (1006 if TCP ended without one). Called at most once, never after
    /// `didFail`.
    func didClose(code: UInt16, reason: String)
    /// The connection could not be opened or broke. `status` is the handshake's HTTP status when the
    /// upstream answered something other than 101 (a 426 means: fall back to HTTP).
    func didFail(reason: String, status: Int?)
}

/// A client WebSocket to the upstream over libcurl `CONNECT_ONLY` (TCP + TLS by curl, certificate
/// verified), with our own RFC 6455 handshake and framing (swift-on-linux-notes §4).
///
/// One dedicated thread per connection: it connects, sends the upgrade with the caller's headers
/// (authorization, `chatgpt-account-id`, `OpenAI-Beta: responses_websockets=2026-02-06`, …), then polls the
/// socket and an `eventfd` that `send`/`close` use to wake it, always draining `curl_easy_recv` until
/// `CURLE_AGAIN` before polling (OpenSSL may hold decrypted bytes). Sends a ping every `pingIntervalSeconds`.
/// Does not reconnect, retry or fall back: the caller decides from `didFail`/`didClose`.
/// Concurrency: `Sendable`; the send queue is a `Mutex`, everything else is confined to the I/O thread.
public final class UpstreamWebSocket: Sendable {
    private struct Outbox {
        var frames: [[UInt8]] = []
        var closing = false
    }

    public let url: URL
    public let headers: HTTPHeaders
    public let pingIntervalSeconds: Double
    public let connectTimeoutSeconds: Double
    public let maxMessageBytes: Int
    private let delegate: any UpstreamWebSocketDelegate
    private let outbox = Mutex(Outbox())
    private let wakeFD: Int32

    public init(
        url: URL,
        headers: HTTPHeaders,
        delegate: any UpstreamWebSocketDelegate,
        pingIntervalSeconds: Double = 20,
        connectTimeoutSeconds: Double = 15,
        maxMessageBytes: Int = 64 << 20
    ) {
        self.url = url
        self.headers = headers
        self.delegate = delegate
        self.pingIntervalSeconds = pingIntervalSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.maxMessageBytes = maxMessageBytes
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
    }

    deinit { Glibc.close(wakeFD) }

    /// Starts the I/O thread. Call once.
    public func start() {
        let thread = Thread { [self] in UpstreamWebSocketIO(owner: self).run() }
        thread.name = "sightline-upstream-ws"
        thread.start()
    }

    /// Queues one text message (masked on the wire).
    public func send(text: [UInt8]) { enqueue(WebSocketFrameEncoder.client(.text, text)) }

    /// Sends a close frame; the thread ends when the upstream answers (or on EOF).
    public func close(code: UInt16 = WebSocketCloseCode.normal, reason: String = "") {
        let frame = WebSocketFrameEncoder.client(.close, WebSocketFrameEncoder.closePayload(code: code, reason: reason))
        let queued = outbox.withLock { o -> Bool in
            guard !o.closing else { return false }
            o.closing = true
            o.frames.append(frame)
            return true
        }
        if queued { wake() }
    }

    private func enqueue(_ frame: [UInt8]) {
        let queued = outbox.withLock { o -> Bool in
            guard !o.closing else { return false }
            o.frames.append(frame)
            return true
        }
        if queued { wake() }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    // MARK: For the I/O thread

    func takeFrames() -> (frames: [[UInt8]], closing: Bool) {
        outbox.withLock { o in
            defer { o.frames.removeAll() }
            return (o.frames, o.closing)
        }
    }

    var wakeDescriptor: Int32 { wakeFD }
    var eventDelegate: any UpstreamWebSocketDelegate { delegate }
}
