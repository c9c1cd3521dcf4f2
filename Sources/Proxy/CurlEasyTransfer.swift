import CCurl
import Glibc
import LogRedaction

/// One in-flight transfer on its driver's thread (the curl thread or an event loop): its easy handle, the memory libcurl points into (header list,
/// error buffer), the response-head parser, the timers, and the delegate it reports to.
///
/// It configures the handle and turns libcurl callbacks into delegate calls; it does not add itself to the
/// multi handle or decide when it ends: `CurlMultiLoop` does both. It emits nothing.
/// Concurrency: confined to its driver's thread; libcurl reaches it through `Unmanaged` context
/// pointers while `CurlMultiLoop` holds the only strong reference.
final class CurlEasyTransfer {
    let transfer: UpstreamTransfer
    let handle: UnsafeMutableRawPointer
    let delegate: any UpstreamDelegate

    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// The request body, shared with the caller's buffer (no copy). libcurl reads it in place
    /// (`CURLOPT_POSTFIELDS`) until the handle is reset: the array is never mutated, so its storage does not
    /// move, and this object keeps it alive until `release()`, which runs after libcurl let go of the handle.
    private let body: [UInt8]
    private var parser = UpstreamHeadParser()
    private(set) var status: Int?
    private(set) var bytesReceived = 0
    private(set) var isPaused = false

    private let startedAt: UInt64
    private var lastByteAt: UInt64?
    private let firstByteTimeout: UInt64?
    private let idleTimeout: UInt64?

    init(
        transfer: UpstreamTransfer,
        handle: UnsafeMutableRawPointer,
        request: UpstreamRequest,
        delegate: any UpstreamDelegate,
        configuration: UpstreamClientConfiguration
    ) {
        self.transfer = transfer
        self.handle = handle
        self.delegate = delegate
        self.body = request.body
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        self.startedAt = CurlEasyTransfer.now()
        self.firstByteTimeout = Self.nanoseconds(
            request.firstByteTimeoutSeconds ?? configuration.firstByteTimeoutSeconds
        )
        self.idleTimeout = Self.nanoseconds(request.idleTimeoutSeconds ?? configuration.idleTimeoutSeconds)
    }

    /// Loop thread, after the handle left the multi handle and was reset: frees what libcurl pointed into.
    func release() {
        curl_slist_free_all(headerList)
        headerList = nil
        errorBuffer.deallocate()
    }

    // MARK: - libcurl callbacks (driver's thread, inside curl_multi_perform/socket_action or curl_easy_pause)

