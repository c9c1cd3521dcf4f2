import CCurl
import CSightlineSys
import Foundation
import Glibc
import HTTPServer
import LogRedaction
import Metrics
import Synchronization

/// Receives what one `UpstreamWebSocket` produces, on its I/O thread (must not block for long).
public protocol UpstreamWebSocketDelegate: AnyObject, Sendable {
    /// The 101 arrived and was validated; `headers` are the upstream's (rate limits, `x-models-etag`, …).
    func didOpen(headers: HTTPHeaders)
    /// The text messages one wake-up of the I/O thread completed, in order. One call per read, not per
    /// message: an unpaced stream arrives hundreds of frames at a time, and a hand-off per frame to another
    /// thread cost more than everything else the proxy does with it (docs/benchmarks.md, fifth pass).
    func didReceiveTexts(_ texts: [[UInt8]])
    /// A close frame ended the session. 1006 if TCP ended without one, or if the upstream did not answer our
    /// `close` within `closeTimeoutSeconds` (reason `close_timeout`; the connection is then dropped). Called at
    /// most once, never after `didFail`.
    func didClose(code: UInt16, reason: String)
    /// The connection could not be opened or broke. `status` is the handshake's HTTP status when the
    /// upstream answered something other than 101 (a 426 means: fall back to HTTP), and `refusal` that whole
    /// answer (its headers and body carry a 429's reset).
    func didFail(reason: String, status: Int?, refusal: UpstreamHandshakeRefusal?)
}

/// A client WebSocket to the upstream over libcurl `CONNECT_ONLY` (TCP + TLS by curl, certificate
/// verified), with our own RFC 6455 handshake and framing (swift-on-linux-notes §4). TLS trust (`caFile`,
/// `verifyTLS`) and egress (`egressProxy`, never the `http_proxy` environment) come from the same
/// `UpstreamClientConfiguration` as the proxy's HTTP transfers, applied by the same `CurlConnectionOptions`.
///
/// One dedicated thread per connection: it connects, sends the upgrade with the caller's headers
/// (authorization, `chatgpt-account-id`, `OpenAI-Beta: responses_websockets=2026-02-06`, …), then polls the
/// socket and an `eventfd` that `send`/`close` use to wake it, always draining `curl_easy_recv` until
/// `CURLE_AGAIN` before polling (OpenSSL may hold decrypted bytes). Sends a ping every `pingIntervalSeconds`
/// until it closes. After `close`, the upstream has `closeTimeoutSeconds` (2 s by default, as the server side
/// gives a client) to answer with its close frame; then the connection is dropped and the delegate gets
/// `didClose(code: 1006, reason: "close_timeout")`, so a stalled upstream cannot keep the thread alive. Closed
/// before its upgrade was answered, it waits for the 101 as long, then reports `didFail(reason: "close_timeout")`.
/// Does not reconnect, retry or fall back: the caller decides from `didFail`/`didClose`.
///
/// The send queue is bounded: frames wait there while the thread connects, handshakes, or is blocked
/// writing to an upstream that stopped reading. A `send` that would take it above `maxQueuedBytes` (64 MiB by
/// default: four downstream messages at their 16 MiB limit; a session sends one turn at a time) is refused, the
/// queued frames are dropped, and the socket fails with `didFail(reason: "send_queue_full", status: nil)`
/// as soon as the thread notices (at once if it is blocked writing; after the connect timeout at worst).
/// Emits: `sendQueueOverflows` (`sightline_websocket_send_queue_overflows_total`) +1 per socket failed so.
/// Concurrency: `Sendable`; the send queue is a `Mutex`, everything else is confined to the I/O thread.
public final class UpstreamWebSocket: Sendable {
    /// One encoded frame waiting for the I/O thread, and its text payload's size (nil for a control frame).
    struct QueuedFrame {
        var bytes: [UInt8]
        var textBytes: Int?
    }

    private struct Outbox {
        var frames: [QueuedFrame] = []
        var bytes = 0
        var closing = false
        var overflowed = false
        /// When `close` was called, on the monotonic clock.
        var closeCalledAt: Double?
    }

    /// The `didFail` reason when a `send` exceeded `maxQueuedBytes`.
    public static let sendQueueFullReason = "send_queue_full"
    /// The `didClose` reason (code 1006) when the upstream did not answer our close in `closeTimeoutSeconds`.
    public static let closeTimeoutReason = "close_timeout"

    public let url: URL
    public let headers: HTTPHeaders
    public let pingIntervalSeconds: Double
    public let connectTimeoutSeconds: Double
    /// How long after `close` the upstream's close frame is waited for.
    public let closeTimeoutSeconds: Double
    public let maxMessageBytes: Int
    /// Bytes of encoded frames waiting for the I/O thread above which `send` fails the socket.
    public let maxQueuedBytes: Int
    /// The HTTP client's settings; only its TLS and egress ones are read (`CurlConnectionOptions`), the
    /// timeouts here are the socket's own.
    public let clientConfiguration: UpstreamClientConfiguration
    private let sendQueueOverflows: Counter?
    /// Called on the I/O thread with a text message's payload size once its frame is written: a frame that
    /// `close` drops, or that a failed socket never writes, is not sent (until 2026-12-08 the link counted a
    /// message as sent when it was queued).
    let textWritten: (@Sendable (Int) -> Void)?
    private let delegate: any UpstreamWebSocketDelegate
    private let outbox = Mutex(Outbox())
    private let wakeFD: Int32

    public init(
        url: URL,
        headers: HTTPHeaders,
        delegate: any UpstreamWebSocketDelegate,
        pingIntervalSeconds: Double = 20,
        connectTimeoutSeconds: Double = 15,
        closeTimeoutSeconds: Double = 2,
        maxMessageBytes: Int = 64 << 20,
        maxQueuedBytes: Int = 64 << 20,
        clientConfiguration: UpstreamClientConfiguration = UpstreamClientConfiguration(),
        sendQueueOverflows: Counter? = nil,
        textWritten: (@Sendable (Int) -> Void)? = nil
    ) {
        self.url = url
        self.headers = headers
        self.delegate = delegate
        self.pingIntervalSeconds = pingIntervalSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.closeTimeoutSeconds = closeTimeoutSeconds
        self.maxMessageBytes = maxMessageBytes
        self.maxQueuedBytes = maxQueuedBytes
        self.clientConfiguration = clientConfiguration
        self.sendQueueOverflows = sendQueueOverflows
        self.textWritten = textWritten
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
    }

    deinit { Glibc.close(wakeFD) }

    /// Starts the I/O thread. Call once.
    public func start() {
        let thread = Thread { [self] in UpstreamWebSocketIO(owner: self).run() }
        thread.name = "sightline-upstream-ws"
        thread.start()
    }

    /// Queues one text message (masked on the wire). False when nothing was queued: the socket is closing or
    /// has failed, or this frame would take the queue above `maxQueuedBytes` (then the socket fails with
    /// `send_queue_full`; see the type's comment).
    @discardableResult
    public func send(text: [UInt8]) -> Bool {
        let frame = WebSocketFrameEncoder.client(.text, text)
        let (queued, overflowed) = outbox.withLock { o -> (Bool, Bool) in
            guard !o.closing else { return (false, false) }
            guard o.bytes + frame.count <= maxQueuedBytes else {
                o.overflowed = true
                o.closing = true
                o.frames.removeAll()
                o.bytes = 0
                return (false, true)
            }
            o.frames.append(QueuedFrame(bytes: frame, textBytes: text.count))
            o.bytes += frame.count
            return (true, false)
        }
        if overflowed { sendQueueOverflows?.increment() }
        if queued || overflowed { wake() }
        return queued
    }

    /// Sends a close frame; the thread ends when the upstream answers, on EOF, or `closeTimeoutSeconds` later.
    /// Frames still queued are dropped, not sent before it: a socket is closed when its link is retired (the
    /// client left, a pin reset, silence), and a `response.create` queued while the upgrade was in progress
    /// would otherwise start a turn upstream for nobody, or a second one beside its replacement (until 2026-12-07
    /// it went out as soon as the 101 came).
    public func close(code: UInt16 = WebSocketCloseCode.normal, reason: String = "") {
        let frame = WebSocketFrameEncoder.client(.close, WebSocketFrameEncoder.closePayload(code: code, reason: reason))
        let queued = outbox.withLock { o -> Bool in
            guard !o.closing else { return false }
            o.closing = true
            o.closeCalledAt = MonotonicClock.seconds()
            o.frames.removeAll()
            o.bytes = 0
            o.frames.append(QueuedFrame(bytes: frame, textBytes: nil))
            return true
        }
        if queued { wake() }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    // MARK: For the I/O thread

    func takeFrames() -> (frames: [QueuedFrame], closing: Bool, overflowed: Bool) {
        outbox.withLock { o in
            defer {
                o.frames.removeAll()
                o.bytes = 0
            }
            return (o.frames, o.closing, o.overflowed)
        }
    }

    /// Encoded bytes waiting in the send queue (for tests).
    var queuedByteCount: Int { outbox.withLock { $0.bytes } }

    /// When the thread stops waiting for the upstream's close (`closeTimeoutSeconds` after `close`); nil before
    /// `close`. Read by a write blocked on the upstream too, which `close` wakes.
    var closeDeadline: Double? { outbox.withLock { $0.closeCalledAt }.map { $0 + closeTimeoutSeconds } }

    /// A `send` exceeded `maxQueuedBytes`: the thread stops writing and fails the socket.
    var sendQueueOverflowed: Bool { outbox.withLock { $0.overflowed } }

    var wakeDescriptor: Int32 { wakeFD }
    var eventDelegate: any UpstreamWebSocketDelegate { delegate }
}