    func receiveHeaderLine(_ line: UnsafeRawBufferPointer) -> Int {
        lastByteAt = Self.now()
        guard !transfer.cancelRequested.load(ordering: .acquiring) else { return line.count }
        if let head = parser.consume(line) {
            status = head.status
            delegate.upstreamDidReceiveHead(status: head.status, headers: head.headers)
        }
        return line.count
    }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        lastByteAt = Self.coarseNow()
        // Withhold bytes after cancel(); the loop removes the handle on its next command drain.
        if transfer.cancelRequested.load(ordering: .acquiring) { return Int(CURL_WRITEFUNC_PAUSE) }
        deliverHeadIfMissing()
        guard bytes.count > 0 else { return 0 }
        switch delegate.upstreamDidReceive(bytes) {
        case .proceed:
            bytesReceived += bytes.count
            return bytes.count
        case .pause:
            isPaused = true
            return Int(CURL_WRITEFUNC_PAUSE)
        }
    }

    /// A response without a parsable head (should not happen with HTTP/1.1+) still gets one, from libcurl. Not after
    /// `cancel()`: `receiveHeaderLine` withholds the head then, so a body-less answer that completes before the loop
    /// drops the handle had its head handed to a caller that had already let the transfer go.
    func deliverHeadIfMissing() {
        guard status == nil, !transfer.cancelRequested.load(ordering: .acquiring) else { return }
        var code = 0
        _ = sl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        status = code
        delegate.upstreamDidReceiveHead(status: code, headers: [])
    }

    // MARK: - Commands and timers (loop thread, between curl_multi_perform calls)

    func resume() {
        guard isPaused else { return }
        // Cleared first: curl_easy_pause may redeliver synchronously and the delegate may pause again.
        isPaused = false
        lastByteAt = Self.now()
        _ = curl_easy_pause(handle, Int32(CURLPAUSE_CONT))
    }

    /// When this transfer's own timer fires, and which failure it means; `nil` while paused or without timers.
    func deadline() -> (at: UInt64, reason: UpstreamFailure.Reason)? {
        if isPaused { return nil }
        if let lastByteAt {
            return idleTimeout.map { (lastByteAt &+ $0, .idleTimeout) }
        }
        return firstByteTimeout.map { (startedAt &+ $0, .firstByteTimeout) }
    }

    /// The earliest moment after `now` this transfer's timer can fire, whatever arrives meanwhile: for the
    /// driver's next wakeup. Before the first byte, the first-byte deadline or, should a byte come at once,
    /// `now` plus the idle timeout; after it, the idle deadline counted from the last byte (a later byte only
    /// moves it later). So an idle timeout shorter than the first-byte one is met, and the bound is never in
    /// the past unless the transfer's deadline itself has passed (no wakeup loop). Nil while paused or
    /// without timers.
    func earliestDeadline(now: UInt64) -> UInt64? {
        if isPaused { return nil }
        if let lastByteAt { return idleTimeout.map { lastByteAt &+ $0 } }
        let firstByte = firstByteTimeout.map { startedAt &+ $0 }
        let idle = idleTimeout.map { max(now, startedAt) &+ $0 }
        return [firstByte, idle].compactMap { $0 }.min()
    }

    /// Facts for `UpstreamCompletion`; call before the handle is reset.
    func completion() -> UpstreamCompletion {
        func seconds(_ info: CURLINFO) -> Double {
            var micros: curl_off_t = 0
            _ = sl_easy_getinfo_off_t(handle, info, &micros)
            return Double(micros) / 1_000_000
        }
        var sent: curl_off_t = 0
        _ = sl_easy_getinfo_off_t(handle, CURLINFO_SIZE_UPLOAD_T, &sent)
        var newConnections = 0
        _ = sl_easy_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &newConnections)
        return UpstreamCompletion(
            status: status ?? 0,
            bytesReceived: bytesReceived,
            bytesSent: Int(sent),
            totalTime: seconds(CURLINFO_TOTAL_TIME_T),
            connectTime: seconds(CURLINFO_CONNECT_TIME_T),
            timeToFirstByte: seconds(CURLINFO_STARTTRANSFER_TIME_T),
            reusedConnection: newConnections == 0
        )
    }

    /// A failure from a libcurl result code, with libcurl's own message as detail.
    func failure(code: CURLcode) -> UpstreamFailure {
        var detail = String(cString: errorBuffer)
        if detail.isEmpty { detail = String(cString: curl_easy_strerror(code)) }
        let raw = Int(code.rawValue)
        return UpstreamFailure(
            reason: UpstreamFailure.reason(forCurlCode: raw),
            curlCode: raw,
            detail: detail,
            bytesReceived: bytesReceived
        )
    }

    func failure(reason: UpstreamFailure.Reason, detail: String) -> UpstreamFailure {
        UpstreamFailure(reason: reason, detail: detail, bytesReceived: bytesReceived)
    }

    // MARK: - Configuration

    /// Sets every option for `request` on the (fresh or reset) handle. Returns the first failing code.
    func configure(_ request: UpstreamRequest, _ configuration: UpstreamClientConfiguration) -> CURLcode {
        var result = CURLE_OK
        func apply(_ code: CURLcode) { if result == CURLE_OK { result = code } }
        let context = Unmanaged.passUnretained(self).toOpaque()

        apply(sl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        apply(sl_easy_setopt_string(handle, CURLOPT_URL, request.url))
        apply(sl_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        apply(sl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        apply(sl_easy_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, CurlCallbacks.body))
        apply(sl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        apply(sl_easy_setopt_write_function(handle, CURLOPT_HEADERFUNCTION, CurlCallbacks.header))
        apply(sl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context))

        let version = configuration.allowHTTP2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1
        apply(sl_easy_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(version)))
        let connectTimeout = request.connectTimeoutSeconds ?? configuration.connectTimeoutSeconds
        apply(sl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(connectTimeout * 1000))))
        if let total = request.totalTimeoutSeconds, total > 0 {
            apply(sl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, Int(total * 1000))))
        }
        apply(sl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))
        apply(CurlConnectionOptions.apply(configuration, to: handle))
        apply(sl_easy_setopt_long(handle, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1))

        apply(configureMethodAndBody(request))
        let sendsFields = CurlRequestHeaders.sendsFields(method: request.method, bodyIsEmpty: request.body.isEmpty)
        for line in CurlRequestHeaders.lines(for: request.headers, hasBody: sendsFields) {
            guard let appended = curl_slist_append(headerList, line) else { return CURLE_OUT_OF_MEMORY }
            headerList = appended
        }
        apply(sl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
        return result
    }

    private func configureMethodAndBody(_ request: UpstreamRequest) -> CURLcode {
        let method = request.method.uppercased()
        if method == "HEAD" { return sl_easy_setopt_long(handle, CURLOPT_NOBODY, 1) }
        if method == "GET" && request.body.isEmpty { return sl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1) }
        if method != "POST" {
            let code = sl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            if code != CURLE_OK || request.body.isEmpty { return code }
        }
        if request.body.isEmpty {
            let code = sl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, 0)
            return code == CURLE_OK ? sl_easy_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, "") : code
        }
        // libcurl reads the body where it is (`POSTFIELDS`, not `COPYPOSTFIELDS`: no copy of an in-flight
        // history stays with the handle) and rewinds it itself to resend on a dead reused connection. A body
        // under 64 KiB goes out in the same send as the request head: a read callback took one readiness round
        // per upload buffer, three more sends and loop turns for a 48 KB history (docs/benchmarks.md, sixth pass).
        var result = CURLE_OK
        func apply(_ code: CURLcode) { if result == CURLE_OK { result = code } }
        apply(sl_easy_setopt_long(handle, CURLOPT_POST, 1))
        apply(sl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
        apply(
            body.withUnsafeBytes { bytes in
                sl_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
            }
        )
        // libcurl's smallest upload buffer (its default is 64 KiB per handle, kept while the transfer runs),
        // through which it sends a body of 64 KiB or more: 36 MB less with 1000 streams open (docs/benchmarks.md).
        apply(sl_easy_setopt_long(handle, CURLOPT_UPLOAD_BUFFERSIZE, 16 * 1024))
        return result
    }

    // MARK: - Helpers

    /// The project's one monotonic clock (`MonotonicClock`), in nanoseconds, as `coarseNow` reads it too.
    static func now() -> UInt64 { MonotonicClock.now() }

    /// `now()` to within a clock tick (a few ms, never later than `now()`), for stamping every body chunk:
    /// the idle timer it feeds counts seconds, and the precise clock was a visible share of each event.
    static func coarseNow() -> UInt64 {
        var ts = timespec()
        guard clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0 else { return now() }
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    private static func nanoseconds(_ seconds: Double) -> UInt64? {
        seconds > 0 ? UInt64(seconds * 1_000_000_000) : nil
    }
}

/// Not `Sendable`: owned by its driver's thread (see the type's concurrency contract).
@available(*, unavailable)
extension CurlEasyTransfer: Sendable {}
